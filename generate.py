"""Write N generated faces as DIR/1.jpg … DIR/N.jpg (the HW6 submission format).

    python generate.py --n 1000 --out submission [--zip submission.zip]   # the 2-step student, DDIM 2
    python generate.py --checkpoint checkpoints/anime-64 --n 1000 --out sub  # its teacher, DPM-Solver++ 20
    python generate.py --model stylegan --n 1000 --out submission-gan      # the StyleGAN baseline
    accelerate launch --num_processes 4 generate.py --n 50000 --out fid-50k   # split across processes / GPUs

Image i comes from seed SEED+i-1, so the same arguments give byte-identical files, whatever the batch size
or the number of processes. An --out folder that already holds files is refused unless --overwrite, which
first deletes the images there (so no stale k.jpg from a larger earlier run is scored with the new ones).
"""
from __future__ import annotations

import argparse
import os
import sys
import time

from diffusion.samplers import SAMPLERS
from lab import memory, paths
from lab.checkpoint import CheckpointError, load_checkpoint
from lab.data import IMAGE_EXTS
from lab.pipeline import write_images, write_zip

DEFAULT_CHECKPOINTS = {"diffusion": paths.checkpoint(paths.DEFAULT_DIFFUSION),
                       "stylegan": paths.checkpoint(paths.DEFAULT_STYLEGAN)}
MAX_IMAGES = 100_000


class Processes:
    """This process's rank among those `accelerate launch` started (1 process without it), and a barrier."""

    def __init__(self) -> None:
        self.state = None
        if int(os.environ.get("WORLD_SIZE", "1")) > 1:
            import torch
            from accelerate import PartialState

            self.state = PartialState(cpu=not torch.cuda.is_available())  # CPU processes talk over gloo
        self.rank = self.state.process_index if self.state else 0
        self.world = self.state.num_processes if self.state else 1
        self.device = self.state.device if self.state else "cpu"

    def wait(self) -> None:
        if self.state:
            self.state.wait_for_everyone()

    def share(self, items: list) -> list:
        """This process's contiguous slice of items."""
        n = len(items)
        return items[self.rank * n // self.world:(self.rank + 1) * n // self.world]


def prepare_out(out: str, overwrite: bool, delete: bool = True) -> None:
    """Refuse a folder that holds files, unless overwrite: then delete (where `delete`) the images in it."""
    if not os.path.isdir(out):
        if os.path.exists(out):
            raise ValueError(f"--out {out} is a file, not a folder")
        return
    entries = sorted(os.listdir(out))
    if entries and not overwrite:
        raise ValueError(f"--out {out} already holds {len(entries)} file(s) (e.g. {entries[0]}); choose an empty "
                         f"folder or pass --overwrite to delete the images in it first")
    for name in entries if delete else []:
        if name.lower().endswith(IMAGE_EXTS) and os.path.isfile(os.path.join(out, name)):
            os.remove(os.path.join(out, name))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=1000, help=f"number of images, 1..{MAX_IMAGES}")
    p.add_argument("--out", required=True, help="folder to write 1.jpg … N.jpg into")
    p.add_argument("--overwrite", action="store_true", help="delete the images already in --out first")
    p.add_argument("--model", choices=tuple(DEFAULT_CHECKPOINTS), default=None,
                   help="the shipped checkpoint of this kind (default diffusion: the 2-step student anime-64-fast), "
                   "or the kind --checkpoint must be")
    p.add_argument("--checkpoint", default=None, help="a checkpoint folder (diffusion or StyleGAN)")
    p.add_argument("--sampler", choices=SAMPLERS, default=None,
                   help="default: the checkpoint's own (a distilled student: the one it was made for, ddim; a "
                   "teacher: dpm-solver)")
    p.add_argument("--steps", type=int, default=None, help="sampling steps (ignored by ddpm, which uses all T); "
                   "default: the checkpoint's own (a student: its steps, 2; a teacher: 20)")
    p.add_argument("--eta", type=float, default=None, help="DDIM eta in [0, 1] (default: the checkpoint's own, 0)")
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
    memory.keep_large_blocks()  # a batch's activations are mmap-sized: keep them on the heap (lab/memory.py)
    procs = Processes()
    try:
        model = load_checkpoint(args.checkpoint or DEFAULT_CHECKPOINTS[args.model or "diffusion"], procs.device)
        kind = "diffusion" if model.has_steps else "stylegan"  # a distilled student is a diffusion model too
        if args.model and kind != args.model:
            raise ValueError(f"{args.checkpoint} is a {kind} checkpoint, not {args.model}")
        default = model.default_sampler()
        settings = model.check(args.sampler or default[0], default[1] if args.steps is None else args.steps,
                               default[2] if args.eta is None else args.eta, args.psi)  # before the folder is touched
        prepare_out(args.out, args.overwrite, delete=procs.rank == 0)  # every process refuses alike
        procs.wait()  # every process writes only after the folder was checked and cleared
        from tqdm.auto import tqdm

        mine = procs.share(list(range(args.seed, args.seed + args.n)))
        bar = tqdm(total=len(mine), unit="img", disable=args.no_progress or procs.rank > 0, desc="generating")
        t0 = time.perf_counter()
        for chunk, _ in write_images(model, args.n, args.out, settings, args.seed, args.batch_size, seeds=mine):
            bar.update(len(chunk))
        bar.close()
    except (CheckpointError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    procs.wait()
    if procs.rank > 0:
        return 0
    names = [f"{i}.jpg" for i in range(1, args.n + 1)]
    if args.zip:
        write_zip(args.out, names, args.zip)
    print(f"wrote {args.n} images to {args.out}{' and ' + args.zip if args.zip else ''} "
          f"in {time.perf_counter() - t0:.1f} s" + (f" ({procs.world} processes)" if procs.world > 1 else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
