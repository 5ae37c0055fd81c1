"""Names derived from what the user typed: distribution, package, controller, class.

The rules follow ``paster create`` and ``paster controller``: the project name is
the distribution name as typed ("Analysis"), the package is its lower-cased,
identifier-safe form ("analysis"), and a controller module "user_admin" holds the
class ``UserAdminController``.
"""

from __future__ import annotations

import keyword
import re
import sys
from dataclasses import dataclass

from framework.wsgiapp import class_name_from_module_name
from scaffold.errors import ScaffoldError

# A distribution name (PEP 508: letters, digits, ".", "-", "_", alphanumeric at both
# ends) that also starts with a letter, so that the package name is an identifier.
_PROJECT_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")

# Top-level names a generated project imports or runs next to; a package called one
# of these would shadow it as soon as the project directory is on sys.path.
_TAKEN_PACKAGES = frozenset({
    "framework", "pylon_trace", "tracer", "reports", "scaffold", "sample_app",
    "paste", "webob", "routes", "beaker", "mako", "markupsafe", "webtest", "pytest",
    "tests", "test", "setuptools", "pkg_resources",
})

_CONTROLLER_NAME = re.compile(r"[a-z][a-z0-9_]*\Z")


@dataclass(frozen=True)
class ProjectNames:
    """Every name a new project's files are written with."""

    project: str   # distribution name, as in "use = egg:Analysis"
    package: str   # importable package, as in "analysis.config.middleware"
    egg_info: str  # the metadata directory name setuptools would choose
    logger: str    # the [logger_*] section; "root" is already taken by logging


def project_names(name: str) -> ProjectNames:
    """Check ``name`` and derive the package and other names from it."""
    if not name:
        raise ScaffoldError("the project name is empty")
    if "/" in name or "\\" in name or name in (".", ".."):
        raise ScaffoldError(
            f"invalid project name {name!r}: give a name, not a path "
            "(--output-dir chooses where the project is written)"
        )
    if not _PROJECT_NAME.match(name):
        raise ScaffoldError(
            f"invalid project name {name!r}: start with a letter and use only letters, "
            "digits, '.', '-' and '_', ending with a letter or digit"
        )
    package = re.sub(r"\W", "_", name.lower(), flags=re.ASCII)
    if keyword.iskeyword(package):
        raise ScaffoldError(f"invalid project name {name!r}: {package!r} is a Python keyword")
    if package in sys.stdlib_module_names or package in _TAKEN_PACKAGES:
        raise ScaffoldError(
            f"invalid project name {name!r}: its package {package!r} would shadow the "
            f"module of the same name; choose another name"
        )
    return ProjectNames(
        project=name,
        package=package,
        egg_info=name.replace("-", "_"),
        logger="app" if package == "root" else package,
    )


@dataclass(frozen=True)
class ControllerNames:
    module: str      # "user_admin": the file, the routing name and the URL
    class_name: str  # "UserAdminController", the class PylonsApp looks for


def controller_names(name: str) -> ControllerNames:
    """Check a controller name; "user-admin" is accepted as "user_admin", as paster did."""
    module = name.replace("-", "_")
    if not _CONTROLLER_NAME.match(module):
        raise ScaffoldError(
            f"invalid controller name {name!r}: use a lowercase Python identifier "
            "such as main or user_admin"
        )
    if keyword.iskeyword(module):
        raise ScaffoldError(f"invalid controller name {name!r}: it is a Python keyword")
    # Resolution goes through the framework's own rule, so the class written here is
    # the class PylonsApp.find_controller will look for.
    return ControllerNames(module, class_name_from_module_name(module) + "Controller")
