"""Project and controller generators: `pylon-trace create` and `pylon-trace controller`.

The Python 3 counterparts of ``paster create -t pylons NAME`` and ``paster controller
NAME``, the two commands both execution-analysis seeds start from. The generated files
are kept as templates under ``scaffold/templates/`` (see :mod:`scaffold.render`).
"""
