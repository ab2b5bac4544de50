"""Train the StyleGAN baseline (diffusion/stylegan.py) with the same tooling as train.py: the same data
loading and augmentation presets, log.jsonl + loss.png, sample grids on fixed seeds, exact --resume,
Ctrl-C/SIGTERM saving, Accelerate for several processes, and a self-describing checkpoint
(config.json + model.safetensors holding the generator's EMA weights).

    python train_gan.py --data ../shared/data/anime-faces --out checkpoints/stylegan-64
    python train_gan.py --out checkpoints/stylegan-64 --resume

Losses (StyleGAN2): non-saturating logistic for G and D, lazy R1 on real images every --r1-every steps
(scaled by that interval), style mixing with probability --mixing, Adam(β1 = 0, β2 = 0.99), EMA of G.
"""
from __future__ import annotations

import dataclasses
import os
import sys
import time
from dataclasses import dataclass

import torch

from diffusion.checkpoint import save_stylegan_checkpoint
from diffusion.data import AUGMENTATIONS, augment, load_images
from diffusion.stylegan import (Discriminator, Generator, StyleGANConfig, discriminator_loss, generate,
                                generator_loss, r1_penalty)
from diffusion.training import (DEFAULT_DATA, append_log, config_parser, ema_decay_at, flatten_optimizer, next_batch,
                                open_log, plot_losses, progress_bar, read_training_state, restore_rng,
                                resumed_config, save_grid, save_on_signals, unflatten_optimizer, update_ema,
                                world_size, write_training_state)


@dataclass
class GANConfig:
    data: str = DEFAULT_DATA
    out: str = "checkpoints/stylegan-run"
    resume: bool = False
    image_size: int = 64
    augment: str = "flip"  # none | flip | hw6-medium
    # model (StyleGANConfig)
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 8
    channels: int = 128
    min_channels: int = 32
    d_channels: int = 128
    # optimisation
    batch_size: int = 32  # per process
    lr: float = 0.002
    r1_gamma: float = 0.1  # small for 64x64 faces
    r1_every: int = 16
    mixing: float = 0.9
    ema_decay: float = 0.999
    max_steps: int = 100_000
    # bookkeeping
    log_every: int = 20
    sample_every: int = 500
    save_every: int = 250
    sample_seeds: int = 16
    seed: int = 0
    max_images: int = 0
    threads: int = 0
    progress: bool = True

    def model_config(self) -> StyleGANConfig:
        return StyleGANConfig(image_size=self.image_size, z_dim=self.z_dim, w_dim=self.w_dim,
                              mapping_layers=self.mapping_layers, channels=self.channels,
                              min_channels=self.min_channels, d_channels=self.d_channels)


def parse_args(argv: list[str] | None = None) -> GANConfig:
    p = config_parser(GANConfig, __doc__)
    cfg = GANConfig(**vars(p.parse_args(argv)))
    if cfg.augment not in AUGMENTATIONS:
        p.error(f"--augment must be one of {', '.join(AUGMENTATIONS)}")
    if cfg.batch_size < 2 or cfg.max_steps < 1 or cfg.r1_every < 1:
        p.error("--batch-size must be >= 2; --max-steps and --r1-every >= 1")
    if not 0 <= cfg.mixing <= 1:
        p.error("--mixing must be in [0, 1]")
    cfg.model_config()  # validates the model fields
    return cfg


def save_state(cfg: GANConfig, g, d, g_ema, opt_g, opt_d, step: int, data_gen, perm, pos: int) -> None:
    save_stylegan_checkpoint(cfg.out, g_ema, cfg.model_config(), extra={
        "weights": "EMA", "steps_trained": step,
        "images_seen": step * cfg.batch_size * world_size(),
        "training": dataclasses.asdict(cfg), "data": {"path": os.path.abspath(cfg.data), "images": len(perm)}})
    tg, mg = flatten_optimizer(opt_g)
    td, md = flatten_optimizer(opt_d)
    tensors = {**{f"g.{k}": v for k, v in g.state_dict().items()}, **{f"d.{k}": v for k, v in d.state_dict().items()},
               **{f"g{k}": v for k, v in tg.items()}, **{f"d{k}": v for k, v in td.items()},
               "rng.torch": torch.get_rng_state(), "rng.data": data_gen.get_state(), "data.perm": perm}
    write_training_state(cfg.out, tensors, {"step": step, "pos": pos, "opt_g": mg, "opt_d": md,
                                           "config": dataclasses.asdict(cfg)})
    plot_losses(cfg.out, ("loss_g", "loss_d"), "logistic loss", log_scale=False)


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
    from accelerate import Accelerator

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    cuda = torch.cuda.is_available()
    accelerator = Accelerator(cpu=not cuda)
    main_proc, rank, world = accelerator.is_main_process, accelerator.process_index, accelerator.num_processes
    state = meta = None
    if cfg.resume:
        state, meta = read_training_state(cfg.out)
        cfg = resumed_config(cfg, meta)

    images = load_images(cfg.data, cfg.image_size, limit=cfg.max_images, log=print if main_proc else None)
    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    mc = cfg.model_config()
    g, d, g_ema = Generator(mc), Discriminator(mc), Generator(mc)
    if rank:
        torch.manual_seed(cfg.seed + rank)
    opt_g = torch.optim.Adam(g.parameters(), lr=cfg.lr, betas=(0.0, 0.99))
    opt_d = torch.optim.Adam(d.parameters(), lr=cfg.lr, betas=(0.0, 0.99))
    data_gen = torch.Generator().manual_seed(cfg.seed)
    step, pos, perm = 0, 0, torch.randperm(len(images), generator=data_gen)
    if state is not None:
        from safetensors.torch import load_file

        g.load_state_dict({k[2:]: v for k, v in state.items() if k.startswith("g.")})
        d.load_state_dict({k[2:]: v for k, v in state.items() if k.startswith("d.")})
        g_ema.load_state_dict(load_file(os.path.join(cfg.out, "model.safetensors")))
        opt_g.load_state_dict(unflatten_optimizer({k[1:]: v for k, v in state.items() if k.startswith("gopt.")},
                                                  meta["opt_g"]))
        opt_d.load_state_dict(unflatten_optimizer({k[1:]: v for k, v in state.items() if k.startswith("dopt.")},
                                                  meta["opt_d"]))
        perm, pos, step = state["data.perm"], meta["pos"], meta["step"]
        restore_rng(state, data_gen, rank, cfg.seed, step)
    else:
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
    log_path = open_log(cfg.out, step) if main_proc else None
    bar = progress_bar(main_proc and cfg.progress, cfg.max_steps, step)
    hist, t_last = {"loss_g": [], "loss_d": [], "r1": []}, time.perf_counter()
    if main_proc:
        save_on_signals()
    device, z_dim = accelerator.device, cfg.z_dim

    def latents(n: int) -> tuple[torch.Tensor, torch.Tensor | None, int]:
        z = torch.randn(n, z_dim, device=device)
        if torch.rand(()) < cfg.mixing:
            return z, torch.randn(n, z_dim, device=device), int(torch.randint(1, raw_g.num_ws, ()))
        return z, None, 0

    try:
        while step < cfg.max_steps:
            idx, perm, pos = next_batch(perm, pos, len(images), data_gen, cfg.batch_size, rank, world)
            real = augment(images[idx], cfg.augment).to(device)
            if channels_last:
                real = real.contiguous(memory_format=torch.channels_last)
            n = real.shape[0]

            # --- D: logistic loss on real vs fake; every r1_every steps also R1 (outside DDP, synced by hand)
            z, z_mix, cut = latents(n)
            with torch.no_grad():
                fake = g(z, z_mix=z_mix, crossover=cut)
            opt_d.zero_grad(set_to_none=True)
            if step % cfg.r1_every == 0:
                r1 = r1_penalty(raw_d, real)
                loss_d = discriminator_loss(raw_d(real), raw_d(fake))
                (loss_d + cfg.r1_gamma / 2 * r1 * cfg.r1_every).backward()
                sync_grads(raw_d, world)
                hist["r1"].append(r1.item())
            else:
                loss_d = discriminator_loss(d(real), d(fake))
                accelerator.backward(loss_d)
            opt_d.step()

            # --- G: non-saturating loss through the (unwrapped, frozen) D: only G's gradients are synced
            z, z_mix, cut = latents(n)
            raw_d.requires_grad_(False)
            loss_g = generator_loss(raw_d(g(z, z_mix=z_mix, crossover=cut)))
            opt_g.zero_grad(set_to_none=True)
            accelerator.backward(loss_g)
            opt_g.step()
            raw_d.requires_grad_(True)
            step += 1

            decay = ema_decay_at(step, cfg.ema_decay)
            update_ema(g_ema, raw_g, decay)
            hist["loss_g"].append(loss_g.item())
            hist["loss_d"].append(loss_d.item())
            if bar is not None:
                bar.update(1)
                bar.set_postfix(g=f"{hist['loss_g'][-1]:.3f}", d=f"{hist['loss_d'][-1]:.3f}")
            if main_proc and step % cfg.log_every == 0:
                now = time.perf_counter()
                mean = lambda v: sum(v[-cfg.log_every:]) / max(1, len(v[-cfg.log_every:]))  # noqa: E731
                row = {"step": step, "loss_g": mean(hist["loss_g"]), "loss_d": mean(hist["loss_d"]),
                       "r1": hist["r1"][-1] if hist["r1"] else None, "ema_decay": decay,
                       "steps_per_s": cfg.log_every / (now - t_last), "time": time.time()}
                t_last = now
                append_log(log_path, row)
            if step % cfg.save_every == 0 or step == cfg.max_steps:
                accelerator.wait_for_everyone()
                if main_proc:
                    save_state(cfg, raw_g, raw_d, g_ema, opt_g, opt_d, step, data_gen, perm, pos)
            if main_proc and (step % cfg.sample_every == 0 or step == cfg.max_steps):
                save_sample_grid(g_ema, cfg, step)
    except KeyboardInterrupt:
        if main_proc:
            print(f"\ninterrupted at step {step}: saving to {cfg.out} …", file=sys.stderr)
            save_state(cfg, raw_g, raw_d, g_ema, opt_g, opt_d, step, data_gen, perm, pos)
            print(f"saved; continue with: python train_gan.py --out {cfg.out} --resume", file=sys.stderr)
        return step
    finally:
        if bar is not None:
            bar.close()
    return step


if __name__ == "__main__":
    train(parse_args())
