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
import matplotlib.pyplot as plt  # noqa: E402
from PIL import Image  # noqa: E402


def title(folder: str) -> str:
    with open(os.path.join(folder, "config.json")) as f:
        config = json.load(f)
    text = f"{config.get('steps_trained', '?'):,} steps, {round(config.get('images_seen', 0) / 1000)}k images seen"
    try:
        with open(os.path.join(folder, "report", "two_sample.json")) as f:
            q = json.load(f)["two_sample"]
        text += f"\ntwo-sample {q['mean']:.3f} over {len(q['scores'])} seeds (0.5 = like real)"
    except (OSError, ValueError, KeyError):
        pass
    return text


def is_gan(folder: str) -> bool:
    with open(os.path.join(folder, "config.json")) as f:
        return json.load(f).get("model") == "stylegan"


def batch_size(folder: str) -> str:
    with open(os.path.join(folder, "config.json")) as f:
        return str(json.load(f).get("training", {}).get("batch_size", "?"))


def loss_curve(folder: str, key: str = "loss", window: int = 25) -> tuple[list[int], list[float]]:
    """(steps, moving mean of log key) from folder/log.jsonl; empty when there is no log."""
    try:
        with open(os.path.join(folder, "log.jsonl")) as f:
            rows = [json.loads(line) for line in f if line.strip()]
    except OSError:
        return [], []
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
    gan = is_gan(args.after)
    keys = ("loss_g", "loss_d") if gan else ("loss",)  # the GAN's generator and discriminator losses
    fig = plt.figure(figsize=(11, 9), dpi=110)
    grid = fig.add_gridspec(2, 2, height_ratios=(2.2, 1))
    loss_ax = fig.add_subplot(grid[1, :])
    for col, folder, label in ((0, args.before, "before"), (1, args.after, "after")):
        ax = fig.add_subplot(grid[0, col])
        ax.imshow(Image.open(os.path.join(folder, "report", "grid.png")).convert("RGB"))
        ax.set_title(f"{label}: {title(folder)}", fontsize=10)
        ax.axis("off")
        for key, style in zip(keys, ("-", "--")):
            steps, losses = loss_curve(folder, key)
            tail = [(s_, v) for s_, v in zip(steps, losses) if s_ >= 2000]  # the first steps' drop would flatten it
            if tail:
                loss_ax.plot(*zip(*tail), style, color=f"C{col}", label=f"{label}: {key}" if gan else label)
    loss_ax.set_xlabel(f"training step (batch {batch_size(args.after)})")
    loss_ax.set_ylabel(("logistic loss" if gan else "weighted MSE") + "\n(mean of 25 log rows)")
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
