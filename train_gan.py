"""Train the StyleGAN baseline (gan/stylegan.py) with the same tooling as train.py: the same data
loading and augmentation presets, log.jsonl + loss.png, sample grids on fixed seeds, exact --resume,
Ctrl-C/SIGTERM saving, Accelerate for several processes, and a self-describing checkpoint
(config.json + model.safetensors holding the generator's EMA weights).

    python train_gan.py --data ../shared/data/anime-faces --out checkpoints/stylegan-64
    python train_gan.py --out checkpoints/stylegan-64 --resume

Losses (StyleGAN2): non-saturating logistic for G and D, lazy R1 on real images every --r1-every steps
(scaled by that interval), style mixing with probability --mixing, Adam(β1 = 0, β2 = 0.99), EMA of G.
DiffAugment (gan/diffaugment.py; --diffaugment, on by default since it made the shipped GAN less recognisable:
0.820 against 0.874 on the two-sample test) goes in front of D for real and generated images alike, in both steps;
--diffaugment "" turns it off. The shipped checkpoint's recipe:

    python train_gan.py --out runs/stylegan-64-da --channels 64 --d-channels 64 --batch-size 16 --max-steps 10267
    python train_gan.py --out runs/stylegan-64-da --resume --decay-start 10267 --decay-steps 3000 --max-steps 13267
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import torch

from diffusion.cpu import threads
from lab.checkpoint import save_stylegan_checkpoint
from lab.data import AUGMENTATIONS, augment
from gan.diffaugment import check_policy, diff_augment
from gan.stylegan import (Discriminator, Generator, StyleGANConfig, discriminator_loss, generate,
                                generator_loss, r1_penalty)
from training.loop import run
from training.plumbing import (DEFAULT_DATA, MOMENTS_DTYPES, config_parser, ema_decay_at, lr_at, plot_losses,
                               save_grid, update_ema, world_size)
from training.setup import Bookkeeping, Run, start_run


@dataclass
class GANConfig(Bookkeeping):  # + log/save/sample intervals, seed, threads, … (training/setup.py)
    data: str = DEFAULT_DATA
    exclude_heldout: bool = True  # leave out the held-out split (lab/data.py) that quality is measured on
    out: str = "checkpoints/stylegan-run"
    resume: bool = False
    image_size: int = 64
    augment: str = "flip"  # none | flip | hw6-medium: on the data, before anything sees it
    diffaugment: str = "color,translation,cutout"  # differentiable, in front of D for real and fake; "" = off
    # model (StyleGANConfig)
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 8
    channels: int = 128
    min_channels: int = 32
    d_channels: int = 128
    upsample: str = "bilinear"  # bilinear | bicubic: how G doubles its maps (may be changed at --resume: same weights)
    # optimisation
    batch_size: int = 32  # per process
    lr: float = 0.002
    decay_start: int = 0  # with decay_steps > 0: cool G's and D's lr down linearly to lr_min (may be set at --resume)
    decay_steps: int = 0  # 0: constant lr
    lr_min: float = 0.0
    r1_gamma: float = 0.1  # small for 64x64 faces
    r1_every: int = 16
    mixing: float = 0.9
    ema_decay: float = 0.999
    max_steps: int = 100_000

    def model_config(self) -> StyleGANConfig:
        return StyleGANConfig(image_size=self.image_size, z_dim=self.z_dim, w_dim=self.w_dim,
                              mapping_layers=self.mapping_layers, channels=self.channels,
                              min_channels=self.min_channels, d_channels=self.d_channels,
                              upsample=self.upsample)


def parse_args(argv: list[str] | None = None) -> GANConfig:
    p = config_parser(GANConfig, __doc__)
    cfg = GANConfig(**vars(p.parse_args(argv)))
    if cfg.augment not in AUGMENTATIONS:
        p.error(f"--augment must be one of {', '.join(AUGMENTATIONS)}")
    try:
        check_policy(cfg.diffaugment)
    except ValueError as e:
        p.error(str(e))
    if cfg.moments_dtype not in MOMENTS_DTYPES:
        p.error(f"--moments-dtype must be one of {', '.join(MOMENTS_DTYPES)}")
    if cfg.batch_size < 2 or cfg.max_steps < 1 or cfg.r1_every < 1:
        p.error("--batch-size must be >= 2; --max-steps and --r1-every >= 1")
    if not 0 <= cfg.mixing <= 1:
        p.error("--mixing must be in [0, 1]")
    try:
        lr_at(0, cfg.lr, 0, cfg.decay_start, cfg.decay_steps, cfg.lr_min)
    except ValueError as e:
        p.error(str(e))
    try:
        cfg.model_config()  # validates the model fields
    except ValueError as e:
        p.error(str(e))
    return cfg


def save_state(setup: Run, g, d, g_ema, opt_g, opt_d, step: int) -> None:
    """The training state (one atomic file, G's EMA included) first, then the checkpoint the app loads."""
    cfg = setup.cfg
    setup.save(step, {"g.": g, "d.": d, "ema.": g_ema}, {"g": (opt_g, "opt_g"), "d": (opt_d, "opt_d")})
    save_stylegan_checkpoint(cfg.out, g_ema, cfg.model_config(), extra={
        "weights": "EMA", "steps_trained": step,
        "images_seen": step * cfg.batch_size * world_size(),
        "training": dataclasses.asdict(cfg), "data": {"path": os.path.abspath(cfg.data),
                                                      "images": len(setup.walk.images),
                                                      "split": "train" if cfg.exclude_heldout else "all"}})
    plot_losses(cfg.out)


def save_sample_grid(g_ema, cfg: GANConfig, step: int) -> str:
    return save_grid(generate(g_ema.eval(), list(range(cfg.sample_seeds))), cfg.out, step)


def sync_grads(module: torch.nn.Module, world: int) -> None:
    """Average gradients over processes by hand: the R1 step runs outside DDP (double backward)."""
    if world > 1:
        for p in module.parameters():
            if p.grad is not None:
                torch.distributed.all_reduce(p.grad)
                p.grad /= world


def train(cfg: GANConfig) -> int:
    with threads(cfg.threads or torch.get_num_threads()):  # --threads holds for the run, not the process
        return _train(cfg)


def _train(cfg: GANConfig) -> int:
    setup = start_run(cfg)
    cfg, accelerator, main_proc, world = setup.cfg, setup.accelerator, setup.main_proc, setup.world
    mc = cfg.model_config()
    g, d, g_ema = Generator(mc), Discriminator(mc), Generator(mc)  # seeded: identical on every rank
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(0.0, 0.99))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(0.0, 0.99))
    step = setup.resume({"g.": g, "d.": d, "ema.": g_ema}, {"g": (opt_g, "opt_g"), "d": (opt_d, "opt_d")})
    images, walk = setup.images, setup.walk
    if setup.state is None:
        g_ema.load_state_dict(g.state_dict())
    g_ema.requires_grad_(False).eval()
    g_ema = g_ema.to(accelerator.device)
    channels_last = accelerator.device.type == "cpu"  # about 25 % faster convolutions on a CPU
    if channels_last:
        g, d = g.to(memory_format=torch.channels_last), d.to(memory_format=torch.channels_last)
    g, d, opt_g, opt_d = accelerator.prepare(g, d, opt_g, opt_d)
    raw_g, raw_d = accelerator.unwrap_model(g), accelerator.unwrap_model(d)
    if main_proc:
        n_g, n_d = (sum(p.numel() for p in m.parameters()) / 1e6 for m in (raw_g, raw_d))
        print(f"StyleGAN G {n_g:.2f} M, D {n_d:.2f} M params; {len(images)} images; "
              f"{world} process(es) × batch {cfg.batch_size}; step {step} → {cfg.max_steps}")
    device, z_dim = accelerator.device, cfg.z_dim
    done, last_r1 = step, None

    def seen(x: torch.Tensor) -> torch.Tensor:  # what D sees of an image, real or generated
        if not cfg.diffaugment:
            return x
        x = diff_augment(x, cfg.diffaugment)
        return x.contiguous(memory_format=torch.channels_last) if channels_last else x.contiguous()

    def latents(n: int) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        z = torch.randn(n, z_dim, device=device)
        if torch.rand(()) < cfg.mixing:
            return z, torch.randn(n, z_dim, device=device), int(torch.randint(1, raw_g.num_ws, ()))
        return z, None, 0

    def train_step(batch: torch.Tensor) -> tuple[dict, dict]:
        nonlocal done, last_r1
        real = augment(batch, cfg.augment).to(device)
        if channels_last:
            real = real.contiguous(memory_format=torch.channels_last)
        n = real.shape[0]
        lr = lr_at(done, cfg.lr, 0, cfg.decay_start, cfg.decay_steps, cfg.lr_min)
        for group in (*opt_g.param_groups, *opt_d.param_groups):
            group["lr"] = lr

        # --- D: logistic loss on real vs fake; every r1_every steps also R1 (outside DDP, synced by hand)
        z, z_mix, cut = latents(n)
        with torch.no_grad():
            fake = g(z, z_mix=z_mix, crossover=cut)
        opt_d.zero_grad(set_to_none=True)
        if done % cfg.r1_every == 0:
            r1 = r1_penalty(raw_d, real)
            loss_d = discriminator_loss(raw_d(seen(real)), raw_d(seen(fake)))
            (loss_d + cfg.r1_gamma / 2 * r1 * cfg.r1_every).backward()
            sync_grads(raw_d, world)
            last_r1 = r1.item()
        else:
            loss_d = discriminator_loss(d(seen(real)), d(seen(fake)))
            accelerator.backward(loss_d)
        opt_d.step()

        # --- G: non-saturating loss through the (unwrapped, frozen) D: only G's gradients are synced
        z, z_mix, cut = latents(n)
        raw_d.requires_grad_(False)
        loss_g = generator_loss(raw_d(seen(g(z, z_mix=z_mix, crossover=cut))))
        opt_g.zero_grad(set_to_none=True)
        accelerator.backward(loss_g)
        opt_g.step()
        raw_d.requires_grad_(True)
        done += 1
        decay = ema_decay_at(done, cfg.ema_decay)
        update_ema(g_ema, raw_g, decay)
        return {"loss_g": loss_g.item(), "loss_d": loss_d.item()}, {"r1": last_r1, "lr": lr, "ema_decay": decay}

    return run(cfg, step, walk, train_step,
               save_fn=lambda s: save_state(setup, raw_g, raw_d, g_ema, opt_g, opt_d, s),
               sample_fn=lambda s: save_sample_grid(g_ema, cfg, s),
               main_proc=main_proc, barrier=accelerator.wait_for_everyone, script="train_gan.py")


if __name__ == "__main__":
    train(parse_args())
