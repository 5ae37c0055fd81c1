"""`pylon-trace create` and `pylon-trace controller`: the seeds' walkthrough on a new project.

The generated project is never installed: its directory goes on PYTHONPATH, where the
``Analysis.egg-info`` that `create` writes (as `paster create` did) lets PasteDeploy
resolve ``use = egg:Analysis`` exactly as development.ini says it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pylon_trace.cli import main
from scaffold.names import controller_names, project_names

SEED_INDEX = b'<h1>Welcome to the Analysis Demo</h1>Here is a <a href="/page2">link</a>.'
SEED_PAGE2 = b'Thank you for using the Analysis Demo. <a href="/">Home</a>'

# Step 2 of the Pylons 1.0 seed, in the text it gives.
SEED_MAIN_PY = """\
from analysis.lib.base import BaseController

class MainController(BaseController):

    def index(self):
        return '<h1>Welcome to the Analysis Demo</h1>Here is a <a href="/page2">link</a>.'

    def page2(self):
        return 'Thank you for using the Analysis Demo. <a href="/">Home</a>'
"""
SEED_ROUTES = (
    '    map.connect("home", "/", controller="main", action="index")\n'
    '    map.connect("page2", "/page2", controller="main", action="page2")\n'
)

EXPECTED_TREE = {
    "Analysis.egg-info/PKG-INFO",
    "Analysis.egg-info/entry_points.txt",
    "Analysis.egg-info/top_level.txt",
    "README.md",
    "development.ini",
    "pyproject.toml",
    "test.ini",
    "analysis/__init__.py",
    "analysis/config/__init__.py",
    "analysis/config/environment.py",
    "analysis/config/middleware.py",
    "analysis/config/routing.py",
    "analysis/controllers/__init__.py",
    "analysis/controllers/error.py",
    "analysis/lib/__init__.py",
    "analysis/lib/app_globals.py",
    "analysis/lib/base.py",
    "analysis/lib/helpers.py",
    "analysis/public/index.html",
    "analysis/public/style.css",
    "analysis/templates/base.mako",
    "analysis/tests/__init__.py",
    "analysis/tests/functional/__init__.py",
    "analysis/tests/functional/test_error.py",
}


def create(tmp_path: Path, name: str = "Analysis") -> Path:
    assert main(["create", name, "--output-dir", str(tmp_path)]) == 0
    return tmp_path / name


def files_under(root: Path) -> set[str]:
    return {path.relative_to(root).as_posix() for path in root.rglob("*") if path.is_file()}


def run_project_tests(project: Path) -> subprocess.CompletedProcess:
    """The generated project's own test suite, run as its author would run it."""
    env = {**os.environ, "PYTHONPATH": str(project)}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "ignore"],
        cwd=project, env=env, capture_output=True, text=True, timeout=120,
    )


def test_names_are_derived_the_way_paster_did() -> None:
    names = project_names("Analysis")
    assert (names.project, names.package, names.egg_info) == ("Analysis", "analysis", "Analysis")
    names = project_names("My-Shop.v2")
    assert (names.package, names.egg_info) == ("my_shop_v2", "My_Shop.v2")
    assert project_names("Root").logger == "app"  # [logger_root] belongs to logging
    assert controller_names("user-admin") == controller_names("user_admin")
    assert controller_names("user_admin").class_name == "UserAdminController"


def test_create_writes_the_pylons_layout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    project = create(tmp_path)
    assert files_under(project) == EXPECTED_TREE
    out = capsys.readouterr().out
    assert "created project Analysis (package analysis)" in out

    ini = (project / "development.ini").read_text()
    for line in ("use = egg:Paste#http", "host = 127.0.0.1", "port = 5000",
                 "use = egg:Analysis", "full_stack = true", "static_files = true",
                 "cache_dir = %(here)s/data", "beaker.session.key = analysis",
                 "[logger_analysis]", "qualname = analysis"):
        assert line in ini.splitlines(), line
    assert "use = config:development.ini" in (project / "test.ini").read_text()
    pyproject = (project / "pyproject.toml").read_text()
    assert 'main = "analysis.config.middleware:make_app"' in pyproject
    assert '"pylon-trace>=' in pyproject
    routing = (project / "analysis/config/routing.py").read_text().splitlines()
    assert routing[20] == "    # CUSTOM ROUTES HERE"  # "(line 21)", as the seed says
    # No placeholder survived rendering.
    for relative in EXPECTED_TREE:
        assert "{{" not in (project / relative).read_text(), relative


def test_generated_project_is_lint_clean_and_its_tests_pass(tmp_path: Path) -> None:
    project = create(tmp_path)
    lint = subprocess.run(
        [str(Path(sys.executable).parent / "ruff"), "check", "--isolated", "--no-cache",
         "--select", "E,F,W,I,B,UP", "--target-version", "py311", "."],
        # From the project directory, so that "analysis" is its first-party package
        # and "framework" a third-party one, as for the project's author.
        cwd=project, capture_output=True, text=True, timeout=60,
    )
    assert lint.returncode == 0, lint.stdout + lint.stderr
    result = run_project_tests(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 passed" in result.stdout


def test_seed_walkthrough_serves_the_seed_pages(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture, serve
) -> None:
    # 1. paster create -t pylons Analysis; cd Analysis; paster controller main
    project = create(tmp_path)
    monkeypatch.chdir(project)
    capsys.readouterr()
    assert main(["controller", "main"]) == 0
    out = capsys.readouterr().out
    assert 'map.connect("main", "/main", controller="main", action="index")' in out
    controller = project / "analysis/controllers/main.py"
    assert "class MainController(BaseController):" in controller.read_text()
    assert (project / "analysis/tests/functional/test_main.py").is_file()

    # 2. analysis/controllers/main.py gets the two actions.
    controller.write_text(SEED_MAIN_PY)
    # 3. The two routes go after "CUSTOM ROUTES HERE".
    routing = project / "analysis/config/routing.py"
    text = routing.read_text()
    marker = "    # CUSTOM ROUTES HERE\n"
    routing.write_text(text.replace(marker, marker + "\n" + SEED_ROUTES, 1))
    # 4. Delete analysis/public/index.html.
    (project / "analysis/public/index.html").unlink()

    # 5. paster serve development.ini, here over real HTTP on a free port.
    server = serve(project / "development.ini", "--no-trace", env={"PYTHONPATH": str(project)})
    assert server.request("/")[::2] == (200, SEED_INDEX)
    assert server.request("/page2")[::2] == (200, SEED_PAGE2)
    status, headers, _ = server.request("/style.css")
    assert (status, headers["content-type"].split(";")[0]) == (200, "text/css")
    status, _, body = server.request("/no/such/page/here")
    assert status == 404 and b"<h1>Error 404</h1>" in body  # the ErrorController's page
    assert server.stop() == 0
    assert "Traceback" not in "".join(server.output)

    # The project's own tests, test_main.py included, still pass after the edits.
    result = run_project_tests(project)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 passed" in result.stdout


def test_controller_is_found_from_a_subdirectory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    project = create(tmp_path, "Shop")
    monkeypatch.chdir(project / "shop" / "controllers")
    assert main(["controller", "user-admin"]) == 0
    module = project / "shop/controllers/user_admin.py"
    assert "class UserAdminController(BaseController):" in module.read_text()
    test_module = (project / "shop/tests/functional/test_user_admin.py").read_text()
    assert "from shop.tests import TestController, url" in test_module
    assert 'url(controller="user_admin", action="index")' in test_module


def test_controller_without_a_tests_package_writes_only_the_controller(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    # Like sample_app: a project whose package has no tests/ (no TestController).
    project = create(tmp_path)
    shutil.rmtree(project / "analysis" / "tests")
    monkeypatch.chdir(project)
    capsys.readouterr()
    assert main(["controller", "main"]) == 0
    assert "no test written" in capsys.readouterr().out
    assert (project / "analysis/controllers/main.py").is_file()
    assert not (project / "analysis/tests").exists()
