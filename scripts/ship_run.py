"""Ship a training run from runs/ as a checkpoint the app loads: its EMA weights from the training state, its
config, and its history (log, loss curve, sample grids) up to that state's step.

    python scripts/ship_run.py --run runs/anime-64-v2 --to checkpoints/anime-64
    python scripts/ship_run.py --run runs/anime-64-v2 --to checkpoints/anime-64 \
        --state /tmp/state.safetensors        # e.g. a committed state: git show HEAD:runs/.../state.safetensors

The weights come from the state file (not from runs/NAME/model.safetensors, which git does not keep), so a
run shipped on a fresh machine is exactly the committed one. The destination's old files go, its report/
and eval/ stay until they are re-run (bench/checkpoint_report.py, bench/quality.py, evaluate.py report).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys

from lab.checkpoint import CONFIG_NAME, WEIGHTS_NAME, atomic_write_bytes, write_checkpoint
from training.plumbing import STATE_DIR, STATE_FILE, plot_losses, prefixed, read_state_file


def read_state(path: str) -> tuple[dict, dict]:
    if not os.path.isfile(path):
        raise SystemExit(f"no training state at {path}: pass --state, or train the run first")
    tensors, meta = read_state_file(path)
    if meta is None:
        raise SystemExit(f"{path} has no metadata: it is not a state written by train.py or train_gan.py")
    return tensors, meta


def ship(run: str, dest: str, state_path: str | None = None) -> dict:
    """Write dest/{config.json, model.safetensors, log.jsonl, loss.png, samples/}; returns the config."""
    tensors, meta = read_state(state_path or os.path.join(run, STATE_DIR, STATE_FILE))
    step = meta["step"]
    with open(os.path.join(run, CONFIG_NAME)) as f:
        config = json.load(f)
    if config.get("steps_trained") != step:
        raise SystemExit(f"{run}/{CONFIG_NAME} is from step {config.get('steps_trained')} but the state from step "
                         f"{step}: pass the state that matches it, or let the run save again")
    ema = prefixed(tensors, "ema.")
    if not ema:
        raise SystemExit("the state holds no EMA weights (ema.*)")
    # both trainers keep their EMA (the UNet, or the StyleGAN generator) as ema.*: GAN runs ship the same way
    os.makedirs(dest, exist_ok=True)
    for old in (WEIGHTS_NAME, CONFIG_NAME, "log.jsonl", "loss.png"):
        if os.path.exists(os.path.join(dest, old)):
            os.remove(os.path.join(dest, old))
    shutil.rmtree(os.path.join(dest, "samples"), ignore_errors=True)

    config["training"] = {**config.get("training", {}), "out": dest}
    config["shipped_from"] = {"run": run, "step": step}
    write_checkpoint(dest, ema, config)
    with open(os.path.join(run, "log.jsonl")) as f:
        rows = [r for r in f if r.strip() and json.loads(r)["step"] <= step]
    atomic_write_bytes(os.path.join(dest, "log.jsonl"), "".join(rows).encode())
    plot_losses(dest)
    samples = os.path.join(run, "samples")
    os.makedirs(os.path.join(dest, "samples"), exist_ok=True)
    for name in sorted(os.listdir(samples)) if os.path.isdir(samples) else []:
        if name.startswith("step_") and int(name[5:11]) <= step:
            shutil.copy2(os.path.join(samples, name), os.path.join(dest, "samples", name))
    return config


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--run", required=True, help="the run's folder, e.g. runs/anime-64-v2")
    p.add_argument("--to", required=True, help="the checkpoint folder to write, e.g. checkpoints/anime-64")
    p.add_argument("--state", default=None, help="the training state to take the weights from "
                                                 "(default: the run's training_state/state.safetensors)")
    args = p.parse_args(argv)
    config = ship(args.run, args.to, args.state)
    print(f"shipped {args.run} at step {config['steps_trained']} to {args.to}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
