"""Pausing Python's cyclic garbage collector during bulk work.

Validating or ingesting a big bundle allocates hundreds of thousands of objects (pydantic
models, rows), and each allocation threshold crossed starts a collection that walks them all,
and the bundle's parsed payload too, although none of them is garbage: it doubled the time
of validating a 5,000-company bundle. Reference counting still frees what is dropped; only
reference cycles wait until the pause ends. Pauses may nest and overlap across threads: the
collector runs again when the last one ends (if it ran before the first began).
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pauses = 0
_was_enabled = False


@contextmanager
def gc_paused() -> Iterator[None]:
    global _pauses, _was_enabled  # noqa: PLW0603 - the collector is one per process
    with _lock:
        if _pauses == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _lock:
            _pauses -= 1
            if _pauses == 0 and _was_enabled:
                gc.enable()
