import platform

import pytest

from lab import memory

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="mallopt and malloc_trim are glibc's")


@glibc
def test_glibc_takes_the_arena_limit_and_trims():
    assert memory.limit_arenas(2) is True
    big = [bytearray(1 << 20) for _ in range(64)]  # 64 MB freed at once: something to hand back
    del big
    assert isinstance(memory.trim(), bool)


def test_arena_limit_must_be_positive():
    with pytest.raises(ValueError, match="at least 1"):
        memory.limit_arenas(0)


# run in a fresh process (mallopt cannot be undone): malloc a 64 MB block, write every page, free it, twice; print
# the minor page faults of the second time
SECOND_BLOCK = """
import ctypes, resource
from lab import memory
if KEEP:
    memory.keep_large_blocks()
libc = ctypes.CDLL(None)
libc.malloc.restype, libc.malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
for _ in range(2):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = libc.malloc(64 << 20)
    ctypes.memset(block, 1, 64 << 20)
    libc.free(block)
print(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
"""


@glibc
def test_glibc_keeps_large_blocks_on_the_heap():
    """A 64 MB block freed and asked for again: glibc's default unmaps it and faults its 16,384 pages in again;
    after keep_large_blocks it comes back from the heap without faults."""
    import subprocess
    import sys

    plain, kept = (int(subprocess.run([sys.executable, "-c", f"KEEP = {keep}" + SECOND_BLOCK], check=True,
                                      capture_output=True, text=True).stdout) for keep in (False, True))
    assert plain > 10_000 and kept < 1_000, (plain, kept)


def test_keep_large_blocks_refuses_a_negative_size():
    with pytest.raises(ValueError, match="at least 0"):
        memory.keep_large_blocks(-1)
