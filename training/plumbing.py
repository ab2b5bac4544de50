"""Training plumbing shared by train.py (diffusion UNet) and train_gan.py (StyleGAN): config dataclass →
CLI flags, optimizer state in safetensors, resume, the data walk over one shared permutation, EMA,
log.jsonl + loss.png, sample grids, progress bar and save-on-signal. No model maths lives here."""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import signal

import torch

from lab import paths
from lab.checkpoint import atomic_save_tensors, atomic_write_bytes

DEFAULT_DATA = paths.FACES
STATE_DIR = "training_state"
# flags that a resumed run takes from the command line; every other field comes from the saved run
RESUME_KEEPS = {"out", "resume", "max_steps", "progress", "threads", "sample_every", "save_every", "log_every",
                "moments_dtype", "snapshots"}
# a cooldown is decided mid-run (warmup-stable-decay): these flags, when given at --resume, replace the saved ones
RESUME_MAY_SET = {"decay_start", "decay_steps", "lr_min", "upsample"}  # upsample: a GAN fine-tuned with another
                                                                      # upsampler keeps its weights' shapes
# how the optimizer's moments may be stored in the training state: float32 resumes bit for bit; bfloat16 halves
# them (10 MB less for the default UNet, so a run committed every session grows the repo less), at the cost of
# rounding them once per save (a relative 0.4 %), which a resumed run then carries on from
MOMENTS_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16}


def config_parser(cls: type, description: str | None) -> argparse.ArgumentParser:
    """One --flag per dataclass field (bools get --x/--no-x), defaults from the dataclass."""
    p = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    for f in dataclasses.fields(cls):
        flag = "--" + f.name.replace("_", "-")
        if f.type in ("bool", bool):
            p.add_argument(flag, action=argparse.BooleanOptionalAction, default=f.default)
        else:
            p.add_argument(flag, type={"int": int, "float": float}.get(str(f.type), str), default=f.default)
    return p


def world_size() -> int:
    return int(os.environ.get("WORLD_SIZE", "1"))


# ----------------------------------------------------------------------------- optimizer state ↔ safetensors

def flatten_optimizer(opt: torch.optim.Optimizer, moments_dtype: str = "float32"
                      ) -> tuple[dict[str, torch.Tensor], dict]:
    """Split an optimizer's state into tensors (for safetensors) and JSON-able scalars and param groups; the
    floating-point moments are stored as moments_dtype (see MOMENTS_DTYPES). Loading casts them back: torch's
    optimizers cast a loaded state to their parameters' dtype."""
    if moments_dtype not in MOMENTS_DTYPES:
        raise ValueError(f"moments_dtype must be one of {', '.join(MOMENTS_DTYPES)}, got {moments_dtype!r}")
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for idx, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                compact = v.is_floating_point() and k != "step"  # the step count stays exact
                tensors[f"opt.{idx}.{k}"] = v.to(MOMENTS_DTYPES[moments_dtype]) if compact else v
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


STATE_FILE = "state.safetensors"


def write_training_state(out: str, tensors: dict[str, torch.Tensor], meta: dict) -> None:
    """out/training_state/state.safetensors: every tensor of the run (weights, EMA, optimizer, RNG) and, in its
    metadata, the JSON-able rest (step, data position, config). One file written then renamed, so a crash
    leaves either the old state or the new one, never a mix of steps."""
    os.makedirs(os.path.join(out, STATE_DIR), exist_ok=True)
    atomic_save_tensors(tensors, os.path.join(out, STATE_DIR, STATE_FILE), metadata={"meta": json.dumps(meta)})
    legacy = os.path.join(out, STATE_DIR, "state.json")
    if os.path.exists(legacy):  # the two-file format of earlier runs: superseded by the file just written
        os.remove(legacy)


def read_state_file(path: str) -> tuple[dict[str, torch.Tensor], dict | None]:
    """A state.safetensors file's tensors and the metadata stored in it (None for the earlier two-file format)."""
    from safetensors import safe_open
    from safetensors.torch import load_file

    with safe_open(path, "pt") as f:
        stored = (f.metadata() or {}).get("meta")
    return load_file(path), None if stored is None else json.loads(stored)


def read_training_state(out: str) -> tuple[dict[str, torch.Tensor], dict]:
    """The tensors and metadata a run saved under out/training_state, for --resume. The EMA weights come as
    "ema.*" tensors; a state of the earlier two-file format (state.json beside it, EMA in model.safetensors)
    loads too."""
    from safetensors.torch import load_file

    state_dir = os.path.join(out, STATE_DIR)
    path = os.path.join(state_dir, STATE_FILE)
    if not os.path.isfile(path):
        raise SystemExit(f"--resume: no training state in {state_dir}; start without --resume.")
    tensors, meta = read_state_file(path)
    if meta is not None:
        return tensors, meta
    with open(os.path.join(state_dir, "state.json")) as f:
        meta = json.load(f)
    ema = load_file(os.path.join(out, "model.safetensors"))
    return {**tensors, **{f"ema.{k}": v for k, v in ema.items()}}, meta


def prefixed(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors whose names start with prefix, with it removed (a module's state dict from the state)."""
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def resumed_config(cfg, meta: dict):
    """The saved run's config, with only the bookkeeping flags (RESUME_KEEPS) taken from this command line."""
    unknown = set(meta["config"]) - {f.name for f in dataclasses.fields(cfg)}
    if unknown:
        raise SystemExit(f"--resume: the training state in {cfg.out} was written by another trainer "
                         f"(it has {', '.join(sorted(unknown))}); resume it with that trainer.")
    saved = dict(meta["config"])
    saved.setdefault("exclude_heldout", False)  # runs saved before the held-out split trained on every image
    if hasattr(cfg, "diffaugment"):
        saved.setdefault("diffaugment", "")  # GAN runs saved before DiffAugment existed trained without it
    defaults = {f.name: f.default for f in dataclasses.fields(cfg)}  # fields only: a property is derived
    given = {k for k in RESUME_MAY_SET if k in defaults and getattr(cfg, k) != defaults[k]}
    return type(cfg)(**{**saved, **{k: getattr(cfg, k) for k in (RESUME_KEEPS | given) if k in defaults}})


def restore_rng(state: dict[str, torch.Tensor], data_gen: torch.Generator, rank: int, seed: int, step: int) -> None:
    torch.set_rng_state(state["rng.torch"])
    data_gen.set_state(state["rng.data"])
    if rank:  # only rank 0's RNG is saved; other ranks reseed from the step, still deterministic
        torch.manual_seed(seed + rank + 1_000_003 * step)


# ----------------------------------------------------------------------------- the loop's small parts

def next_batch(perm: torch.Tensor, pos: int, n_images: int, data_gen: torch.Generator, batch_size: int,
               rank: int, world: int) -> tuple[torch.Tensor, torch.Tensor, int]:
    """This rank's slice of the next global batch from one shared permutation (a new one per epoch).
    Returns (indices, perm, pos) — perm and pos are part of the saved state."""
    need = batch_size * world
    if pos + need > len(perm):
        perm, pos = torch.randperm(n_images, generator=data_gen), 0
    return perm[pos:pos + need][rank::world], perm, pos + need


@torch.no_grad()
def update_ema(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    for pe, pm in zip(ema.parameters(), model.parameters()):
        pe.lerp_(pm.detach().to(pe.dtype), 1 - decay)
    for be, bm in zip(ema.buffers(), model.buffers()):
        be.copy_(bm)


def lr_at(step: int, lr: float, warmup_steps: int, decay_start: int = 0, decay_steps: int = 0,
          lr_min: float = 0.0) -> float:
    """The learning rate of the update after `step` updates: a linear warm-up over warmup_steps, constant, then,
    when decay_steps > 0, a linear cooldown from decay_start to lr_min over decay_steps (warmup-stable-decay,
    Hägele et al. 2024: a constant-rate run can be cooled down whenever its quality is wanted)."""
    if warmup_steps < 0 or decay_start < 0 or decay_steps < 0 or not 0 <= lr_min <= lr:
        raise ValueError(f"lr schedule: warmup_steps, decay_start and decay_steps must be >= 0 and lr_min between "
                         f"0 and lr ({lr:g}); got {warmup_steps}, {decay_start}, {decay_steps}, {lr_min:g}")
    rate = lr * min(1.0, (step + 1) / max(1, warmup_steps))
    if decay_steps and step >= decay_start:
        frac = min(1.0, (step - decay_start + 1) / decay_steps)
        rate = min(rate, lr + (lr_min - lr) * frac)
    return rate


def ema_decay_at(step: int, target: float, warmup: bool = True) -> float:
    """min(target, (1+step)/(10+step)): early on the EMA tracks the model instead of its random start."""
    return min(target, (1 + step) / (10 + step)) if warmup else target


def open_log(out: str, step: int) -> str:
    """log.jsonl in out, cut back to the rows up to step (rows logged after the state we resumed from go)."""
    os.makedirs(out, exist_ok=True)
    path = os.path.join(out, "log.jsonl")
    if os.path.exists(path):
        with open(path) as f:
            rows = [r for r in f if r.strip() and json.loads(r)["step"] <= step]
        atomic_write_bytes(path, "".join(rows).encode())
    return path


def append_log(path: str, row: dict) -> None:
    with open(path, "a") as f:
        f.write(json.dumps(row) + "\n")


def progress_bar(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True)


def save_on_signals() -> None:
    """Ctrl-C and SIGTERM (a scheduler, `kill`) both raise KeyboardInterrupt so the loop saves first; a shell
    starts background jobs with SIGINT ignored, so the handlers are installed explicitly."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGINT, interrupt)
    signal.signal(signal.SIGTERM, interrupt)


def loss_keys(gan: bool) -> tuple[tuple[str, ...], str]:
    """The losses a trainer logs and their axis label: the GAN's two logistic losses, or the diffusion loss."""
    return (("loss_g", "loss_d"), "logistic loss") if gan else (("loss",), "weighted MSE")


def plot_losses(out: str) -> None:
    """log.jsonl → loss.png: each loss per log interval, with a moving mean. The log says which trainer wrote
    it: the diffusion loss (weighted MSE, log scale), or the GAN's two logistic losses."""
    path = os.path.join(out, "log.jsonl")
    if not os.path.exists(path):
        return
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    with open(path) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        return
    keys, ylabel = loss_keys("loss_g" in rows[0])
    fig, ax = plt.subplots(figsize=(6, 3.5), dpi=110)
    for key in keys:
        steps, loss = [r["step"] for r in rows if key in r], [r[key] for r in rows if key in r]  # none in a warm-up
        line, = ax.plot(steps, loss, lw=0.8, alpha=0.4, label=f"{key} (per log interval)")
        k = max(1, len(loss) // 30)
        if len(loss) > k:
            smooth = [sum(loss[max(0, i - k):i + 1]) / len(loss[max(0, i - k):i + 1]) for i in range(len(loss))]
            ax.plot(steps, smooth, lw=1.5, color=line.get_color(), label=f"{key}, moving mean ({k + 1})")
    ax.set_xlabel("step")
    ax.set_ylabel(ylabel)
    if keys == ("loss",):  # the diffusion loss spans decades; the GAN's hover around log 4
        ax.set_yscale("log")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(out, "loss.png"))
    plt.close(fig)


def save_grid(images: torch.Tensor, out: str, step: int) -> str:
    """images in [-1, 1] → out/samples/step_NNNNNN.png, a square-ish grid."""
    from torchvision.utils import save_image

    os.makedirs(os.path.join(out, "samples"), exist_ok=True)
    path = os.path.join(out, "samples", f"step_{step:06d}.png")
    save_image((images.float().cpu() + 1) / 2, path, nrow=int(math.ceil(math.sqrt(len(images)))), padding=2)
    return path
