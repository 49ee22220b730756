"""Values that JSON or PostgreSQL cannot store, found anywhere in parsed input.

PostgreSQL refuses NUL characters in text and unpaired surrogates (not valid UTF-8); JSON has
no NaN or Infinity, and `jsonb` none either. Input holding them would fail deep in a write with a
500, so the API refuses it at the edge (`ats.api.parsers`) and the bundle validator reports it in
its answer, both with this walker and these messages.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ats.errors import FieldError

INVALID_CHARACTER = "invalid_character"
INVALID_JSON_VALUE = "invalid_json_value"
TEXT_TOO_LONG = "string_too_long"  # pydantic's code for the same rule

MSG_NUL_CHARACTER = "Text should not contain NUL characters (\\u0000): they cannot be stored"
MSG_UNPAIRED_SURROGATE = (
    "Text should be valid Unicode: it contains an unpaired surrogate, which cannot be stored"
)
MSG_NON_FINITE_NUMBER = (
    "Numbers should be finite: NaN, Infinity and numbers beyond ±1.8e308 are not JSON"
)
MSG_NUMBER_TOO_LARGE = (
    "Number is out of range: integers should be within ±9,223,372,036,854,775,807 (64 bits)"
)
MSG_TEXT_TOO_LONG = "Text should have at most {limit:,} characters"
MSG_NOT_JSON_VALUE = "Value should be a JSON value, not a Python {kind}"
MSG_KEY_NOT_STRING = "Object keys should be strings"
MSG_CYCLE = MSG_NOT_JSON_VALUE.format(kind="cycle")

# PostgreSQL's bigint: every integer column and id fits in it.
_INTEGER_BITS = 63
_Node = tuple[Any, int | str] | None  # (parent node, key): a location, built only when needed


def string_problem(text: str, *, max_length: int | None = None) -> tuple[str, str] | None:
    """Why `text` cannot be stored, as (message, type), or None."""
    if max_length is not None and len(text) > max_length:
        return MSG_TEXT_TOO_LONG.format(limit=max_length), TEXT_TOO_LONG
    if "\x00" in text:
        return MSG_NUL_CHARACTER, INVALID_CHARACTER
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return MSG_UNPAIRED_SURROGATE, INVALID_CHARACTER
    return None


def unstorable_values(value: Any, *, max_string_length: int | None = None) -> list[FieldError]:
    """Every value in `value` (parsed JSON) that cannot be stored, with its dotted location.

    Iterative, so any nesting depth is safe. Object keys are checked like values; a cycle
    (impossible in parsed JSON, possible in Python callers' data) is reported, not followed.
    """
    return list(_walk(value, max_string_length=max_string_length))


def _walk(value: Any, *, max_string_length: int | None) -> Iterator[FieldError]:
    on_path: set[int] = set()
    # A location is a linked list (parent, key): copying tuples would be quadratic in depth.
    stack: list[tuple[Any, _Node, bool]] = [(value, None, False)]
    while stack:
        item, node, leaving = stack.pop()
        if leaving:
            on_path.discard(id(item))
            continue
        if isinstance(item, dict | list | tuple):
            if id(item) in on_path:
                yield _error(node, MSG_CYCLE, INVALID_JSON_VALUE)
                continue
            on_path.add(id(item))
            stack.append((item, node, True))
            is_dict = isinstance(item, dict)
            children = list(item.items() if is_dict else enumerate(item))
            for key, child in reversed(children):
                if is_dict:
                    if not isinstance(key, str):
                        yield _error((node, str(key)), MSG_KEY_NOT_STRING, INVALID_JSON_VALUE)
                        continue
                    if problem := string_problem(key, max_length=max_string_length):
                        yield _error((node, key), *problem)
                stack.append((child, (node, key), False))
        elif isinstance(item, str):
            if problem := string_problem(item, max_length=max_string_length):
                yield _error(node, *problem)
        elif isinstance(item, float):
            if not math.isfinite(item):
                yield _error(node, MSG_NON_FINITE_NUMBER, INVALID_JSON_VALUE)
        elif isinstance(item, int) and not isinstance(item, bool):
            if item.bit_length() > _INTEGER_BITS:
                yield _error(node, MSG_NUMBER_TOO_LARGE, INVALID_JSON_VALUE)
        elif item is not None and not isinstance(item, bool):
            kind = type(item).__name__
            yield _error(node, MSG_NOT_JSON_VALUE.format(kind=kind), INVALID_JSON_VALUE)


def printable(text: str) -> str:
    """`text` with NUL and unpaired surrogates spelled as escapes (`\\u0000`), so that it can
    be echoed in a location and stored (an idempotent answer is kept in the database)."""
    return text.replace("\x00", "\\u0000").encode("utf-8", "backslashreplace").decode("utf-8")


def _error(node: _Node, msg: str, code: str) -> FieldError:
    parts: list[int | str] = []
    while node is not None:
        node, key = node
        parts.append(key)
    return FieldError(".".join(printable(str(part)) for part in reversed(parts)), msg, code)
