"""Train the diffusion UNet on a folder (or .zip) of face images and write checkpoints the app loads.

    python train.py --data ../shared/data/anime-faces --out checkpoints/my-run
    python train.py --out checkpoints/my-run --resume            # continue exactly where it stopped
    python train.py --out checkpoints/my-run --resume --decay-start 25000 --decay-steps 5000 --max-steps 30000
                                                                 # cool a constant-lr run down to lr_min
    accelerate launch --multi_gpu --num_processes 2 train.py --data ... --out ...   # 2 GPUs (or 2 CPU processes)

Every flag is a field of `TrainConfig` below. The output folder holds the checkpoint (`config.json`,
`model.safetensors` = EMA weights), `training_state/` (optimizer, raw weights, RNG; never loaded by the
app), `log.jsonl`, `loss.png` and `samples/step_NNNNNN.png` (EMA model, fixed seeds). Ctrl-C or SIGTERM saves first.
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from lab.checkpoint import atomic_save_tensors, save_checkpoint
from lab.data import AUGMENTATIONS, augment
from diffusion.cpu import threads
from diffusion.noise import seeded_noise
from diffusion.samplers import dpm_solver, eps_model, sample
from diffusion.schedules import make_schedule
from training.loop import run
from training.setup import Bookkeeping, Run, start_run
from training.plumbing import (DEFAULT_DATA, MOMENTS_DTYPES, config_parser, ema_decay_at, lr_at, plot_losses,
                               save_grid, update_ema, world_size)
from diffusion.unet import UNet, UNetConfig, count_parameters


@dataclass
class TrainConfig(Bookkeeping):  # + log/save/sample intervals, seed, threads, … (training/setup.py)
    data: str = DEFAULT_DATA  # a flat folder of .jpg/.png, or a .zip of them
    exclude_heldout: bool = True  # leave out the held-out split (lab/data.py) that quality is measured on
    out: str = "checkpoints/run"
    resume: bool = False
    init_from: str = ""  # start from this checkpoint's (EMA) weights with a fresh optimizer
    image_size: int = 64
    augment: str = "flip"  # none | flip | hw6-medium
    # diffusion
    timesteps: int = 1000
    schedule: str = "cosine"  # linear | cosine | sigmoid
    prediction: str = "v"  # eps | v
    min_snr_gamma: float = 5.0  # min-SNR loss weighting (Hang et al. 2023); 0 turns it off
    # model (UNetConfig)
    base_channels: int = 16
    channel_mults: str = "1,2,4,8"
    num_res_blocks: int = 1
    attention_resolutions: str = "16"
    dropout: float = 0.0
    # optimisation
    batch_size: int = 32  # per process
    lr: float = 5e-4
    warmup_steps: int = 500
    decay_start: int = 0  # with decay_steps > 0: cool lr down linearly to lr_min from here (settable at --resume)
    decay_steps: int = 0  # 0: constant lr after the warm-up
    lr_min: float = 0.0
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    ema_warmup: bool = True  # decay min(ema_decay, (1+step)/(10+step)) so early EMA tracks the model
    max_steps: int = 200_000
    compile: bool = False  # torch.compile the model (CUDA)
    snapshots: bool = False  # also keep each save's raw weights in out/snapshots/ (for bench/posthoc_ema.py)

    def unet_config(self) -> UNetConfig:
        return UNetConfig(image_size=self.image_size, base_channels=self.base_channels,
                          channel_mults=_ints(self.channel_mults), num_res_blocks=self.num_res_blocks,
                          attention_resolutions=_ints(self.attention_resolutions), dropout=self.dropout)


def _ints(s: str) -> tuple[int, ...]:
    return tuple(int(v) for v in str(s).split(",") if v.strip())


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    p = config_parser(TrainConfig, __doc__)
    cfg = TrainConfig(**vars(p.parse_args(argv)))
    if cfg.augment not in AUGMENTATIONS:
        p.error(f"--augment must be one of {', '.join(AUGMENTATIONS)}")
    if cfg.prediction not in ("eps", "v"):
        p.error("--prediction must be eps or v")
    if cfg.moments_dtype not in MOMENTS_DTYPES:
        p.error(f"--moments-dtype must be one of {', '.join(MOMENTS_DTYPES)}")
    if cfg.batch_size < 1 or cfg.max_steps < 1:
        p.error("--batch-size and --max-steps must be >= 1")
    try:
        lr_at(0, cfg.lr, cfg.warmup_steps, cfg.decay_start, cfg.decay_steps, cfg.lr_min)
    except ValueError as e:
        p.error(str(e))
    return cfg


# ----------------------------------------------------------------------------- training state

def save_state(setup: Run, model, ema, opt, step: int) -> None:
    """The training state (one atomic file, EMA included) first, then the checkpoint the app loads: a crash
    between the two leaves a complete state to resume from and the previous checkpoint."""
    cfg, walk = setup.cfg, setup.walk
    setup.save(step, {"model.": model, "ema.": ema}, {"": (opt, "optimizer")})
    if cfg.snapshots:  # 10 MB a save for the default UNet: local material for longer EMAs, never committed
        os.makedirs(os.path.join(cfg.out, "snapshots"), exist_ok=True)
        atomic_save_tensors(model.state_dict(), os.path.join(cfg.out, "snapshots", f"step_{step:06d}.safetensors"))
    save_checkpoint(cfg.out, ema, cfg.unet_config(), cfg.schedule, cfg.timesteps, cfg.prediction, extra={
        "steps_trained": step, "images_seen": step * cfg.batch_size * world_size(),
        "training": dataclasses.asdict(cfg),
        "data": {"path": os.path.abspath(cfg.data), "images": len(walk.images),
                 "split": "train" if cfg.exclude_heldout else "all"},
        "weights": "EMA"})
    plot_losses(cfg.out)


def save_sample_grid(ema, cfg: TrainConfig, schedule, step: int) -> str:
    net = ema.eval()
    noise, _ = seeded_noise(list(range(cfg.sample_seeds)), (3, cfg.image_size, cfg.image_size),
                            device=next(net.parameters()).device)
    return save_grid(sample(dpm_solver(eps_model(net, schedule, cfg.prediction), schedule, noise, steps=20)),
                     cfg.out, step)


# ----------------------------------------------------------------------------- training

def train(cfg: TrainConfig) -> int:
    """Run training until cfg.max_steps; returns the last step. Resumes from cfg.out with --resume."""
    with threads(cfg.threads or torch.get_num_threads()):  # --threads holds for the run, not the process
        return _train(cfg)


def _train(cfg: TrainConfig) -> int:
    setup = start_run(cfg, mixed_precision=True)
    cfg, accelerator, main_proc, world = setup.cfg, setup.accelerator, setup.main_proc, setup.world
    schedule = make_schedule(cfg.schedule, cfg.timesteps)
    model = UNet(cfg.unet_config())  # seeded by start_run: identical initial weights on every rank
    ema = UNet(cfg.unet_config())
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    step = setup.resume({"model.": model, "ema.": ema}, {"": (opt, "optimizer")})
    images, walk = setup.images, setup.walk
    if step == 0 and setup.state is None:
        if cfg.init_from:
            from lab.checkpoint import load_checkpoint

            source = load_checkpoint(cfg.init_from)
            if source.net.config.to_dict() != cfg.unet_config().to_dict():
                raise SystemExit(f"--init-from {cfg.init_from}: its UNet config differs from the flags given "
                                 f"({source.net.config.to_dict()})")
            model.load_state_dict(source.net.state_dict())
        ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    channels_last = accelerator.device.type == "cpu"
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    ema = ema.to(accelerator.device)
    model, opt = accelerator.prepare(model, opt)
    if cfg.compile:
        model = torch.compile(model)
    raw = accelerator.unwrap_model(model)
    if main_proc:
        print(f"UNet {count_parameters(raw) / 1e6:.2f} M params; {len(images)} images; "
              f"{world} process(es) × batch {cfg.batch_size}; step {step} → {cfg.max_steps}")
    done = step

    def train_step(batch: torch.Tensor) -> tuple[dict, dict]:
        nonlocal done
        x0 = augment(batch, cfg.augment).to(accelerator.device)
        if channels_last:
            x0 = x0.contiguous(memory_format=torch.channels_last)
        t = torch.randint(0, cfg.timesteps, (x0.shape[0],), device=x0.device)
        noise = torch.randn_like(x0)
        xt = schedule.q_sample(x0, t, noise)  # q(x_t | x_0), DDPM eq. 4
        target = noise if cfg.prediction == "eps" else schedule.v_target(x0, t, noise)

        lr = lr_at(done, cfg.lr, cfg.warmup_steps, cfg.decay_start, cfg.decay_steps, cfg.lr_min)
        for g in opt.param_groups:
            g["lr"] = lr
        with accelerator.autocast():
            pred = model(xt, t)
        per_image = F.mse_loss(pred.float(), target, reduction="none").mean(dim=(1, 2, 3))
        if cfg.min_snr_gamma > 0:  # min-SNR-γ (Hang et al. 2023); for v: min(snr, γ) / (snr + 1)
            snr = schedule.snr(t).to(per_image.dtype)
            clipped = snr.clamp(max=cfg.min_snr_gamma)
            per_image = per_image * (clipped / snr if cfg.prediction == "eps" else clipped / (snr + 1))
        loss = per_image.mean()
        opt.zero_grad(set_to_none=True)
        accelerator.backward(loss)
        grad_norm = accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        opt.step()
        done += 1
        decay = ema_decay_at(done, cfg.ema_decay, cfg.ema_warmup)
        update_ema(ema, raw, decay)
        return {"loss": loss.item()}, {"lr": lr, "grad_norm": float(grad_norm), "ema_decay": decay}

    return run(cfg, step, walk, train_step,
               save_fn=lambda s: save_state(setup, raw, ema, opt, s),
               sample_fn=lambda s: save_sample_grid(ema, cfg, schedule, s),
               main_proc=main_proc, barrier=accelerator.wait_for_everyone, script="train.py")


if __name__ == "__main__":
    train(parse_args())
