"""How a two-sample critic learns, epoch by epoch: the held-out accuracy of its last weights and of their moving
average, with its inner validation loss, for one fold of one set (the first half trains, the second is scored).

    python bench/critic_curve.py                          # anime-64 at generate.py's defaults, 60 epochs: ~8 min
    python bench/critic_curve.py --set box-resized --epochs 100

No early stopping: the curve shows what a stopping rule chooses from. Writes bench/results/critic_curve-SET.json
and .png (docs/critic_convergence.md shows the plot).
"""
from __future__ import annotations

import argparse
import copy
import json
import os
import sys

import torch
import torch.nn.functional as F

from evaluation import two_sample as ts
from lab import memory, paths
from lab.data import faces_hwc


def curve(fake, real, cfg: ts.C2STConfig, epochs: int) -> list[dict]:
    """c2st's first fold, trained `epochs` epochs at a constant lr, measured after each."""
    gen = torch.Generator().manual_seed(cfg.seed)
    n = min(len(fake), len(real))
    fake_t = ts._to_tensor(ts.standardise(fake[torch.randperm(len(fake), generator=gen)[:n].numpy()]))
    real_t = ts._to_tensor(ts.standardise(real[torch.randperm(len(real), generator=gen)[:n].numpy()]))
    h = n // 2
    x, y = torch.cat([fake_t[:h], real_t[:h]]), torch.cat([torch.zeros(h), torch.ones(h)])
    x_test = torch.cat([fake_t[h:2 * h], real_t[h:2 * h]])
    torch.manual_seed(int(torch.randint(0, 2**31 - 1, (1,), generator=gen)))  # as c2st's _fit draws the init
    critic = ts.Critic(cfg.width, cfg.depth).to(memory_format=torch.channels_last)
    average = copy.deepcopy(critic).requires_grad_(False)
    order = torch.randperm(len(x), generator=gen)
    n_val = int(round(len(x) * cfg.val_fraction))
    val, fit = order[:n_val], order[n_val:]
    opt = torch.optim.AdamW(critic.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    accuracy = lambda c: float(((ts._logits(c, x_test) > 0).float() == y).float().mean())  # noqa: E731
    rows = []
    for epoch in range(1, epochs + 1):
        shuffled = fit[torch.randperm(len(fit), generator=gen)]
        for i in range(0, len(shuffled), cfg.batch_size):
            batch = shuffled[i:i + cfg.batch_size]
            loss = F.binary_cross_entropy_with_logits(critic(ts._cl(ts._augment(x[batch], cfg, gen))), y[batch])
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            with torch.no_grad():
                for p_avg, p in zip(average.parameters(), critic.parameters()):
                    p_avg.lerp_(p, 1 - cfg.ema)
        rows.append({"epoch": epoch, "accuracy_last": accuracy(critic), "accuracy_average": accuracy(average),
                     "val_loss_last": float(F.binary_cross_entropy_with_logits(ts._logits(critic, x[val]), y[val])),
                     "val_loss_average": float(F.binary_cross_entropy_with_logits(ts._logits(average, x[val]),
                                                                                  y[val]))})
        print(" ".join(f"{k} {v:.4f}" if isinstance(v, float) else f"{k} {v}" for k, v in rows[-1].items()),
              flush=True)
    return rows


def plot(rows: list[dict], title: str, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] for r in rows]
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 5.5), dpi=110, sharex=True)
    top.plot(epochs, [r["accuracy_last"] for r in rows], lw=1, alpha=0.7, label="last weights")
    top.plot(epochs, [r["accuracy_average"] for r in rows], lw=2, label="moving average of the weights (scored)")
    top.axhline(0.5, color="grey", lw=0.8, ls=":")
    top.set_ylabel("held-out accuracy")
    top.set_title(title, fontsize=10)
    top.legend(fontsize=8)
    bottom.plot(epochs, [r["val_loss_last"] for r in rows], lw=1, alpha=0.7, label="last weights")
    bottom.plot(epochs, [r["val_loss_average"] for r in rows], lw=2, label="moving average")
    bottom.set_ylabel("inner validation loss")
    bottom.set_xlabel("epoch")
    bottom.legend(fontsize=8)
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def main() -> int:
    from critic_study import ALL_SETS, make_sets  # bench/ is sys.path[0] when this runs as a script

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--set", default="anime-64", help=f"one of {', '.join(ALL_SETS)}")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--n", type=int, default=2000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--out", default=os.path.join(paths.ROOT, "bench", "results"))
    args = p.parse_args()
    if args.set not in ALL_SETS:
        p.error(f"--set must be one of {', '.join(ALL_SETS)}")
    if args.epochs < 1:
        p.error("--epochs must be >= 1")
    memory.keep_large_blocks()
    torch.set_num_threads(args.threads)
    if not os.path.isdir(paths.FACES):
        sys.exit(f"no real faces at {paths.FACES}: set ANIME_FACES_DIR")
    cfg = ts.C2STConfig()
    rows = curve(make_sets([args.set], args.n)[args.set], faces_hwc(paths.FACES, "heldout"), cfg, args.epochs)
    slug = args.set.replace(" ", "-").replace("σ", "s").replace("/", "-")
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, f"critic_curve-{slug}.json"), "w") as f:
        json.dump({"set": args.set, "n_per_set": args.n, "config": ts.asdict(cfg), "rows": rows,
                   "command": " ".join(["python bench/critic_curve.py"] + sys.argv[1:])}, f, indent=1)
    plot(rows, f"{args.set} against the held-out faces: one fold, critic seed {cfg.seed}, lr {cfg.lr} throughout",
         os.path.join(args.out, f"critic_curve-{slug}.png"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
