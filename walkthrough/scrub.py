"""What changes from one run to the next, taken out so that two walkthroughs of the same
code compare equal: times, dates, ports, trace ids, worker numbers.

What stays is the structure: the headings, the steps and the functions in each with
their files and line numbers, the layers, the versions. When an upgrade moves a
function or a layer, the scrubbed text changes, and the committed document is stale.
"""

from __future__ import annotations

import re

# (pattern, replacement), applied in order.
_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    # The timeline lists each stage's costliest calls: which ones depends on timing.
    (re.compile(r"<!-- timeline:start -->.*?<!-- timeline:end -->", re.S), "<timeline>"),
    (re.compile(r"\d{8}T\d{6}-\d{5}-\d{6}"), "<trace-id>"),
    (re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d+)?)?Z?( UTC)?"), "<when>"),
    (re.compile(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT"), "<http-date>"),
    (re.compile(r"(127\.0\.0\.1|localhost):\d+"), r"\1:<port>"),
    (re.compile(r"\bworker \d+"), "worker <n>"),
    (re.compile(r" at 0x[0-9a-fA-F]+"), ""),
    (re.compile(r"\(\d+ more calls? "), "(<n> more calls "),
    (re.compile(r"\d[\d,]*\.\d+%?"), "<t>"),
)


# A dict repr of plain string items: Routes builds its match dicts from sets, so their
# order follows string hashing, which changes with every interpreter.
_STR_DICT = re.compile(r"\{'[^'{}]*': '[^'{}]*'(?:, '[^'{}]*': '[^'{}]*')*\}")


def _sorted_dict(match: re.Match[str]) -> str:
    items = re.findall(r"'[^']*': '[^']*'", match.group(0))
    return "{" + ", ".join(sorted(items)) + "}"


def scrub(text: str) -> str:
    text = _STR_DICT.sub(_sorted_dict, text)
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text
