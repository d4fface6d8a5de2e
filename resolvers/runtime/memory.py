"""Handing memory back after a request that needed a lot of it.

A serving worker collects garbage rarely (`gateway.app.tune_gc`), so the tree of
a huge document (refused or not) would stay in the heap until the next full
collection, and the C allocator keeps freed pages anyway. After such a request
the worker collects at once and asks glibc to return free pages (`malloc_trim`),
so its RSS comes back close to where it was; `python -m bench --scenario abuse`
measures it.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from collections.abc import Callable

_trim: Callable[[int], int] | None = None
try:
    _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    _trim = _libc.malloc_trim
except (OSError, AttributeError):  # not glibc: collecting is all there is
    _trim = None


def relieve() -> None:
    """Collect every generation, then give free heap pages back to the system."""
    gc.collect()
    if _trim is not None:
        _trim(0)
