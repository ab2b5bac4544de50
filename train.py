"""Train the diffusion UNet on a folder (or .zip) of face images and write checkpoints the app loads.

    python train.py --data ../shared/data/anime-faces --out checkpoints/my-run
    python train.py --out checkpoints/my-run --resume            # continue exactly where it stopped
    accelerate launch --multi_gpu --num_processes 2 train.py --data ... --out ...   # 2 GPUs (or 2 CPU processes)

Every flag is a field of `TrainConfig` below. The output folder holds the checkpoint (`config.json`,
`model.safetensors` = EMA weights), `training_state/` (optimizer, raw weights, RNG; never loaded by the
app), `log.jsonl`, `loss.png` and `samples/step_NNNNNN.png` (EMA model, fixed seeds). Ctrl-C or SIGTERM saves first.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal
import sys
import time
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from diffusion.checkpoint import atomic_save_tensors, atomic_write_bytes, save_checkpoint
from diffusion.data import AUGMENTATIONS, augment, load_images
from diffusion.samplers import dpm_solver, eps_model, sample, seeded_noise
from diffusion.schedules import make_schedule
from diffusion.unet import UNet, UNetConfig, count_parameters

DEFAULT_DATA = os.environ.get("ANIME_FACES_DIR", "../shared/data/anime-faces")


@dataclass
class TrainConfig:
    data: str = DEFAULT_DATA  # a flat folder of .jpg/.png, or a .zip of them
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
    weight_decay: float = 0.0
    grad_clip: float = 1.0
    ema_decay: float = 0.999
    ema_warmup: bool = True  # decay min(ema_decay, (1+step)/(10+step)) so early EMA tracks the model
    max_steps: int = 200_000
    # bookkeeping
    log_every: int = 20
    sample_every: int = 500
    save_every: int = 250
    sample_seeds: int = 16
    seed: int = 0
    max_images: int = 0  # use only the first N images (0 = all); for quick tests
    compile: bool = False  # torch.compile the model (CUDA)
    threads: int = 0  # torch CPU threads (0 = torch's default)
    progress: bool = True

    def unet_config(self) -> UNetConfig:
        return UNetConfig(image_size=self.image_size, base_channels=self.base_channels,
                          channel_mults=_ints(self.channel_mults), num_res_blocks=self.num_res_blocks,
                          attention_resolutions=_ints(self.attention_resolutions), dropout=self.dropout)


def _ints(s: str) -> tuple[int, ...]:
    return tuple(int(v) for v in str(s).split(",") if v.strip())


def parse_args(argv: list[str] | None = None) -> TrainConfig:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(TrainConfig):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            p.add_argument(flag, type={"int": int, "float": float}.get(str(f.type), str), default=f.default)
    cfg = TrainConfig(**vars(p.parse_args(argv)))
    if cfg.augment not in AUGMENTATIONS:
        p.error(f"--augment must be one of {', '.join(AUGMENTATIONS)}")
    if cfg.prediction not in ("eps", "v"):
        p.error("--prediction must be eps or v")
    if cfg.batch_size < 1 or cfg.max_steps < 1:
        p.error("--batch-size and --max-steps must be >= 1")
    return cfg


# ----------------------------------------------------------------------------- training state

def flatten_optimizer(opt: torch.optim.Optimizer) -> tuple[dict[str, torch.Tensor], dict]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"opt.{idx}.{k}"] = v
            else:
                scalars[f"{idx}.{k}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], meta: dict) -> dict:
    state: dict[int, dict] = {}
    for name, v in tensors.items():
        if name.startswith("opt."):
            _, idx, k = name.split(".", 2)
            state.setdefault(int(idx), {})[k] = v
    for name, v in meta["scalars"].items():
        idx, k = name.split(".", 1)
        state.setdefault(int(idx), {})[k] = v
    return {"state": state, "param_groups": meta["param_groups"]}


def save_state(cfg: TrainConfig, model, ema, opt, step: int, data_gen: torch.Generator, perm, pos: int) -> None:
    """Checkpoint (EMA) for the app + training state for --resume, each file written atomically."""
    save_checkpoint(cfg.out, ema, cfg.unet_config(), cfg.schedule, cfg.timesteps, cfg.prediction, extra={
        "steps_trained": step, "images_seen": step * cfg.batch_size * _world(),
        "training": dataclasses.asdict(cfg),
        "data": {"path": os.path.abspath(cfg.data), "images": int(len(perm)) if perm is not None else None},
        "weights": "EMA"})
    state_dir = os.path.join(cfg.out, "training_state")
    os.makedirs(state_dir, exist_ok=True)
    opt_tensors, opt_meta = flatten_optimizer(opt)
    tensors = {**{f"model.{k}": v for k, v in model.state_dict().items()}, **opt_tensors,
               "rng.torch": torch.get_rng_state(), "rng.data": data_gen.get_state(), "data.perm": perm}
    atomic_save_tensors(tensors, os.path.join(state_dir, "state.safetensors"))
    meta = {"step": step, "pos": pos, "optimizer": opt_meta, "config": dataclasses.asdict(cfg)}
    atomic_write_bytes(os.path.join(state_dir, "state.json"), json.dumps(meta).encode())
    plot_losses(cfg.out)


def _world() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


def plot_losses(out: str, keys: tuple[str, ...] = ("loss",), ylabel: str = "weighted MSE",
                log_scale: bool = True) -> None:
    """log.jsonl → loss.png: each key per log interval, with a moving mean."""
    path = os.path.join(out, "log.jsonl")
    if not os.path.exists(path):
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [json.loads(line) for line in open(path) if line.strip()]
    if not rows:
        return
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    steps = [r["step"] for r in rows]
    for key in keys:
        loss = [r[key] for r in rows]
        line, = ax.plot(steps, loss, lw=0.8, alpha=0.4, label=f"{key} (per log interval)")
        k = max(1, len(loss) // 30)
        if len(loss) > k:
            smooth = [sum(loss[max(0, i - k):i + 1]) / len(loss[max(0, i - k):i + 1]) for i in range(len(loss))]
            ax.plot(steps, smooth, lw=1.5, color=line.get_color(), label=f"{key}, moving mean ({k + 1})")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if log_scale:
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "loss.png"))
    plt.close(fig)


def save_sample_grid(ema, cfg: TrainConfig, schedule, step: int) -> str:
    from torchvision.utils import save_image

    net = ema.eval()
    noise, _ = seeded_noise(list(range(cfg.sample_seeds)), (3, cfg.image_size, cfg.image_size),
                            device=next(net.parameters()).device)
    imgs = sample(dpm_solver(eps_model(net, schedule, cfg.prediction), schedule, noise, steps=20))
    os.makedirs(os.path.join(cfg.out, "samples"), exist_ok=True)
    path = os.path.join(cfg.out, "samples", f"step_{step:06d}.png")
    save_image((imgs.float().cpu() + 1) / 2, path, nrow=int(math.ceil(math.sqrt(cfg.sample_seeds))), padding=2)
    return path


# ----------------------------------------------------------------------------- main loop

def train(cfg: TrainConfig) -> int:
    """Run training until cfg.max_steps; returns the last step. Resumes from cfg.out with --resume."""
    from accelerate import Accelerator

    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    cuda = torch.cuda.is_available()  # without CUDA, cpu=True makes several processes MULTI_CPU (gloo)
    accelerator = Accelerator(cpu=not cuda, mixed_precision="bf16" if cuda else "no")
    main_proc = accelerator.is_main_process
    rank, world = accelerator.process_index, accelerator.num_processes

    state, meta = None, None
    if cfg.resume:
        state_dir = os.path.join(cfg.out, "training_state")
        if not os.path.isfile(os.path.join(state_dir, "state.json")):
            raise SystemExit(f"--resume: no training state in {state_dir}; start without --resume.")
        from safetensors.torch import load_file

        meta = json.load(open(os.path.join(state_dir, "state.json")))
        state = load_file(os.path.join(state_dir, "state.safetensors"))
        keep = {"out", "resume", "max_steps", "progress", "threads", "sample_every", "save_every", "log_every"}
        cfg = TrainConfig(**{**meta["config"], **{k: getattr(cfg, k) for k in keep}})

    images = load_images(cfg.data, cfg.image_size, limit=cfg.max_images, log=print if main_proc else None)
    schedule = make_schedule(cfg.schedule, cfg.timesteps)
    alphas_cumprod = schedule.alphas_cumprod.float().to(accelerator.device)

    torch.manual_seed(cfg.seed)  # identical initial weights on every rank
    model = UNet(cfg.unet_config())
    ema = UNet(cfg.unet_config())
    if rank:  # each rank draws its own t and noise
        torch.manual_seed(cfg.seed + rank)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    data_gen = torch.Generator().manual_seed(cfg.seed)  # same on every rank: ranks take disjoint slices
    step, pos, perm = 0, 0, torch.randperm(len(images), generator=data_gen)
    if state is not None:
        model.load_state_dict({k[6:]: v for k, v in state.items() if k.startswith("model.")})
        from safetensors.torch import load_file

        ema.load_state_dict(load_file(os.path.join(cfg.out, "model.safetensors")))
        opt.load_state_dict(unflatten_optimizer(state, meta["optimizer"]))
        torch.set_rng_state(state["rng.torch"])
        data_gen.set_state(state["rng.data"])
        perm, pos, step = state["data.perm"], meta["pos"], meta["step"]
        if rank:  # only rank 0's RNG is saved; other ranks reseed from the step, still deterministic
            torch.manual_seed(cfg.seed + rank + 1_000_003 * step)
    else:
        if cfg.init_from:
            from diffusion.checkpoint import load_checkpoint

            source = load_checkpoint(cfg.init_from)
            if source.net.config.to_dict() != cfg.unet_config().to_dict():
                raise SystemExit(f"--init-from {cfg.init_from}: its UNet config differs from the flags given "
                                 f"({source.net.config.to_dict()})")
            model.load_state_dict(source.net.state_dict())
        ema.load_state_dict(model.state_dict())
    ema.requires_grad_(False)
    if accelerator.device.type == "cpu":
        model = model.to(memory_format=torch.channels_last)
    ema = ema.to(accelerator.device)
    model, opt = accelerator.prepare(model, opt)
    if cfg.compile:
        model = torch.compile(model)
    raw = accelerator.unwrap_model(model)
    if main_proc:
        print(f"UNet {count_parameters(raw) / 1e6:.2f} M params; {len(images)} images; "
              f"{world} process(es) × batch {cfg.batch_size}; step {step} → {cfg.max_steps}")

    log_path = os.path.join(cfg.out, "log.jsonl")
    os.makedirs(cfg.out, exist_ok=True)
    if main_proc and os.path.exists(log_path):  # drop rows logged after the state we resumed from
        rows = [r for r in open(log_path) if r.strip() and json.loads(r)["step"] <= step]
        atomic_write_bytes(log_path, "".join(rows).encode())
    bar = None
    if main_proc and cfg.progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=cfg.max_steps, initial=step, unit="step", dynamic_ncols=True)
    losses, t_last = [], time.perf_counter()

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    # Ctrl-C and SIGTERM (a scheduler, `kill`) both save first; a shell starts background jobs with SIGINT
    # ignored, so install the handlers explicitly.
    if main_proc:
        signal.signal(signal.SIGINT, interrupt)
        signal.signal(signal.SIGTERM, interrupt)

    def checkpoint() -> None:
        accelerator.wait_for_everyone()
        if main_proc:
            save_state(cfg, raw, ema, opt, step, data_gen, perm, pos)

    try:
        while step < cfg.max_steps:
            # --- batch: this rank's slice of the next global batch, from one shared permutation
            need = cfg.batch_size * world
            if pos + need > len(perm):
                perm, pos = torch.randperm(len(images), generator=data_gen), 0
            idx = perm[pos:pos + need][rank::world]
            pos += need
            x0 = augment(images[idx], cfg.augment).to(accelerator.device)
            if accelerator.device.type == "cpu":
                x0 = x0.contiguous(memory_format=torch.channels_last)
            t = torch.randint(0, cfg.timesteps, (x0.shape[0],), device=x0.device)
            noise = torch.randn_like(x0)
            ab = alphas_cumprod[t].view(-1, 1, 1, 1)
            xt = ab.sqrt() * x0 + (1 - ab).sqrt() * noise  # q(x_t | x_0), DDPM eq. 4
            target = noise if cfg.prediction == "eps" else ab.sqrt() * noise - (1 - ab).sqrt() * x0

            # --- loss with optional min-SNR-γ weights (for v: min(snr, γ)/(snr + 1))
            lr = cfg.lr * min(1.0, (step + 1) / max(1, cfg.warmup_steps))
            for g in opt.param_groups:
                g["lr"] = lr
            with accelerator.autocast():
                pred = model(xt, t)
            per_image = F.mse_loss(pred.float(), target, reduction="none").mean(dim=(1, 2, 3))
            if cfg.min_snr_gamma > 0:
                snr = ab.view(-1) / (1 - ab.view(-1))
                clipped = snr.clamp(max=cfg.min_snr_gamma)
                per_image = per_image * (clipped / snr if cfg.prediction == "eps" else clipped / (snr + 1))
            loss = per_image.mean()
            opt.zero_grad(set_to_none=True)
            accelerator.backward(loss)
            grad_norm = accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
            step += 1

            # --- EMA of the weights, with warm-up
            decay = min(cfg.ema_decay, (1 + step) / (10 + step)) if cfg.ema_warmup else cfg.ema_decay
            with torch.no_grad():
                for pe, pm in zip(ema.parameters(), raw.parameters()):
                    pe.lerp_(pm.detach().to(pe.dtype), 1 - decay)
                for be, bm in zip(ema.buffers(), raw.buffers()):
                    be.copy_(bm)

            losses.append(loss.item())
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{losses[-1]:.4f}", lr=f"{lr:.1e}")
            if main_proc and step % cfg.log_every == 0:
                now = time.perf_counter()
                row = {"step": step, "loss": sum(losses[-cfg.log_every:]) / len(losses[-cfg.log_every:]),
                       "lr": lr, "grad_norm": float(grad_norm), "ema_decay": decay,
                       "steps_per_s": cfg.log_every / (now - t_last), "time": time.time()}
                t_last = now
                with open(log_path, "a") as f:
                    f.write(json.dumps(row) + "\n")
            if step % cfg.save_every == 0 or step == cfg.max_steps:
                checkpoint()
            if main_proc and (step % cfg.sample_every == 0 or step == cfg.max_steps):
                save_sample_grid(ema, cfg, schedule, step)
    except KeyboardInterrupt:
        if main_proc:
            print(f"\ninterrupted at step {step}: saving to {cfg.out} …", file=sys.stderr)
            save_state(cfg, raw, ema, opt, step, data_gen, perm, pos)
            print(f"saved; continue with: python train.py --out {cfg.out} --resume", file=sys.stderr)
        return step
    finally:
        if bar is not None:
            bar.close()
    return step


if __name__ == "__main__":
    train(parse_args())
