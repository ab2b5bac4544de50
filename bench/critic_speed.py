"""Milliseconds per image of one critic training step (evaluation/two_sample.Critic, width 16, depth 2, batch 64,
one thread), in the default memory format and in channels_last, which the critic trains in.

    python bench/critic_speed.py
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F

from evaluation.two_sample import Critic


def ms_per_image(channels_last: bool, steps: int = 15) -> float:
    torch.manual_seed(0)
    critic, x, y = Critic(16, 2), torch.randn(64, 3, 64, 64), (torch.rand(64) > 0.5).float()
    if channels_last:
        critic, x = critic.to(memory_format=torch.channels_last), x.contiguous(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(critic.parameters())

    def step() -> None:
        loss = F.binary_cross_entropy_with_logits(critic(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()

    for _ in range(3):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps / 64 * 1000


if __name__ == "__main__":
    torch.set_num_threads(1)
    for _ in range(2):
        for cl in (False, True):
            print(f"{'channels_last' if cl else 'default format'}: {ms_per_image(cl):.2f} ms per image")
