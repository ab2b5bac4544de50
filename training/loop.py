"""The training loop both trainers run: the data walk, one optimisation step, the log, saving, sample grids,
the progress bar and save-on-signal. A trainer supplies what is its own as three functions:

    step_fn(real_uint8_batch) -> (averaged, latest)   one optimisation step; scalars for the log
    save_fn(step)                                      write the checkpoint and the training state
    sample_fn(step)                                    write samples/step_NNNNNN.png

`averaged` scalars (losses) are logged as their mean over the log interval, `latest` ones (lr, EMA decay)
as their last value.
"""
from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass

import torch

from .plumbing import append_log, next_batch, open_log, progress_bar, save_on_signals

StepFn = Callable[[torch.Tensor], tuple[dict[str, float], dict[str, float | None]]]


@dataclass
class DataWalk:
    """Where the run is in its data: one shared permutation per epoch, walked a global batch at a time; each
    process takes its own slice. perm, pos and the generator's state are part of the training state."""
    images: torch.Tensor
    generator: torch.Generator
    perm: torch.Tensor
    pos: int
    rank: int = 0
    world: int = 1

    @classmethod
    def start(cls, images: torch.Tensor, seed: int, rank: int = 0, world: int = 1) -> DataWalk:
        gen = torch.Generator().manual_seed(seed)  # the same on every rank: ranks take disjoint slices
        return cls(images, gen, torch.randperm(len(images), generator=gen), 0, rank, world)

    def next(self, batch_size: int) -> torch.Tensor:
        """This process's share of the next global batch, as uint8 images."""
        idx, self.perm, self.pos = next_batch(self.perm, self.pos, len(self.images), self.generator, batch_size,
                                              self.rank, self.world)
        return self.images[idx]

    def tensors(self) -> dict[str, torch.Tensor]:
        return {"rng.data": self.generator.get_state(), "data.perm": self.perm}

    def mark(self) -> tuple:
        return self.perm, self.pos, self.generator.get_state()

    def rewind(self, mark: tuple) -> None:
        self.perm, self.pos = mark[0], mark[1]
        self.generator.set_state(mark[2])

    def restore(self, tensors: dict[str, torch.Tensor], pos: int) -> None:
        self.generator.set_state(tensors["rng.data"])
        self.perm, self.pos = tensors["data.perm"], pos


def run(cfg, step: int, walk: DataWalk, step_fn: StepFn, save_fn: Callable[[int], None],
        sample_fn: Callable[[int], None], main_proc: bool = True, barrier: Callable[[], None] = lambda: None,
        script: str = "train.py") -> int:
    """Train from `step` to cfg.max_steps (cfg: batch_size, max_steps, log_every, save_every, sample_every,
    progress, out). Ctrl-C or SIGTERM saves, then returns. Returns the last step."""
    log_path = open_log(cfg.out, step) if main_proc else None
    bar = progress_bar(main_proc and cfg.progress, cfg.max_steps, step)
    history: dict[str, list[float]] = {}
    latest: dict[str, float | None] = {}
    t_last = time.perf_counter()
    if main_proc:
        save_on_signals()
    mark = None
    try:
        while step < cfg.max_steps:
            mark = walk.mark(), torch.get_rng_state()  # an interrupted step is rewound before the save
            averaged, latest = step_fn(walk.next(cfg.batch_size))
            step += 1
            mark = None
            for k, v in averaged.items():
                history.setdefault(k, []).append(v)
            if bar is not None:
                bar.update(1)
                bar.set_postfix({k: f"{v[-1]:.4f}" for k, v in history.items()})
            if main_proc and step % cfg.log_every == 0:
                now = time.perf_counter()
                row = {"step": step, **{k: sum(v[-cfg.log_every:]) / len(v[-cfg.log_every:])
                                        for k, v in history.items()},
                       **latest, "steps_per_s": cfg.log_every / (now - t_last), "time": time.time()}
                t_last = now
                append_log(log_path, row)
                history = {k: v[-cfg.log_every:] for k, v in history.items()}
            if step % cfg.save_every == 0 or step == cfg.max_steps:
                barrier()
                if main_proc:
                    save_fn(step)
            if main_proc and (step % cfg.sample_every == 0 or step == cfg.max_steps):
                sample_fn(step)
    except KeyboardInterrupt:
        if mark is not None:  # stopped inside a step: save the data walk and RNG as they were before it
            walk.rewind(mark[0])
            torch.set_rng_state(mark[1])
        if main_proc:
            print(f"\ninterrupted at step {step}: saving to {cfg.out} …", file=sys.stderr)
            save_fn(step)
            print(f"saved; continue with: python {script} --out {cfg.out} --resume", file=sys.stderr)
    finally:
        if bar is not None:
            bar.close()
    return step
