"""`pylon-trace serve`: real server over real HTTP, clean shutdown, and bad input."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PYLON_TRACE, REPO, SAMPLE_INI


def run_cli(*args: str, cwd: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(PYLON_TRACE), *args], capture_output=True, text=True,
                          timeout=timeout, cwd=str(cwd))


def test_serve_answers_over_http_and_stops_cleanly(serve) -> None:
    server = serve(SAMPLE_INI)
    status, headers, body = server.request("/")
    assert status == 200
    assert body == b'<h1>Welcome to the Analysis Demo</h1>Here is a <a href="/page2">link</a>.'
    assert headers["server"].startswith("PasteWSGIServer/")
    status, _, body = server.request("/page2")
    assert body == b'Thank you for using the Analysis Demo. <a href="/">Home</a>'
    assert server.stop(signal.SIGTERM) == 0
    output = "".join(server.output)
    assert "Traceback" not in output
    assert "traces written" in output


def test_serve_without_tracing_stops_on_sigint(serve) -> None:
    server = serve(SAMPLE_INI, "--no-trace")
    status, headers, _ = server.request("/page2")
    assert status == 200
    assert "x-pylon-trace-id" not in headers
    assert server.stop(signal.SIGINT) == 0
    assert not server.trace_dir.exists()
    assert "Traceback" not in "".join(server.output)


@pytest.mark.parametrize("ini_text, message", [
    ("[app:main]\nuse = egg:pylon-trace\ncache_dir = /tmp\n", "server"),
    ("[server:main]\nuse = egg:Paste#http\n", "app"),
    ("[server:main]\nuse = egg:NoSuchEggAnywhere#http\n[app:main]\nuse = egg:pylon-trace\n",
     "NoSuchEggAnywhere"),
    ("[server:main]\nuse = egg:Paste#nosuchentry\n[app:main]\nuse = egg:pylon-trace\n",
     "nosuchentry"),
    ("[server:main]\nuse = egg:Paste#http\nthreadpool_workers = lots\n"
     "[app:main]\nuse = egg:pylon-trace\ncache_dir = /tmp/pt\n", "lots"),
    ("this is not an ini file\n", "config"),
])
def test_bad_config_gives_one_line_and_exit_2(tmp_path: Path, ini_text: str,
                                              message: str) -> None:
    ini = tmp_path / "bad.ini"
    ini.write_text(ini_text)
    result = run_cli("serve", str(ini), "--port", "0", "--trace-dir", str(tmp_path / "t"))
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("pylon-trace: error:")
    assert message in lines[0]
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_ini_and_bad_port_option(tmp_path: Path) -> None:
    result = run_cli("serve", str(tmp_path / "missing.ini"))
    assert result.returncode == 2
    assert "no such config file" in result.stderr
    result = run_cli("serve", str(SAMPLE_INI), "--port", "99999")
    assert result.returncode == 2
    assert "port out of range" in result.stderr


def test_port_in_use(tmp_path: Path) -> None:
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    try:
        result = run_cli("serve", str(SAMPLE_INI), "--port", str(port), "--trace-dir",
                         str(tmp_path / "t"))
    finally:
        busy.close()
    assert result.returncode == 2
    assert result.stderr.strip() == f"pylon-trace: error: 127.0.0.1:{port}: address already in use"


def test_cli_usage_errors_are_one_line() -> None:
    result = run_cli("frobnicate")
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    result = subprocess.run([sys.executable, "-m", "pylon_trace.cli", "--version"],
                            capture_output=True, text=True, cwd=str(REPO))
    assert result.returncode == 0 and "pylon-trace" in result.stdout


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize("tracing", [(), ("--no-trace",)])
def test_signal_stops_with_an_idle_keepalive_client_and_a_request_in_flight(
        tmp_path: Path, tracing: tuple[str, ...], sig: int) -> None:
    import http.client
    import threading
    import time

    from tests.conftest import start_serve

    ini = tmp_path / "keepalive.ini"
    ini.write_text(SAMPLE_INI.read_text()
                   .replace("[server:main]", "[server:main]\nprotocol_version = HTTP/1.1")
                   .replace("%(here)s", str(SAMPLE_INI.parent)))
    server = start_serve(ini, tmp_path / "traces", *tracing)
    idle = http.client.HTTPConnection(server.host, server.port, timeout=30)
    idle.request("GET", "/page2")
    assert idle.getresponse().read()  # the connection now stays open, idle
    slow: list[int] = []

    def slow_request() -> None:
        status, _, _ = server.request("/stream")
        slow.append(status)

    thread = threading.Thread(target=slow_request)
    thread.start()
    time.sleep(0.2)
    started = time.monotonic()
    assert server.stop(sig) == 0
    assert time.monotonic() - started < 20
    thread.join(10)
    idle.close()
    assert "Traceback" not in "".join(server.output)
    if not tracing:
        leftovers = [p.name for p in (tmp_path / "traces").iterdir()
                     if p.name.startswith(".tmp")]
        assert not leftovers
