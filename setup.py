"""Only the optional C extension lives here; everything else is in pyproject.toml.

``optional=True``: without a C compiler (or Python headers) the build of the extension
fails with a warning and the install still succeeds; tracer.recorder then uses the
pure-Python recorder.
"""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "tracer._crecorder",
            sources=["tracer/_crecorder.c"],
            depends=["tracer/_crecorder_spans.c"],
            extra_compile_args=["-std=c99", "-O2", "-Wall", "-Wextra", "-Wno-unused-parameter",
                                "-Wno-missing-field-initializers"],
            optional=True,
        )
    ],
)
