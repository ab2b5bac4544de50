"""Write N generated faces as DIR/1.jpg … DIR/N.jpg (the HW6 submission format).

    python generate.py --n 1000 --out submission [--zip submission.zip]
    python generate.py --model stylegan --n 1000 --out submission-gan      # the StyleGAN baseline

Image i comes from seed SEED+i-1, so the same arguments give byte-identical files.
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from diffusion.checkpoint import CheckpointError, load_checkpoint
from diffusion.pipeline import write_images, write_zip
from diffusion.samplers import SAMPLERS

ROOT = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CHECKPOINTS = {"diffusion": os.path.join(ROOT, "checkpoints", "anime-64"),
                       "stylegan": os.path.join(ROOT, "checkpoints", "stylegan-64")}
MAX_IMAGES = 100_000


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help=f"number of images, 1..{MAX_IMAGES}")
    p.add_argument("--out", required=True, help="folder to write 1.jpg … N.jpg into")
    p.add_argument("--model", choices=tuple(DEFAULT_CHECKPOINTS), default=None,
                   help="the shipped checkpoint of this kind (default diffusion), or the kind --checkpoint must be")
    p.add_argument("--checkpoint", default=None, help="a checkpoint folder (diffusion or StyleGAN)")
    p.add_argument("--sampler", choices=SAMPLERS, default="dpm-solver")
    p.add_argument("--steps", type=int, default=20, help="sampling steps (ignored by ddpm, which uses all T)")
    p.add_argument("--eta", type=float, default=0.0, help="DDIM eta in [0, 1]")
    p.add_argument("--psi", type=float, default=1.0, help="StyleGAN truncation in [0, 1] (1 = none)")
    p.add_argument("--seed", type=int, default=0, help="image i uses seed SEED+i-1")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--zip", default=None, help="also write a zip of the images here")
    p.add_argument("--no-progress", action="store_true")
    args = p.parse_args(argv)
    if not 1 <= args.n <= MAX_IMAGES:
        p.error(f"--n must be in 1..{MAX_IMAGES}, got {args.n}")
    if args.batch_size < 1:
        p.error("--batch-size must be >= 1")
    if not 0 <= args.seed < 2**63 - MAX_IMAGES:
        p.error("--seed must be a non-negative integer")
    try:
        model = load_checkpoint(args.checkpoint or DEFAULT_CHECKPOINTS[args.model or "diffusion"])
        if args.model and model.kind != args.model:
            raise ValueError(f"{args.checkpoint} is a {model.kind} checkpoint, not {args.model}")
        from tqdm.auto import tqdm

        bar = tqdm(total=args.n, unit="img", disable=args.no_progress, desc="generating")
        names, t0 = [], time.perf_counter()
        for chunk, _ in write_images(model, args.n, args.out, args.sampler, args.steps, args.eta, args.seed,
                                     args.batch_size, args.psi):
            names += chunk
            bar.update(len(chunk))
        bar.close()
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.zip:
        write_zip(args.out, names, args.zip)
    print(f"wrote {args.n} images to {args.out}{' and ' + args.zip if args.zip else ''} "
          f"in {time.perf_counter() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
