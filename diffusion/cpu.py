"""Batch-invariant evaluation on the CPU: the same image, bit for bit, alone or in any batch.

oneDNN splits a batch evenly across threads, and an image whose rows land on two threads comes out
different in the last bits (measured: batch 1 on 2 threads, and the middle image of any odd batch); at
batch 1 it also picks another convolution kernel than at batch >= 2. So a batch runs padded to an even
size, on a power-of-two number of threads that divides it: every thread then holds whole images. A lone
image costs two images' work, never more, whatever the thread count. (Tested bit-identical for batches 1-16
at 2, 4 and 8 threads; other thread counts dividing the batch, e.g. 5 of 8, were measured to differ.)
"""
from __future__ import annotations

import contextlib
from collections.abc import Iterator

import torch


def invariant_split(batch: int, threads: int) -> tuple[int, int]:
    """(padded batch, threads to use): the batch padded to even, and the largest power of two <= `threads`
    that divides it."""
    padded = batch + batch % 2
    use = 1
    while use * 2 <= threads and padded % (use * 2) == 0:
        use *= 2
    return padded, use


@contextlib.contextmanager
def threads(n: int) -> Iterator[None]:
    """torch's intra-op threads set to n for the block, then restored."""
    before = torch.get_num_threads()
    if n != before:
        torch.set_num_threads(n)
    try:
        yield
    finally:
        if n != before:
            torch.set_num_threads(before)
