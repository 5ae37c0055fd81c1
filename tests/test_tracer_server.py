"""The tracer against a real `pylon-trace serve` of the sample app over real HTTP."""

from __future__ import annotations

import os
import stat
import threading
from pathlib import Path

from tests.conftest import REPO, span_names, stage_names
from tracer.trace_format import REQUEST_STAGES, validate

SEEDS_CHAIN = [
    "paste.httpserver.WSGIServerBase.get_request",
    "socket.socket.accept",
    "paste.httpserver.ThreadPoolMixIn.process_request",
    "paste.httpserver.ThreadPool.add_task",
    "paste.httpserver.ThreadPoolMixIn.process_request.<locals>.<lambda>",
    "paste.httpserver.ThreadPoolMixIn.process_request_in_thread",
    "socketserver.BaseServer.finish_request",
    "paste.httpserver.WSGIHandler.handle",
    "paste.httpserver.WSGIHandler.handle_one_request",
    "http.server.BaseHTTPRequestHandler.parse_request",
    "paste.httpserver.WSGIHandlerMixin.wsgi_execute",
    "paste.httpserver.WSGIHandlerMixin.wsgi_setup",
    "paste.cascade.Cascade.__call__",
    "paste.urlparser.StaticURLParser.__call__",
    "paste.registry.RegistryManager.__call__",
    "framework.middleware.StatusCodeRedirect.__call__",
    "framework.middleware.ErrorHandler.__call__",
    "beaker.middleware.SessionMiddleware.__call__",
    "routes.middleware.RoutesMiddleware.__call__",
    "framework.wsgiapp.PylonsApp.__call__",
    "framework.wsgiapp.PylonsApp.setup_app_env",
    "framework.wsgiapp.PylonsApp.resolve",
    "framework.wsgiapp.PylonsApp.dispatch",
    "framework.controllers.core.WSGIController.__call__",
    "sample_app.controllers.main.MainController.page2",
    "paste.httpserver.WSGIHandlerMixin.wsgi_write_chunk",
    "socketserver.TCPServer.close_request",
]


def assert_in_order(names: list[str], expected: list[str]) -> None:
    position = 0
    for name in expected:
        try:
            position = names.index(name, position) + 1
        except ValueError:
            raise AssertionError(f"{name} missing after position {position}") from None


def first_occurrences(stages: list[str]) -> list[str]:
    seen: list[str] = []
    for stage in stages:
        if stage not in seen:
            seen.append(stage)
    return seen


def test_page2_trace_follows_the_seeds_chain_and_every_stage(serve) -> None:
    server = serve()
    status, headers, body = server.request("/page2")
    assert status == 200
    assert body == b'Thank you for using the Analysis Demo. <a href="/">Home</a>'
    trace = server.trace(headers["x-pylon-trace-id"])
    validate(trace)
    assert trace["kind"] == "request" and trace["source"] == "server"
    assert_in_order(span_names(trace), SEEDS_CHAIN)
    assert first_occurrences(stage_names(trace)) == list(REQUEST_STAGES)
    # accept and queue run on the accepting thread, the rest on a worker
    roles = {t["id"]: t["role"] for t in trace["threads"]}
    by_stage = {s["name"]: s for s in trace["stages"]}
    assert roles[by_stage["accept"]["thread"]] == "accept"
    assert roles[by_stage["controller"]["thread"]] == "worker"
    # the worker's return to the pool closes the trace
    assert trace["stages"][-1]["name"] == "return"
    callback = [s for s in trace["spans"]
                if s["name"] == "paste.httpserver.ThreadPool.worker_thread_callback"]
    assert callback and callback[0]["end_ns"] == trace["duration_ns"]
    assert trace["request"]["path"] == "/page2"
    assert trace["response"]["status_code"] == 200
    assert trace["response"]["body_bytes"] == len(body)
    names = [layer["name"] for layer in trace["layers"]]
    assert names == ["Cascade", "StaticURLParser", "RegistryManager", "StatusCodeRedirect",
                     "ErrorHandler", "SessionMiddleware", "RoutesMiddleware", "PylonsApp"]
    routes = trace["layers"][names.index("RoutesMiddleware")]
    assert "wsgiorg.routing_args" in routes["environ"]["added"]
    stages = [s["stage"] for s in trace["spans"]
              if s["name"] == "sample_app.controllers.main.MainController.page2"]
    assert stages == ["controller"]


def test_error_paths_show_the_way_they_took(serve) -> None:
    server = serve()
    status, headers, body = server.request("/no/such/page")
    assert status == 404
    notfound = server.trace(headers["x-pylon-trace-id"])
    visits = [(layer["name"], layer["visit"]) for layer in notfound["layers"]]
    # StatusCodeRedirect sends a subrequest back through the inner layers
    assert ("PylonsApp", 1) in visits and ("ErrorHandler", 1) in visits
    assert "sample_app.controllers.error.ErrorController.document" in span_names(notfound)
    stages = stage_names(notfound)
    assert stages.count("middleware") >= 2 and "unwind" in stages[stages.index("app"):]

    status, headers, _ = server.request("/fail")
    assert status == 500
    failed = server.trace(headers["x-pylon-trace-id"])
    (exc,) = [e for e in failed["exceptions"] if e["message"] == "planted failure"]
    assert exc["type"] == "RuntimeError"
    assert exc["handled_by"] == "ErrorHandler"
    assert exc["raised_in"]["name"] == "sample_app.controllers.main.MainController.fail"
    assert "RoutesMiddleware" in exc["through"]
    index = failed["exceptions"].index(exc)
    raising = next(s for s in failed["spans"] if s["id"] == exc["span"])
    assert raising["name"] == exc["raised_in"]["name"] and raising["exception"] == index
    by_name = {layer["name"]: layer for layer in failed["layers"]}
    assert by_name["RoutesMiddleware"]["exception"] == index
    assert by_name["ErrorHandler"]["exception"] is None  # it handled the exception

    status, headers, body = server.request("/robots.txt")
    assert status == 200
    static = server.trace(headers["x-pylon-trace-id"])
    assert [layer["name"] for layer in static["layers"]] == ["Cascade", "StaticURLParser"]
    assert "controller" not in stage_names(static)

    status, headers, _ = server.request("/redirect")
    assert status == 302
    redirect = server.trace(headers["x-pylon-trace-id"])
    assert redirect["response"]["status_code"] == 302
    assert any(h[0] == "Location" for h in redirect["response"]["headers"])


def test_stream_body_time_belongs_to_the_generator_in_write(serve) -> None:
    server = serve()
    status, headers, body = server.request("/stream")
    assert status == 200 and body
    trace = server.trace(headers["x-pylon-trace-id"])
    generator_spans = [s for s in trace["spans"]
                       if s["name"].startswith("sample_app.controllers.stream.")
                       and s["stage"] == "write"]
    assert generator_spans, "the lazy body must run in the write stage under its own code"
    execute = next(s for s in trace["spans"]
                   if s["name"] == "paste.httpserver.WSGIHandlerMixin.wsgi_execute")
    by_id = {s["id"]: s for s in trace["spans"]}
    for span in generator_spans:
        parent = span
        while parent["parent"] is not None and parent["id"] != execute["id"]:
            parent = by_id[parent["parent"]]
        assert parent["id"] == execute["id"]


def test_concurrent_requests_each_get_their_own_trace(serve) -> None:
    server = serve()
    results: list[tuple[str, str]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def client(n: int) -> None:
        try:
            for i in range(25):
                token = f"c{n}r{i}"
                status, headers, _ = server.request(f"/page2?id={token}")
                assert status == 200
                with lock:
                    results.append((token, headers["x-pylon-trace-id"]))
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(results) == 200
    assert len({trace_id for _, trace_id in results}) == 200
    with_calls = 0
    for token, trace_id in results:
        trace = server.trace(trace_id)
        assert trace["request"]["query"] == f"id={token}"
        assert len(trace["layers"]) == 8
        assert len(trace["threads"]) == 2
        assert stage_names(trace).count("parse") == 1
        names = span_names(trace)
        if trace["recorder"] == "none":
            # the builder fell behind: this request was recorded as stages and layers only
            inside_app = ("middleware", "app", "controller", "response", "unwind")
            assert all(s["kind"] in ("stage", "layer") for s in trace["spans"]
                       if s["stage"] in inside_app)
            continue
        with_calls += 1
        assert names.count("sample_app.controllers.main.MainController.page2") == 1
        assert names.count("socket.socket.accept") == 1
    assert with_calls > 0
    files = [p for p in server.trace_dir.iterdir() if p.name != "startup.json"]
    assert len(files) == 200


def test_tracing_filter_in_a_pipeline_of_a_plain_app(serve, tmp_path: Path) -> None:
    ini = tmp_path / "pipeline.ini"
    ini.write_text(
        "[server:main]\nuse = egg:Paste#http\nhost = 127.0.0.1\nport = 0\n\n"
        "[pipeline:main]\npipeline = trace header plain\n\n"
        f"[filter:trace]\nuse = egg:pylon-trace#trace\ntrace_dir = {tmp_path / 'filter'}\n\n"
        "[filter:header]\nuse = call:tests.apps.plain:make_header_filter\nname = piped\n\n"
        "[app:plain]\nuse = call:tests.apps.plain:make_plain_app\n"
    )
    # The server traces by itself: the filter steps aside and there is one trace a request.
    server = serve(ini)
    status, headers, body = server.request("/x")
    assert status == 200 and body == b"hello /x"
    trace = server.trace(headers["x-pylon-trace-id"])
    assert trace["source"] == "server"
    assert [layer["name"] for layer in trace["layers"]][:2] == ["HeaderLayer", "HeaderLayer"]
    server.stop()
    assert not (tmp_path / "filter").exists()

    # Without the server's tracing, the filter traces alone, from the application call.
    alone = serve(ini, "--no-trace")
    status, headers, body = alone.request("/y")
    assert status == 200
    alone.trace_dir = tmp_path / "filter"
    trace = alone.trace(headers["x-pylon-trace-id"])
    assert trace["source"] == "middleware"
    assert stage_names(trace)[0] in ("middleware", "app")
    assert "accept" not in stage_names(trace)
    assert trace["request"]["path"] == "/y"


def test_secrets_are_redacted_and_files_are_private(serve) -> None:
    server = serve()
    secret_cookie = "analysis=S3cr3tC00kieValue"
    status, headers, _ = server.request(
        "/counter?password=hunter2hunter", headers={"Cookie": secret_cookie,
                                                    "Authorization": "Bearer TOKEN-XYZ-123"})
    assert status == 200
    trace_id = headers["x-pylon-trace-id"]
    session_cookie = headers.get("set-cookie", "")
    trace = server.trace(trace_id)
    server.stop()
    text = "".join(p.read_text() for p in server.trace_dir.iterdir())
    for secret in ("S3cr3tC00kieValue", "TOKEN-XYZ-123", "hunter2hunter"):
        assert secret not in text
    if session_cookie:
        session_id = session_cookie.split(";")[0].split("=", 1)[1]
        assert session_id not in text
    assert trace["redacted"] is True
    assert stat.S_IMODE(os.stat(server.trace_dir).st_mode) == 0o700
    for path in server.trace_dir.iterdir():
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_startup_is_traced(serve) -> None:
    server = serve()
    server.request("/")
    server.stop()
    startup = server.trace("startup")
    validate(startup)
    assert startup["kind"] == "startup"
    names = [s["name"] for s in startup["stages"]]
    for stage in ("command", "load-server", "load-app", "environment", "middleware-stack",
                  "server-start"):
        assert stage in names, stage
    facts = startup["startup"]
    assert facts["server"]["use"] == "egg:Paste#http"
    assert "paste.httpserver:server_runner" in facts["server"]["entry_point"]
    assert facts["app"]["use"] == "egg:pylon-trace"
    assert "sample_app.config.middleware:make_app" in facts["app"]["entry_point"]
    assert facts["middleware"][0] == "Cascade"
    assert facts["config_file"] == str(REPO / "sample_app" / "development.ini")
    spans = [s["name"] for s in startup["spans"]]
    assert "sample_app.config.environment.load_environment" in spans
    assert "sample_app.config.middleware.make_app" in spans


def test_unwritable_trace_dir_serves_requests_and_warns_once(serve, tmp_path: Path) -> None:
    # Root ignores permission bits, so make the directory impossible: its parent is a file.
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("")
    server = serve(trace_dir=blocker / "traces")
    for _ in range(3):
        status, headers, body = server.request("/page2")
        assert status == 200 and body.startswith(b"Thank you")
    assert server.stop() == 0
    output = "".join(server.output)
    assert output.count("cannot write traces") == 1
    assert "Traceback" not in output
