"""Train the face encoder behind FFD (evaluation/face_features.py) with SimCLR on the training faces alone,
then store the held-out faces' feature statistics beside it.

    python bench/train_encoder.py --out checkpoints/face-encoder                   # ~20 min on 2 cores
    python bench/train_encoder.py --out checkpoints/face-encoder --resume          # continue an interrupted run
    python bench/train_encoder.py --out /tmp/enc --steps 20 --batch-size 32 --limit 500   # a smoke run

SimCLR (Chen et al. 2020): each face is augmented twice and the encoder learns to tell its twin among the
batch (NT-Xent loss, temperature 0.2). The augmentations say what the features must ignore: crops and
shifts of a few pixels, mirroring, mild colour jitter, and the fine grain a generator or a file format
leaves: Gaussian blur up to σ 1 px, pixel noise up to 8/255, JPEG from quality 40. Colour jitter stays mild
so a colour cast remains visible to the distance. The held-out split is never trained on.
A state (weights, AdamW, step, RNG) is saved every --save-every steps and on SIGTERM; --resume continues it.
"""
from __future__ import annotations

import argparse
import io
import json
import math
import os
import signal
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

from evaluation.face_features import EncoderConfig, FaceEncoder, features, save_encoder, save_statistics  # noqa
from lab import paths
from lab.data import load_images

STATE = "encoder_state.safetensors"


def jpeg_some(x: torch.Tensor, gen: torch.Generator, p: float = 0.5) -> torch.Tensor:
    """JPEG-compress a random fraction p of the uint8 images [B, 3, H, W] at quality 40-95."""
    from PIL import Image

    out = x.clone()
    pick = torch.rand(len(x), generator=gen) < p
    qualities = torch.randint(40, 96, (len(x),), generator=gen)
    for i in torch.nonzero(pick).flatten().tolist():
        buf = io.BytesIO()
        Image.fromarray(x[i].permute(1, 2, 0).numpy()).save(buf, "JPEG", quality=int(qualities[i]))
        buf.seek(0)
        with Image.open(buf) as im:
            out[i] = torch.from_numpy(np.array(im.convert("RGB"))).permute(2, 0, 1)
    return out


def blur_each(x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
    """Gaussian blur of each image [B, 3, H, W] by its own sigma (0 = unchanged), a separable 7-tap kernel."""
    r = torch.arange(-3, 4, dtype=x.dtype)
    k = torch.exp(-r[None] ** 2 / (2 * sigma.clamp(min=1e-3)[:, None] ** 2))
    k = k / k.sum(1, keepdim=True)  # [B, 7]; sigma → 0 gives a delta
    b, c, h, w = x.shape
    y = x.reshape(1, b * c, h, w)
    kk = k.repeat_interleave(c, 0)
    y = F.conv2d(F.pad(y, (3, 3, 0, 0), mode="reflect"), kk[:, None, None, :], groups=b * c)
    y = F.conv2d(F.pad(y, (0, 0, 3, 3), mode="reflect"), kk[:, None, :, None], groups=b * c)
    return y.reshape(b, c, h, w)


def view(batch: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """One augmented view of uint8 faces [B, 3, 64, 64] → float [-1, 1]."""
    x = jpeg_some(batch, gen).float() / 255
    n = len(x)
    u = lambda lo, hi: lo + (hi - lo) * torch.rand(n, generator=gen)  # noqa: E731
    scale, flip = u(0.8, 1.0), torch.where(torch.rand(n, generator=gen) < 0.5, -1.0, 1.0)
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 1, 1] = scale * flip, scale
    theta[:, 0, 2], theta[:, 1, 2] = u(-1, 1) * (1 - scale), u(-1, 1) * (1 - scale)  # crops stay inside
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    x = F.grid_sample(x, grid, mode="bilinear", padding_mode="reflection", align_corners=False)
    x = blur_each(x, u(0, 1) * (torch.rand(n, generator=gen) < 0.5))
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    x = (x - mean) * u(0.85, 1.15)[:, None, None, None] + mean * u(0.9, 1.1)[:, None, None, None]
    grey = x.mean(1, keepdim=True)
    x = grey + (x - grey) * u(0.85, 1.15)[:, None, None, None]
    x = x + torch.randn(x.shape, generator=gen) * (u(0, 8 / 255) * (torch.rand(n, generator=gen) < 0.5))[:, None, None, None]
    return x.clamp(0, 1) * 2 - 1


def nt_xent(z1: torch.Tensor, z2: torch.Tensor, temperature: float = 0.2) -> torch.Tensor:
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    sim = z @ z.T / temperature
    sim.fill_diagonal_(float("-inf"))
    n = len(z1)
    target = torch.cat([torch.arange(n, 2 * n), torch.arange(0, n)])
    return F.cross_entropy(sim, target)


def save_state(out: str, encoder: FaceEncoder, opt: torch.optim.Optimizer, step: int, gen: torch.Generator,
               args: argparse.Namespace) -> None:
    from lab.checkpoint import atomic_save_tensors
    from training.plumbing import flatten_optimizer

    tensors, meta = flatten_optimizer(opt, "bfloat16")
    tensors = {**{f"opt.{k}": v for k, v in tensors.items()}, **{f"net.{k}": v for k, v in encoder.state_dict().items()},
               "rng.data": gen.get_state(), "rng.torch": torch.get_rng_state()}
    atomic_save_tensors(tensors, os.path.join(out, STATE),
                        metadata={"meta": json.dumps({"opt": meta, "step": step, "args": vars(args)})})


def load_state(out: str, encoder: FaceEncoder, opt: torch.optim.Optimizer, gen: torch.Generator) -> int:
    from safetensors import safe_open
    from safetensors.torch import load_file

    from training.plumbing import unflatten_optimizer

    path = os.path.join(out, STATE)
    tensors = load_file(path)
    with safe_open(path, "pt") as f:
        meta = json.loads(f.metadata()["meta"])
    encoder.load_state_dict({k[4:]: v for k, v in tensors.items() if k.startswith("net.")})
    opt.load_state_dict(unflatten_optimizer({k[4:]: v for k, v in tensors.items() if k.startswith("opt.")}, meta["opt"]))
    gen.set_state(tensors["rng.data"])
    torch.set_rng_state(tensors["rng.torch"])
    return int(meta["step"])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=os.path.join(paths.CHECKPOINTS, "face-encoder"))
    p.add_argument("--data", default=paths.FACES)
    p.add_argument("--steps", type=int, default=700)
    p.add_argument("--batch-size", type=int, default=256)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--feature-dim", type=int, default=128)
    p.add_argument("--limit", type=int, default=0, help="use only the first N training faces (smoke runs)")
    p.add_argument("--save-every", type=int, default=100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if not os.path.isdir(args.data):
        sys.exit(f"no faces at {args.data}: pass --data a folder of face images")
    from diffusion.cpu import threads

    with threads(args.threads or torch.get_num_threads()):  # --threads holds for the run, not the process
        return run(args, argv)


def run(args: argparse.Namespace, argv: list[str] | None) -> int:
    """The training loop, then the shipped folder (weights, config, held-out statistics)."""
    train = load_images(args.data, 64, limit=args.limit, log=None, split="train")
    torch.manual_seed(args.seed)
    encoder = FaceEncoder(EncoderConfig(width=args.width, feature_dim=args.feature_dim))
    opt = torch.optim.AdamW(encoder.parameters(), lr=args.lr, weight_decay=0.05)
    gen = torch.Generator().manual_seed(args.seed)
    os.makedirs(args.out, exist_ok=True)
    step = load_state(args.out, encoder, opt, gen) if args.resume and os.path.isfile(os.path.join(args.out, STATE)) else 0
    stop = {"now": False}
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))  # save, then stop
    log = open(os.path.join(args.out, "log.jsonl"), "a")
    from tqdm import tqdm

    bar = tqdm(total=args.steps, initial=step, disable=args.no_progress, desc="encoder")
    t0 = time.perf_counter()
    while step < args.steps and not stop["now"]:
        lr = args.lr * min(1.0, (step + 1) / 100) * 0.5 * (1 + math.cos(math.pi * step / args.steps))
        for group in opt.param_groups:
            group["lr"] = lr
        batch = train[torch.randint(0, len(train), (args.batch_size,), generator=gen)]
        h1, h2 = encoder(view(batch, gen)), encoder(view(batch, gen))
        loss = nt_xent(encoder.projection(h1), encoder.projection(h2))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        step += 1
        bar.update(1)
        bar.set_postfix(loss=f"{loss.item():.3f}")
        if step % 10 == 0:
            log.write(json.dumps({"step": step, "loss": loss.item(), "lr": lr,
                                  "seconds": time.perf_counter() - t0}) + "\n")
            log.flush()
        if step % args.save_every == 0:
            save_state(args.out, encoder, opt, step, gen, args)
    save_state(args.out, encoder, opt, step, gen, args)
    bar.close()
    log.close()
    signal.signal(signal.SIGTERM, previous)
    if step < args.steps:
        print(f"stopped at step {step}; continue with --resume")
        return 0
    held = load_images(args.data, 64, log=None, split="heldout").permute(0, 2, 3, 1).numpy()
    save_encoder(args.out, encoder, {"trained_on": "training split of " + os.path.basename(args.data.rstrip("/")),
                                     "steps": step, "batch_size": args.batch_size, "method": "SimCLR (NT-Xent, τ 0.2)",
                                     "command": "python bench/train_encoder.py " + " ".join(argv or sys.argv[1:])})
    save_statistics(args.out, features(held, encoder))
    os.remove(os.path.join(args.out, STATE))  # a finished encoder keeps only what it ships
    print(f"wrote {args.out}: encoder + statistics of {len(held)} held-out faces")
    return 0


if __name__ == "__main__":
    sys.exit(main())
