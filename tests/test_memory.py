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
