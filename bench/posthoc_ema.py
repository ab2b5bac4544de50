"""Longer EMAs of a run, after the fact, from snapshots of its raw weights: does a longer average than the
trainer's EMA (0.999: about 1000 steps) give better samples? (EDM2's post-hoc EMA, in its simplest form.)

    python bench/posthoc_ema.py --run runs/anime-64-v2 --start STATE --decays 0.9995,0.9998
    python bench/quality.py --folder runs --checkpoints anime-64-v2-ema0.9995,anime-64-v2 --skip-calibration --seeds 1

Snapshots: runs/NAME/snapshots/step_NNNNNN.safetensors, the raw weights at each save, which
`train.py --snapshots` keeps (they stay local: 10 MB each, so they last one session on a fresh machine). --start is a training
state from before the first snapshot; its EMA starts each average. Between two snapshots the weights are taken
to move linearly from θ_a to θ_b, and the g per-step updates of that interval are summed in closed form:
e ← d^g·e + (1 − d^g)·θ_a + w·(θ_b − θ_a), w = (1 − d)·Σ_j (j/g)·d^(g−j). Each result is written as a
checkpoint folder runs/NAME-emaD (config.json + model.safetensors) beside the run.
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import re

import torch
from safetensors.torch import load_file

from lab.checkpoint import CONFIG_NAME, write_checkpoint
from training.plumbing import prefixed, read_state_file


def snapshots(run: str) -> list[tuple[int, str]]:
    found = [(int(re.search(r"step_(\d+)", p).group(1)), p)
             for p in glob.glob(os.path.join(run, "snapshots", "step_*.safetensors"))]
    return sorted(found)


def average(start: dict[str, torch.Tensor], start_step: int, snaps: list[tuple[int, str]], decay: float,
            start_raw: dict[str, torch.Tensor] | None = None) -> dict[str, torch.Tensor]:
    """The EMA with this decay, from `start` (an EMA at start_step) over the snapshots after it."""
    if not 0 < decay < 1:
        raise ValueError(f"decay must be between 0 and 1, got {decay}")
    ema = {k: v.double().clone() for k, v in start.items()}
    prev_step, prev = start_step, start_raw
    for step, path in snaps:
        if step <= prev_step:
            continue
        theta = load_file(path)
        g = step - prev_step
        keep = decay ** g
        ramp = sum((1 - decay) * (j / g) * decay ** (g - j) for j in range(1, g + 1))  # θ_b's extra share
        for k, v in theta.items():
            if not v.is_floating_point():
                ema[k] = v.clone()
                continue
            a = v.double() if prev is None else prev[k].double()
            ema[k].mul_(keep).add_(a, alpha=1 - keep).add_(v.double() - a, alpha=ramp)
        prev_step, prev = step, theta
    return {k: v.to(start[k].dtype) for k, v in ema.items()}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True)
    p.add_argument("--start", required=True, help="a training state (state.safetensors) from before the snapshots")
    p.add_argument("--decays", default="0.9995,0.9998")
    args = p.parse_args(argv)
    state, meta = read_state_file(args.start)
    if meta is None:
        raise SystemExit(f"{args.start} has no metadata: pass a state.safetensors written by train.py")
    start_step = meta["step"]
    snaps = [s for s in snapshots(args.run) if s[0] > start_step]
    if not snaps:
        raise SystemExit(f"no snapshots after step {start_step} in {args.run}/snapshots")
    with open(os.path.join(args.run, CONFIG_NAME)) as f:
        config = json.load(f)
    last = snaps[-1][0]
    print(f"EMA from step {start_step}, {len(snaps)} snapshots up to step {last}")
    for decay in (float(d) for d in args.decays.split(",")):
        weights = average(prefixed(state, "ema."), start_step, snaps, decay, prefixed(state, "model."))
        out = f"{args.run.rstrip('/')}-ema{decay}"
        write_checkpoint(out, weights, {**config, "steps_trained": last,
                                        "weights": f"post-hoc EMA {decay} from step {start_step}"})
        print(f"wrote {out} (decay {decay}: the start's weight is {decay ** (last - start_step):.3f})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
