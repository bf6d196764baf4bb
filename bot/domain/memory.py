"""Giving memory a build has freed back to the operating system.

glibc keeps freed chunks in its heap for reuse, and after the first large free it stops giving arrays
their own mappings (its mmap threshold rises to 32 MB), so the temporaries of a build (token streams,
sort orders, unpickled transfers: about 200 MB at 10,000 articles) stay resident after they are freed.
`malloc_trim` returns them; elsewhere (macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable

__all__ = ["release_free_memory"]


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        trim = ctypes.CDLL(None).malloc_trim  # the C library the interpreter already uses
    except (OSError, AttributeError):  # not glibc
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def release_free_memory() -> None:
    """Return the heap's free pages to the OS (a few milliseconds; call after a build, not per request)."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
