"""The two call recorders: the same events for the same code, on every thread, drained
safely while threads append, and the loud failure when the compiled one is forced but
missing. Each test runs against both recorders (the compiled one when it is built)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections import Counter
from typing import Any

import pytest

from pylon_trace.errors import CliError
from tracer.names import NameTable
from tracer.pyrecorder import PyRecorder
from tracer.recorder import CORE_ENV, compiled_core_available, make_recorder

TRACER_DIR = os.path.dirname(os.path.abspath(make_recorder.__code__.co_filename)) + os.sep


def _cores() -> list[Any]:
    forced = os.environ.get(CORE_ENV, "").strip().lower()
    skip_c = pytest.mark.skipif(
        not compiled_core_available() and forced != "c",
        reason="compiled recorder not built (pip install -e . with a C compiler)")
    return ["py", pytest.param("c", marks=skip_c)]


@pytest.fixture(params=_cores())
def recorder(request: pytest.FixtureRequest) -> Any:
    rec = make_recorder(request.param)
    assert rec.name == request.param
    yield rec
    rec.uninstall()
    rec.drain()


# -- a workload with every kind of event -----------------------------------------------------
class Box(list):
    """A list subclass: its C methods must be named after the subclass, not list."""


def leaf(x: int) -> int:
    return x * 2


def gen(n: int):  # noqa: ANN201 - a generator: resumes are calls, yields are returns
    for i in range(n):
        yield leaf(i)


def failing() -> None:
    raise ValueError("planned")


def workload(rec: Any) -> int:
    total = 0
    items: list[str] = []
    box = Box()
    for i in range(3):
        total += leaf(i)
        items.append(str(i))       # a C method on a list, made bound for each call
        box.append(i)              # the same method on a subclass
    rec.mark("between", {"n": 1})
    total += sum(gen(3))
    "-".join(items)
    try:
        divmod(1, 0)               # a C function raising: c_exception
    except ZeroDivisionError:
        pass
    try:
        failing()                  # a Python function raising: its return still comes
    except ValueError:
        pass
    rec.mark("end", None)
    return total + len(items)


def record_workload(rec: Any) -> list[tuple[int, str, Any]]:
    rec.drain()
    rec.attach_current_thread()
    workload(rec)
    rec.detach_current_thread()
    events = [e for ident, evs in rec.drain() if ident == threading.get_ident() for e in evs]
    return events


def timed_normalise(events: list[tuple[int, str, Any]],
                    names: NameTable) -> list[tuple[int, tuple]]:
    """(time, named event) for the workload's own events: the recorder's own frames (the
    Python recorder's methods) and calls (the compiled recorder's) left out."""
    out: list[tuple[int, tuple]] = []
    skip_code: list[Any] = []
    for t, event, obj in events:
        if event == "mark":
            out.append((t, ("mark", obj[0], repr(obj[1]))))
            continue
        if event in ("call", "return"):
            if skip_code:
                if event == "return" and obj is skip_code[-1]:
                    skip_code.pop()
                elif event == "call":
                    skip_code.append(obj)
                continue
            if obj.co_filename.startswith(TRACER_DIR):
                if event == "call":
                    skip_code.append(obj)
                continue
            out.append((t, (event, names.code(obj)[0])))
            continue
        if skip_code:
            continue
        if type(getattr(obj, "__self__", None)).__name__ == "CRecorder":
            continue
        out.append((t, (event, names.c_function(obj))))
    return out


def normalise(events: list[tuple[int, str, Any]], names: NameTable) -> list[tuple]:
    return [item for _t, item in timed_normalise(events, names)]


def kept_times(events: list[tuple[int, str, Any]]) -> list[int]:
    """Times of the events that make a trace.

    The Python recorder stamps a marker before appending it, and its hook records that
    append call (stamped later) first: its own hidden events may read a few hundred ns
    after the marker that follows them. Without them, times never go back."""
    return [t for t, _item in timed_normalise(events, NameTable())]


def workload_events(rec: Any) -> list[tuple]:
    names = NameTable()
    seq = normalise(record_workload(rec), names)
    # Keep from the workload's first event: what precedes it is attaching the hook.
    first = seq.index(("call", f"{__name__}.workload"))
    last = len(seq) - 1 - seq[::-1].index(("return", f"{__name__}.workload"))
    return seq[first:last + 1]


# -- the same events -----------------------------------------------------------------------------
@pytest.mark.skipif(not compiled_core_available() and os.environ.get(CORE_ENV) != "c",
                    reason="compiled recorder not built")
def test_both_recorders_record_the_same_sequence() -> None:
    py = workload_events(make_recorder("py"))
    c = workload_events(make_recorder("c"))
    assert py == c
    kinds = Counter(event for event, *_ in py)
    assert kinds["call"] == kinds["return"] > 10
    assert kinds["c_call"] == kinds["c_return"] + kinds["c_exception"]
    assert kinds["c_exception"] >= 1 and kinds["mark"] == 2


def test_events_are_balanced_ordered_and_marked_in_place(recorder: Any) -> None:
    seq = workload_events(recorder)
    stack: list[tuple] = []
    for item in seq:
        event = item[0]
        if event in ("call", "c_call"):
            stack.append(item)
        elif event == "return":
            assert stack and stack[-1] == ("call", item[1]), (item, stack[-3:])
            stack.pop()
        elif event in ("c_return", "c_exception"):
            assert stack and stack[-1] == ("c_call", item[1]), (item, stack[-3:])
            stack.pop()
    assert not stack
    names = [item[1] for item in seq]
    between = names.index("between")
    # The marker sits after the loop's last call and before the generator's first resume.
    assert seq[between - 1] == ("c_return", f"{__name__}.Box.append")
    assert seq[between + 1] == ("c_call", "builtins.sum")
    assert seq[between + 2] == ("call", f"{__name__}.gen")
    assert ("c_call", "builtins.list.append") in seq
    assert ("c_exception", "builtins.divmod") in seq
    assert seq.count(("call", f"{__name__}.leaf")) == 6


def test_times_are_monotonic_and_interleave_with_perf_counter(recorder: Any) -> None:
    recorder.drain()
    before = time.perf_counter_ns()
    recorder.attach_current_thread()
    leaf(1)
    recorder.mark("middle")
    inside = time.perf_counter_ns()
    leaf(2)
    recorder.detach_current_thread()
    after = time.perf_counter_ns()
    events = [e for ident, evs in recorder.drain() if ident == threading.get_ident()
              for e in evs]
    times = kept_times(events)
    assert len(times) >= 5 and times == sorted(times)
    if recorder.name == "c":  # its own events too: it stamps markers inside mark()
        assert [t for t, _e, _o in events] == sorted(t for t, _e, _o in events)
    assert all(before <= t <= after for t, _e, _o in events), (before, events, after)
    mark_time = next(t for t, e, o in events if e == "mark")
    second_leaf = [t for t, e, o in events if e == "call" and getattr(o, "co_name", "") == "leaf"]
    assert mark_time <= inside <= second_leaf[1]


@pytest.mark.skipif(not compiled_core_available(), reason="compiled recorder not built")
@pytest.mark.parametrize("clock", ["monotonic", "default"])
def test_compiled_clock_matches_perf_counter_in_a_fresh_process(clock: str) -> None:
    """Both stamp sources of the compiled recorder (TSC mapped at drain, or the clock)."""
    script = (
        "import time, threading\n"
        "from tracer import _crecorder\n"
        "from tracer.crecorder import CRecorder\n"
        "r = CRecorder()\n"
        "def f(): return 1\n"
        "out = []\n"
        "for _ in range(200):\n"
        "    a = time.perf_counter_ns(); r.mark('m'); b = time.perf_counter_ns()\n"
        "    out.append((a, b))\n"
        "    if _ % 50 == 0: time.sleep(0.01)\n"
        "marks = [t for _i, evs in r.drain() for t, e, o in evs if e == 'mark']\n"
        "bad = [(a, t, b) for (a, b), t in zip(out, marks) if not a - 1000 <= t <= b + 1000]\n"
        "print(_crecorder.CLOCK, len(marks), len(bad), bad[:3])\n"
    )
    env = {**os.environ}
    if clock == "monotonic":
        env["PYLON_TRACE_CLOCK"] = "monotonic"
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=env, cwd=os.path.dirname(TRACER_DIR.rstrip(os.sep)), check=True)
    source, count, bad = done.stdout.split()[:3]
    if clock == "monotonic":
        assert source == "monotonic"
    assert int(count) == 200
    # Mapping ticks to ns is accurate to well under a microsecond.
    assert int(bad) == 0, done.stdout


# -- threads ------------------------------------------------------------------------------------
def test_new_threads_are_recorded_in_their_own_buffer(recorder: Any) -> None:
    recorder.drain()
    recorder.install()
    thread = threading.Thread(target=workload, args=(recorder,))
    thread.start()
    thread.join()
    recorder.uninstall()
    by_thread = dict(recorder.drain())
    assert thread.ident in by_thread
    events = by_thread[thread.ident]
    times = kept_times(events)
    assert times == sorted(times)
    names = NameTable()
    seq = normalise(events, names)
    assert seq.count(("call", f"{__name__}.leaf")) == 6
    assert [item[1] for item in seq if item[0] == "mark"] == ["between", "end"]


def _drain_while_appending(recorder: Any, threads_n: int,
                           per_thread: int) -> tuple[dict[int, list], int, list]:
    recorder.install()
    start = threading.Barrier(threads_n + 1)

    def worker(index: int) -> None:
        start.wait()
        for i in range(per_thread):
            leaf(i)
            recorder.mark("seq", (index, i))
            if i % 500 == 0:
                time.sleep(0)  # let the drainer in now and then, whatever the scheduler

    workers = [threading.Thread(target=worker, args=(i,)) for i in range(threads_n)]
    for w in workers:
        w.start()
    # A new thread reads threading's profile hook only after start() returns: uninstall
    # once every worker is past that; then this thread only drains, unrecorded.
    start.wait()
    recorder.uninstall()
    drained: dict[int, list] = {}
    drains = 0
    while any(w.is_alive() for w in workers):
        for ident, events in recorder.drain():
            drained.setdefault(ident, []).extend(events)
        drains += 1
        time.sleep(0.0002)
    for w in workers:
        w.join()
    for ident, events in recorder.drain():
        drained.setdefault(ident, []).extend(events)
    return drained, drains, workers


def test_drain_concurrently_with_appending_threads_loses_and_duplicates_nothing(
        recorder: Any) -> None:
    threads_n, per_thread = 4, 20_000
    recorder.drain()
    before = recorder.stats()["events"]
    # Short GIL turns, so that the drains really interleave with the appends.
    interval = sys.getswitchinterval()
    sys.setswitchinterval(0.0002)
    try:
        drained, drains, workers = _drain_while_appending(recorder, threads_n, per_thread)
    finally:
        sys.setswitchinterval(interval)
    assert drains >= 5

    total = sum(len(events) for events in drained.values())
    for w in workers:
        events = drained[w.ident]
        times = kept_times(events)
        assert times == sorted(times), "times go back across drains"
        seqs = [obj[1] for _t, e, obj in events if e == "mark"]
        index = seqs[0][0]
        assert seqs == [(index, i) for i in range(per_thread)], "a marker lost or repeated"
        leaf_calls = sum(1 for _t, e, o in events
                         if e == "call" and getattr(o, "co_name", "") == "leaf")
        assert leaf_calls == per_thread
    stats = recorder.stats()
    assert stats["dropped"] == 0
    assert stats["pending"] == 0
    assert stats["events"] - before == total  # every event counted once, none left behind


def test_stats_count_recorded_pending_and_drained_events(recorder: Any) -> None:
    recorder.drain()
    before = recorder.stats()["events"]
    recorder.attach_current_thread()
    for i in range(100):
        leaf(i)
    recorder.detach_current_thread()
    stats = recorder.stats()
    assert stats["events"] - before >= 200
    assert stats["pending"] == stats["events"] - before == recorder.pending()
    taken = sum(len(events) for _ident, events in recorder.drain())
    after = recorder.stats()
    assert taken == stats["pending"]
    assert after["pending"] == recorder.pending() == 0
    assert after["events"] == stats["events"]
    assert after["dropped"] == 0


def _buffers(rec: Any) -> int:
    return rec.stats()["threads"] if rec.name == "c" else len(rec._buffers)


def test_finished_threads_are_forgotten_once_drained(recorder: Any) -> None:
    recorder.install()
    # All alive at once, so that no two share a thread ident.
    together = threading.Barrier(5)

    def run(i: int) -> None:
        together.wait()
        leaf(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorder.uninstall()
    assert _buffers(recorder) >= 5
    assert {t.ident for t in threads} <= {ident for ident, _ in recorder.drain()}
    recorder.drain()
    assert _buffers(recorder) <= 1  # at most this thread's, which is still alive


@pytest.mark.skipif(not compiled_core_available(), reason="compiled recorder not built")
def test_compiled_recorder_stores_at_most_32_bytes_per_buffered_event() -> None:
    import gc
    import tracemalloc

    rec = make_recorder("c")
    table = {1: 2}

    def loop(n: int) -> None:
        for _ in range(n):
            leaf(1)                    # a Python call
            table.get(1)               # a C method call: CPython binds it for each call

    rec.attach_current_thread()
    loop(100)
    rec.detach_current_thread()
    rec.drain()
    gc.collect()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        rec.attach_current_thread()
        loop(50_000)
        rec.detach_current_thread()
        grown = tracemalloc.get_traced_memory()[0] - base
    finally:
        tracemalloc.stop()
    stats = rec.stats()
    assert stats["pending"] >= 200_000
    assert grown / stats["pending"] <= 32, grown / stats["pending"]
    assert stats["buffer_bytes"] / stats["pending"] <= 17
    rec.drain()


# -- choosing a recorder ---------------------------------------------------------------------
def test_forced_compiled_recorder_missing_is_a_loud_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import tracer

    monkeypatch.setitem(sys.modules, "tracer._crecorder", None)  # import now fails
    monkeypatch.delitem(sys.modules, "tracer.crecorder", raising=False)
    monkeypatch.delattr(tracer, "_crecorder", raising=False)
    monkeypatch.delattr(tracer, "crecorder", raising=False)
    with pytest.raises(CliError, match=r"PYLON_TRACE_CORE=c but the compiled recorder"):
        make_recorder("c")
    monkeypatch.setenv(CORE_ENV, "c")
    with pytest.raises(CliError, match="PYLON_TRACE_CORE=py"):
        make_recorder()
    monkeypatch.setenv(CORE_ENV, "auto")
    assert isinstance(make_recorder(), PyRecorder)
    assert not compiled_core_available()


def test_environment_chooses_the_recorder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(CORE_ENV, "py")
    assert make_recorder().name == "py"
    monkeypatch.setenv(CORE_ENV, "fast")
    with pytest.raises(CliError, match="expected c, py or auto"):
        make_recorder()
    if compiled_core_available():
        monkeypatch.setenv(CORE_ENV, "c")
        assert make_recorder().name == "c"
        monkeypatch.delenv(CORE_ENV)
        assert make_recorder().name == "c"  # auto prefers the compiled one


def test_forced_compiled_recorder_is_present_when_the_suite_asks_for_it() -> None:
    """`make test` runs the suite with PYLON_TRACE_CORE=c: it must really be the C one."""
    if os.environ.get(CORE_ENV, "").strip().lower() != "c":
        pytest.skip("PYLON_TRACE_CORE is not c")
    assert make_recorder().name == "c"


def test_drain_leaves_the_garbage_collector_as_it_found_it(recorder: Any) -> None:
    import gc

    for enabled in (True, False):
        (gc.enable if enabled else gc.disable)()
        try:
            recorder.attach_current_thread()
            leaf(1)
            recorder.detach_current_thread()
            assert recorder.drain()
            assert gc.isenabled() is enabled
        finally:
            gc.enable()
