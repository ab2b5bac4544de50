"""Keep a long-serving app's memory flat.

glibc's malloc gives every thread that allocates its own arena (up to 8 per core) and keeps what is freed there
for reuse. Gradio runs each request, and each step of a streamed one, on whichever of its worker threads is free,
so over hours more and more threads hold arenas full of freed image buffers and RSS climbs. Two arenas for the
whole process stop that; trimming hands the arenas' free tops back to the system.

The opposite problem slows sampling and training: glibc serves every block over 32 MB with a fresh mmap and
unmaps it when freed, and a batch's activations are that large, so each layer of each network evaluation
faulted its memory in again. keep_large_blocks() serves them from the heap and keeps up to 1 GiB of it freed.

Measured with `python bench/load.py --clients 4 --requests 36 --mix generate,generate,generate,denoise,interpolate,batch`
(docs/space.md). Both calls are no-ops where the C library is not glibc.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools

M_TRIM_THRESHOLD = -1  # glibc's mallopt parameter numbers (malloc.h)
M_MMAP_MAX = -4
M_ARENA_MAX = -8


@functools.cache  # loaded once: trim() runs after every sweep
def _glibc():
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        return libc if hasattr(libc, "mallopt") and hasattr(libc, "malloc_trim") else None
    except OSError:
        return None


def limit_arenas(n: int = 2) -> bool:
    """At most n malloc arenas from now on (call it before the worker threads start); True if glibc took it."""
    if n < 1:
        raise ValueError(f"arenas must be at least 1, got {n}")
    libc = _glibc()
    return bool(libc and libc.mallopt(M_ARENA_MAX, n) == 1)


def trim() -> bool:
    """Return the free memory at the top of every arena to the system; True if any was returned."""
    libc = _glibc()
    return bool(libc and libc.malloc_trim(0) == 1)


def keep_large_blocks(keep_bytes: int = 1 << 30) -> bool:
    """Serve large blocks from the heap (no mmap) and keep up to keep_bytes of freed heap for reuse; True if
    glibc took both. For processes that run a network over and over: sampling, training, evaluation."""
    if keep_bytes < 0:
        raise ValueError(f"keep_bytes must be at least 0, got {keep_bytes}")
    libc = _glibc()
    return bool(libc and libc.mallopt(M_MMAP_MAX, 0) == 1 and libc.mallopt(M_TRIM_THRESHOLD, keep_bytes) == 1)
