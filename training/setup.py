"""The run setup every trainer shares (train.py, train_gan.py, distill.py): accelerate, --resume's state and
config, the training images, seeding, the data walk, and the one training-state file. A trainer keeps only its
models, its loss and its step:

    run = start_run(cfg)                     # seeded: build the models now, identical on every rank
    model, opt = …
    step = run.resume({"model.": model}, {"": (opt, "optimizer")})
    …
    run.save(step, {"model.": model}, {"": (opt, "optimizer")})
"""
from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import torch

from lab import memory
from lab.data import load_images

from .loop import DataWalk
from .plumbing import (flatten_optimizer, prefixed, read_training_state, restore_rng, resumed_config,
                       unflatten_optimizer, write_training_state)

@dataclass
class Bookkeeping:
    """The flags every trainer has beside its own (a trainer's config subclasses this; it may change defaults)."""
    moments_dtype: str = "float32"  # optimizer moments in training_state: float32 (exact resume) | bfloat16 (half)
    progress: bool = True
    log_every: int = 20
    sample_every: int = 500
    save_every: int = 250
    sample_seeds: int = 16
    seed: int = 0
    max_images: int = 0  # use only the first N images (0 = all); for quick tests
    threads: int = 0  # torch CPU threads (0 = torch's default)


Modules = dict[str, torch.nn.Module]  # state prefix → module, e.g. {"model.": unet, "ema.": ema}
Optimizers = dict[str, tuple[torch.optim.Optimizer, str]]  # tensor prefix → (optimizer, its key in the metadata)


@dataclass
class Run:
    cfg: object
    accelerator: object
    images: torch.Tensor
    state: dict | None
    meta: dict | None
    walk: DataWalk | None = None

    @property
    def main_proc(self) -> bool:
        return self.accelerator.is_main_process

    @property
    def rank(self) -> int:
        return self.accelerator.process_index

    @property
    def world(self) -> int:
        return self.accelerator.num_processes

    def resume(self, modules: Modules, optimizers: Optimizers) -> int:
        """Once the models and optimizers exist: each rank's own seed, the data walk and, with --resume, every
        module, optimizer and RNG as saved. Returns the step to start from (0 for a fresh run)."""
        cfg = self.cfg
        if self.rank:  # each rank draws its own t, noise and latents
            torch.manual_seed(cfg.seed + self.rank)
        self.walk = DataWalk.start(self.images, cfg.seed, self.rank, self.world)
        if self.state is None:
            return 0
        for prefix, module in modules.items():
            module.load_state_dict(prefixed(self.state, prefix))
        for prefix, (opt, key) in optimizers.items():
            opt.load_state_dict(unflatten_optimizer(prefixed(self.state, prefix), self.meta[key]))
        step = self.meta["step"]
        self.walk.restore(self.state, self.meta["pos"])
        restore_rng(self.state, self.walk.generator, self.rank, cfg.seed, step)
        return step

    def save(self, step: int, modules: Modules, optimizers: Optimizers) -> None:
        """The training state as one atomic file: weights, optimizer moments (cfg.moments_dtype), RNG, data walk."""
        tensors = {f"{prefix}{k}": v for prefix, m in modules.items() for k, v in m.state_dict().items()}
        meta = {"step": step, "pos": self.walk.pos, "config": dataclasses.asdict(self.cfg)}
        for prefix, (opt, key) in optimizers.items():
            flat, meta[key] = flatten_optimizer(opt, self.cfg.moments_dtype)
            tensors.update({f"{prefix}{k}": v for k, v in flat.items()})
        write_training_state(self.cfg.out, {**tensors, "rng.torch": torch.get_rng_state(), **self.walk.tensors()},
                             meta)


def start_run(cfg, mixed_precision: bool = False) -> Run:
    """accelerate (CPU processes or GPUs), the resumed config (cfg itself for a fresh run: read run.cfg), the
    training images of cfg.data (the held-out split left out unless cfg.exclude_heldout is off), then
    torch.manual_seed(cfg.seed), so the models built next start identical on every rank."""
    from accelerate import Accelerator

    memory.keep_large_blocks()  # a batch's activations are mmap-sized: keep them on the heap (lab/memory.py)
    cuda = torch.cuda.is_available()  # without CUDA, cpu=True makes several processes MULTI_CPU (gloo)
    accelerator = Accelerator(cpu=not cuda, mixed_precision="bf16" if cuda and mixed_precision else "no")
    state = meta = None
    if cfg.resume:
        state, meta = read_training_state(cfg.out)
        cfg = resumed_config(cfg, meta)
    images = load_images(cfg.data, cfg.image_size, limit=cfg.max_images,
                         log=print if accelerator.is_main_process else None,
                         split="train" if cfg.exclude_heldout else "all")
    torch.manual_seed(cfg.seed)
    return Run(cfg, accelerator, images, state, meta)
