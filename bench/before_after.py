"""Two checkpoints' sample grids side by side, each titled with its steps and two-sample score, over their
loss curves: the README's before/after picture when a run replaces a shipped checkpoint.

    python bench/before_after.py --before /tmp/anime-64-old --after checkpoints/anime-64 \
        --out docs/anime-64_before_after.png

Each folder needs report/grid.png (bench/checkpoint_report.py: seeds 0-63, the same for both) and
config.json; report/two_sample.json (bench/quality.py) adds the score to the title, log.jsonl the loss curve.
"""
from __future__ import annotations

import argparse
import json
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from PIL import Image

from lab import paths
from training.plumbing import loss_keys


def read_config(folder: str) -> dict:
    with open(os.path.join(folder, "config.json")) as f:
        return json.load(f)


def title(folder: str) -> str:
    config = read_config(folder)
    text = f"{config.get('steps_trained', '?'):,} steps, {round(config.get('images_seen', 0) / 1000)}k images seen"
    try:
        with open(os.path.join(folder, paths.TWO_SAMPLE)) as f:
            q = json.load(f)["two_sample"]
        text += f"\ntwo-sample {q['mean']:.3f} over {len(q['scores'])} seeds (0.5 = like real)"
    except (OSError, ValueError, KeyError):
        pass
    return text


def read_log(folder: str) -> list[dict]:
    """folder/log.jsonl's rows; empty when there is no log."""
    try:
        with open(os.path.join(folder, "log.jsonl")) as f:
            return [json.loads(line) for line in f if line.strip()]
    except OSError:
        return []


def loss_curve(rows: list[dict], key: str = "loss", window: int = 25) -> tuple[list[int], list[float]]:
    """(steps, moving mean of log key)."""
    steps, losses = [r["step"] for r in rows if key in r], [r[key] for r in rows if key in r]
    means = [sum(losses[max(0, i - window + 1):i + 1]) / len(losses[max(0, i - window + 1):i + 1])
             for i in range(len(losses))]
    return steps, means


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--before", required=True)
    p.add_argument("--after", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    after = read_config(args.after)
    gan = after.get("model") == "stylegan"
    keys, ylabel = loss_keys(gan)
    fig = plt.figure(figsize=(11, 9), dpi=110)
    grid = fig.add_gridspec(2, 2, height_ratios=(2.2, 1))
    loss_ax = fig.add_subplot(grid[1, :])
    for col, folder, label in ((0, args.before, "before"), (1, args.after, "after")):
        ax = fig.add_subplot(grid[0, col])
        ax.imshow(Image.open(os.path.join(folder, paths.REPORT, "grid.png")).convert("RGB"))
        ax.set_title(f"{label}: {title(folder)}", fontsize=10)
        ax.axis("off")
        rows = read_log(folder)
        for key, style in zip(keys, ("-", "--")):
            steps, losses = loss_curve(rows, key)
            tail = [(s_, v) for s_, v in zip(steps, losses) if s_ >= 2000]  # the first steps' drop would flatten it
            if tail:
                loss_ax.plot(*zip(*tail), style, color=f"C{col}", label=f"{label}: {key}" if gan else label)
    loss_ax.set_xlabel(f"training step (batch {after.get('training', {}).get('batch_size', '?')})")
    loss_ax.set_ylabel(f"{ylabel}\n(mean of 25 log rows)")
    loss_ax.grid(alpha=0.3)
    if loss_ax.get_lines():
        loss_ax.legend()
    sampler = "one StyleGAN pass, ψ 1" if gan else "DPM-Solver++ 20 steps"
    fig.suptitle(f"The same 64 seeds ({sampler}), and the training loss from step 2,000", fontsize=11)
    fig.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    fig.savefig(args.out)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
