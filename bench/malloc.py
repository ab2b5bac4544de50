"""What lab.memory.keep_large_blocks() buys: a batch's activations are over glibc's 32 MB mmap ceiling, so without
it every layer of every network evaluation maps fresh pages and faults them in. Each case runs in a fresh process,
alternating with and without, and prints seconds per step and minor page faults per step.

    python bench/malloc.py                    # a distillation step (batch 32: 2 teacher forwards + forward/backward)
    python bench/malloc.py --case sample      # one DDIM step at batch 64 (what generate.py does 2–20 times a batch)

Pause background jobs first.
"""
from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time


def measure(case: str, keep: bool, repeats: int) -> dict:
    import torch

    from lab import memory
    from lab.checkpoint import load_checkpoint
    from lab import paths

    took = memory.keep_large_blocks() if keep else False
    net = load_checkpoint(paths.checkpoint(paths.DEFAULT_DIFFUSION)).net.to(memory_format=torch.channels_last)
    batch = 32 if case == "distill" else 64
    x = torch.randn(batch, 3, net.config.image_size, net.config.image_size).contiguous(
        memory_format=torch.channels_last)
    t = torch.randint(0, 1000, (batch,))
    net.train().requires_grad_(case == "distill")

    def step() -> None:
        if case == "distill":
            with torch.no_grad():
                net(x, t), net(x, t)
            net(x, t).square().mean().backward()
        else:
            with torch.no_grad():
                net(x, t)

    step()  # warm-up
    faults, t0 = resource.getrusage(resource.RUSAGE_SELF).ru_minflt, time.perf_counter()
    for _ in range(repeats):
        step()
    return {"keep": keep, "took": took, "s_per_step": (time.perf_counter() - t0) / repeats,
            "faults_per_step": (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults) / repeats}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--case", choices=("distill", "sample"), default="distill")
    p.add_argument("--repeats", type=int, default=6, help="steps timed per process")
    p.add_argument("--rounds", type=int, default=2, help="processes per setting, alternating")
    p.add_argument("--one", choices=("keep", "plain"), help=argparse.SUPPRESS)  # the child process
    args = p.parse_args(argv)
    if args.one:
        print(json.dumps(measure(args.case, args.one == "keep", args.repeats)))
        return 0
    for _ in range(args.rounds):
        for one in ("plain", "keep"):
            out = subprocess.run([sys.executable, __file__, "--case", args.case, "--repeats", str(args.repeats),
                                  "--one", one], check=True, capture_output=True, text=True).stdout
            r = json.loads(out.strip().splitlines()[-1])
            print(f"{args.case}, {'keep_large_blocks' if r['keep'] else 'glibc default':17}: "
                  f"{r['s_per_step']:.3f} s per step, {r['faults_per_step']:,.0f} minor page faults per step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
