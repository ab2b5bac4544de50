"""Distil a diffusion checkpoint into a few-step student that the app samples with DDIM in 1–8 steps.

    python distill.py --teacher checkpoints/anime-64 --method progressive --out runs/pd --start-steps 64 --target-steps 2
    python distill.py --teacher checkpoints/anime-64 --method ect --out runs/ect --rounds 6
    python distill.py --teacher runs/pd/rounds/4-2-steps --method adversarial --out runs/adv --round-steps 1000
    python distill.py --out runs/pd --resume                    # continue exactly where it stopped

Two methods, both training in rounds of `round_steps` optimisation steps, with the learning rate falling linearly
to 0 within each round:
- progressive: progressive distillation (Salimans & Ho 2022). Round k's student takes N = start_steps / 2^(k+1)
  DDIM steps; its target for one step (t → t'') is where two DDIM steps of its teacher land (t → t' → t''), solved
  for the clean image that one DDIM step would need (their eq. 8 in ᾱ form). Round k's teacher is round k-1's
  student (the shipped checkpoint for round 0). Sampled with DDIM, η = 0, at N steps.
- ect: easy consistency tuning (Geng et al. 2024), consistency training started from the diffusion model. The
  student's clean-image prediction at t must match its own (gradient-stopped) prediction at an earlier r on the
  same noise path; round k shrinks the gap t - r (in σ = √((1-ᾱ)/ᾱ)) by 2^(k+1). No teacher network runs. Sampled
  with DDIM, η = 1 (one step: the prediction; two: predict, re-noise to the middle, predict again).
- adversarial: one finishing round for a student (--teacher is the student to start from, sampled at
  --target-steps): its whole DDIM run judged by a discriminator beside its distance to where it started
  (training/adversarial.py).

The student is the teacher's UNet and schedule, predicting v, so every surface samples it like any other
checkpoint; its config.json says which sampler and steps it was made for. Each finished round is kept as its
own checkpoint in out/rounds/ (the curve over steps, and progressive's next teacher).
The output folder has what train.py's has: config.json + model.safetensors, training_state/ (one file),
log.jsonl, loss.png and samples/step_NNNNNN.png; Ctrl-C or SIGTERM saves first.
"""
from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass

import torch

from diffusion.cpu import threads
from diffusion.noise import seeded_noise
from diffusion.samplers import ddim, eps_model, sample
from diffusion.schedules import Schedule, timestep_pairs
from diffusion.unet import UNet, count_parameters
from lab.checkpoint import LoadedModel, load_checkpoint, save_checkpoint
from lab.data import augment
from gan.diffaugment import check_policy
from training.adversarial import AdversarialRound, AdversarialSettings
from training.loop import run
from training.plumbing import DEFAULT_DATA, MOMENTS_DTYPES, config_parser, plot_losses, save_grid
from training.setup import Bookkeeping, start_run

METHODS = ("progressive", "ect", "adversarial")


@dataclass
class DistillConfig(Bookkeeping):
    teacher: str = "checkpoints/anime-64"  # a diffusion checkpoint predicting v (round 0's teacher, every student's start)
    method: str = "progressive"  # progressive | ect
    data: str = DEFAULT_DATA
    exclude_heldout: bool = True  # the held-out split stays unseen, as in train.py
    out: str = "runs/distill"
    resume: bool = False
    start_steps: int = 64  # progressive: the DDIM steps of round 0's teacher (a power of two)
    target_steps: int = 2  # progressive: the last round's student steps; ect: the steps its sampler defaults to
    rounds: int = 6  # ect: how many times the gap halves (progressive derives its rounds from the steps)
    round_steps: int = 1000  # optimisation steps per round
    batch_size: int = 32
    lr: float = 1e-4
    grad_clip: float = 1.0
    huber_c: float = 0.03  # ect: pseudo-Huber constant, per pixel value in [-1, 1]
    adv_weight: float = 0.01  # adversarial: the discriminator's term against the squared distance to the start
    d_lr: float = 2e-3  # adversarial: the discriminator's (Adam, β = 0, 0.99; equalised lr, as train_gan.py)
    d_channels: int = 64
    r1_gamma: float = 0.1
    r1_every: int = 16
    diffaugment: str = "color,translation,cutout"
    d_warmup: int = 0  # adversarial: the first steps train the discriminator alone, on the student's faces (the
                       # student's lr starts falling after them)
    augment: str = "flip"
    log_every: int = 10  # (the rest of the bookkeeping flags: training/setup.py)
    sample_every: int = 250
    save_every: int = 100
    moments_dtype: str = "bfloat16"

    def total_rounds(self) -> int:
        if self.method == "progressive":
            return int(round(math.log2(self.start_steps // self.target_steps)))
        return 1 if self.method == "adversarial" else self.rounds

    def student_steps(self, round_index: int) -> int:
        """The DDIM steps round `round_index`'s student is made for."""
        if self.method == "progressive":
            return self.start_steps >> (round_index + 1)
        return self.target_steps

    @property
    def max_steps(self) -> int:
        """What training.loop.run reads: every round's steps."""
        return self.total_rounds() * self.round_steps

    def eta(self) -> float:
        return 1.0 if self.method == "ect" else 0.0

    @property
    def image_size(self) -> int:
        """The teacher's: the student is its UNet."""
        import json

        try:
            with open(os.path.join(self.teacher, "config.json")) as f:
                return int(json.load(f)["unet"]["image_size"])
        except (OSError, ValueError, KeyError, TypeError):
            raise SystemExit(f"--teacher {self.teacher}: not a diffusion checkpoint (config.json with a UNet)") from None


def parse_args(argv: list[str] | None = None) -> DistillConfig:
    p = config_parser(DistillConfig, __doc__)
    cfg = DistillConfig(**vars(p.parse_args(argv)))
    if cfg.method not in METHODS:
        p.error(f"--method must be one of {', '.join(METHODS)}")
    if cfg.moments_dtype not in MOMENTS_DTYPES:
        p.error(f"--moments-dtype must be one of {', '.join(MOMENTS_DTYPES)}")
    pow2 = lambda n: n >= 1 and n & (n - 1) == 0  # noqa: E731
    if cfg.method == "progressive" and not (pow2(cfg.start_steps) and pow2(cfg.target_steps)
                                            and cfg.target_steps < cfg.start_steps):
        p.error("--start-steps and --target-steps must be powers of two with target < start")
    if cfg.batch_size < 1 or cfg.round_steps < 1 or cfg.rounds < 1 or cfg.target_steps < 1 or cfg.r1_every < 1:
        p.error("--batch-size, --round-steps, --rounds, --target-steps and --r1-every must be >= 1")
    if cfg.adv_weight < 0 or cfg.d_lr <= 0 or cfg.d_channels < 8 or not 0 <= cfg.d_warmup < cfg.round_steps:
        p.error("--adv-weight must be >= 0, --d-lr > 0, --d-channels >= 8 and --d-warmup in 0 … --round-steps − 1")
    try:
        check_policy(cfg.diffaugment)
    except ValueError as e:
        p.error(f"--diffaugment: {e}")
    return cfg


# ----------------------------------------------------------------------------- the two targets

def _ab(schedule: Schedule, t: torch.Tensor) -> torch.Tensor:
    """ᾱ at training indices t ([B]), with t = -1 the clean image (ᾱ = 1); shaped [B, 1, 1, 1]."""
    ab = torch.cat([schedule.alphas_cumprod, torch.ones(1, dtype=schedule.alphas_cumprod.dtype)])
    return ab[t].float().reshape(-1, 1, 1, 1)  # index -1 wraps to the appended 1


def x0_of(net, x: torch.Tensor, t: torch.Tensor, ab: torch.Tensor) -> torch.Tensor:
    """The clean image a v-network predicts at x_t: x0 = √ᾱ x_t - √(1-ᾱ) v."""
    return ab.sqrt() * x - (1 - ab).sqrt() * net(x, t)


def ddim_step(x: torch.Tensor, x0: torch.Tensor, ab: torch.Tensor, ab_next: torch.Tensor) -> torch.Tensor:
    """DDIM eq. 12 with η = 0, per image: x_next = √ᾱ' x0 + √(1-ᾱ') ε̂, ε̂ from x_t and x0."""
    eps = (x - ab.sqrt() * x0) / (1 - ab).sqrt()
    return ab_next.sqrt() * x0 + (1 - ab_next).sqrt() * eps


def progressive_target(teacher, schedule: Schedule, x: torch.Tensor, t: torch.Tensor, t_mid: torch.Tensor,
                       t_next: torch.Tensor) -> torch.Tensor:
    """The clean image x̃ for which one DDIM step t → t_next lands where the teacher's two steps t → t_mid →
    t_next land (Salimans & Ho 2022, Alg. 2): x̃ = (x'' - (σ''/σ) x) / (α'' - (σ''/σ) α). The teacher's
    predictions are clipped to [-1, 1] as when it samples."""
    ab, ab_mid, ab_next = _ab(schedule, t), _ab(schedule, t_mid), _ab(schedule, t_next)
    with torch.no_grad():
        x_mid = ddim_step(x, x0_of(teacher, x, t, ab).clamp(-1, 1), ab, ab_mid)
        x_next = ddim_step(x_mid, x0_of(teacher, x_mid, t_mid, ab_mid).clamp(-1, 1), ab_mid, ab_next)
    ratio = (1 - ab_next).sqrt() / (1 - ab).sqrt()
    return (x_next - ratio * x) / (ab_next.sqrt() - ratio * ab.sqrt())


def progressive_pairs(schedule: Schedule, student_steps: int) -> torch.Tensor:
    """[N, 3] rows (t, t_mid, t_next): the student's DDIM steps and the teacher's midpoints. Trailing grids of
    N and 2N steps nest, so the teacher walks its own grid."""
    fine = timestep_pairs(schedule.num_timesteps, 2 * student_steps)
    if not torch.equal(fine[0::2, 1], fine[1::2, 0]):
        raise AssertionError("internal error: the 2N-step grid does not nest the N-step grid")
    return torch.stack([fine[0::2, 0], fine[0::2, 1], fine[1::2, 1]], dim=1)


def edm_sigma(schedule: Schedule) -> torch.Tensor:
    """σ(t) = √((1-ᾱ)/ᾱ) at every training index: the noise level of x_t/√ᾱ, in which ECT states its gaps."""
    ab = schedule.alphas_cumprod
    return ((1 - ab) / ab).sqrt()


def ect_earlier(schedule: Schedule, t: torch.Tensor, round_index: int) -> torch.Tensor:
    """ECT's r < t for each t (Geng et al. 2024, eq. 11 mapping): σ_r = σ_t (1 - n(σ_t) / 2^(k+1)), n(σ) =
    1 + 8 sigmoid(-σ), rounded down to a training index; -1 (the clean image) where σ_r falls below σ(0)."""
    sigma = edm_sigma(schedule)
    s = sigma[t]
    s_r = s * (1 - (1 + 8 * torch.sigmoid(-s)) / 2 ** (round_index + 1))
    r = torch.searchsorted(sigma, s_r.clamp(min=0), right=True) - 1  # the largest index with σ ≤ σ_r
    return torch.minimum(r, t - 1)


# ----------------------------------------------------------------------------- training

def distill(cfg: DistillConfig) -> int:
    """Run every round; returns the last step. Resumes from cfg.out with --resume."""
    with threads(cfg.threads or torch.get_num_threads()):
        return _distill(cfg)


def _load_teacher(path: str) -> LoadedModel:
    loaded = load_checkpoint(path)
    if not loaded.has_steps or loaded.prediction != "v":
        raise SystemExit(f"--teacher {path}: distillation needs a diffusion checkpoint predicting v")
    return loaded


def _adversarial_round(cfg: DistillConfig, base: LoadedModel) -> AdversarialRound:
    made_for = (base.config.get("sampler") or {}).get("steps")
    if made_for is not None and made_for != cfg.target_steps:
        raise SystemExit(f"--teacher {cfg.teacher} is a student made for {made_for} steps: pass --target-steps {made_for}")
    return AdversarialRound(AdversarialSettings(cfg.adv_weight, cfg.d_lr, cfg.d_channels, cfg.r1_gamma, cfg.r1_every,
                                                cfg.diffaugment, cfg.d_warmup), base.net.config.image_size)


def round_dir(cfg: DistillConfig, round_index: int) -> str:
    return os.path.join(cfg.out, "rounds", f"{round_index}-{cfg.student_steps(round_index)}-steps")


def _distill(cfg: DistillConfig) -> int:
    setup = start_run(cfg)
    cfg = setup.cfg
    base = _load_teacher(cfg.teacher)
    schedule, unet_config = base.schedule, base.net.config
    model = UNet(unet_config).to(memory_format=torch.channels_last)  # the CPU's faster layout, as in train.py
    teacher = UNet(unet_config).requires_grad_(False).eval().to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=0.0)
    modules, optimizers = {"model.": model}, {"": (opt, "optimizer")}
    adversarial = _adversarial_round(cfg, base) if cfg.method == "adversarial" else None
    if adversarial:  # the student it starts from is the anchor (`teacher`); a discriminator joins
        modules["disc."] = adversarial.disc
        optimizers["d"] = (adversarial.d_opt, "d_optimizer")
    step = setup.resume(modules, optimizers)
    if setup.state is None:
        model.load_state_dict(base.net.state_dict())  # every student starts as the teacher
    images, walk = setup.images, setup.walk
    max_steps = cfg.max_steps
    current = {"round": None}

    def begin_round(k: int, fresh_optimizer: bool) -> None:
        """Round k's teacher (progressive): the shipped model, then each finished round's student."""
        current["round"] = k
        if cfg.method in ("progressive", "adversarial"):  # adversarial: the frozen start, its anchor
            source = base if k == 0 else _load_teacher(round_dir(cfg, k - 1))
            teacher.load_state_dict(source.net.state_dict())
        if fresh_optimizer:
            opt.state.clear()

    begin_round(min(step // cfg.round_steps, cfg.total_rounds() - 1), fresh_optimizer=False)
    print(f"student UNet {count_parameters(model) / 1e6:.2f} M params; {cfg.method}, {cfg.total_rounds()} rounds × "
          f"{cfg.round_steps} steps; {len(images)} images; step {step} → {max_steps}")
    done = step

    def train_step(batch: torch.Tensor) -> tuple[dict, dict]:
        nonlocal done
        k, within = divmod(done, cfg.round_steps)
        if k != current["round"]:
            begin_round(k, fresh_optimizer=True)
        # the student's lr falls linearly over the steps it trains (the discriminator's warm-up is not among them)
        waits = cfg.d_warmup if cfg.method == "adversarial" else 0
        lr = cfg.lr * (1 - max(0, within - waits) / (cfg.round_steps - waits))
        for g in opt.param_groups:
            g["lr"] = lr
        x0 = augment(batch, cfg.augment).contiguous(memory_format=torch.channels_last)
        noise = torch.randn_like(x0)
        extra = {}
        if cfg.method == "progressive":
            loss = _progressive_loss(cfg, model, teacher, schedule, x0, noise, k)
        elif cfg.method == "adversarial":
            loss, extra = adversarial.step(model, teacher, schedule, x0, cfg.target_steps, done)
        else:
            loss = _ect_loss(cfg, model, schedule, x0, noise, k)
        if loss is None:  # the discriminator's warm-up: the student waits, and logs no loss of its own
            grad_norm = torch.zeros(())
        else:
            opt.zero_grad(set_to_none=True)
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            opt.step()
        done += 1
        if done % cfg.round_steps == 0:  # a finished round is a checkpoint of its own
            _save_student(cfg, model, unet_config, schedule, base, done, k, round_dir(cfg, k))
        return ({} if loss is None else {"loss": loss.item()}), {"lr": lr, "grad_norm": float(grad_norm), "round": k,
                                       "student_steps": cfg.student_steps(k), "threads": torch.get_num_threads(),
                                       **extra}

    def save(s: int) -> None:
        setup.save(s, modules, optimizers)
        _save_student(cfg, model, unet_config, schedule, base, s, min(max(s - 1, 0) // cfg.round_steps,
                                                                      cfg.total_rounds() - 1), cfg.out)
        plot_losses(cfg.out)

    def sample_grid(s: int) -> None:
        k = min(max(s - 1, 0) // cfg.round_steps, cfg.total_rounds() - 1)
        size = unet_config.image_size
        noise, gens = seeded_noise(list(range(cfg.sample_seeds)), (3, size, size))
        net = model.eval()
        save_grid(sample(ddim(eps_model(net, schedule, "v"), schedule, noise, steps=cfg.student_steps(k),
                              eta=cfg.eta(), generator=gens)), cfg.out, s)
        model.train()

    return run(cfg, step, walk, train_step, save, sample_grid, script="distill.py")


def _progressive_loss(cfg, model, teacher, schedule, x0, noise, k: int) -> torch.Tensor:
    pairs = progressive_pairs(schedule, cfg.student_steps(k))
    rows = pairs[torch.randint(0, len(pairs), (x0.shape[0],))]
    t, t_mid, t_next = rows[:, 0], rows[:, 1], rows[:, 2]
    x = schedule.q_sample(x0, t, noise)
    target = progressive_target(teacher, schedule, x, t, t_mid, t_next)
    ab = _ab(schedule, t)
    weight = torch.maximum(ab / (1 - ab), torch.ones_like(ab))  # truncated SNR weighting, max(SNR, 1)
    return (weight * (x0_of(model, x, t, ab) - target) ** 2).mean()


def _ect_loss(cfg, model, schedule, x0, noise, k: int) -> torch.Tensor:
    t = torch.randint(1, schedule.num_timesteps, (x0.shape[0],))
    r = ect_earlier(schedule, t, k)
    ab_t, ab_r = _ab(schedule, t), _ab(schedule, r)
    x_t = ab_t.sqrt() * x0 + (1 - ab_t).sqrt() * noise  # one noise path through both points
    x_r = ab_r.sqrt() * x0 + (1 - ab_r).sqrt() * noise
    with torch.no_grad():
        r_safe = r.clamp(min=0)
        target = torch.where((r >= 0).reshape(-1, 1, 1, 1), x0_of(model, x_r, r_safe, _ab(schedule, r_safe)), x0)
    sigma = edm_sigma(schedule).float()
    gap = (sigma[t] - torch.where(r >= 0, sigma[r.clamp(min=0)], torch.zeros_like(sigma[t]))).reshape(-1, 1, 1, 1)
    diff = x0_of(model, x_t, t, ab_t) - target
    huber = ((diff ** 2).mean(dim=(1, 2, 3), keepdim=True) + cfg.huber_c ** 2).sqrt() - cfg.huber_c
    return (huber / gap).mean()  # ECT's weighting 1/(σ_t - σ_r)


def _save_student(cfg, model, unet_config, schedule, base, step: int, k: int, path: str) -> None:
    steps = cfg.student_steps(k)
    save_checkpoint(path, model, unet_config, schedule.name, schedule.num_timesteps, "v", extra={
        "steps_trained": step, "weights": "raw (lr annealed to 0 within each round)",
        "data": {"path": os.path.abspath(cfg.data), "split": "train" if cfg.exclude_heldout else "all"},
        # an adversarial round's teacher is its start's teacher; the start is named beside it
        "distillation": {"teacher": (base.config.get("distillation") or {}).get("teacher", cfg.teacher),
                         **({"started_from": cfg.teacher} if cfg.method == "adversarial" else {}),
                         "teacher_steps_trained": base.config.get("steps_trained"),
                         "method": cfg.method, "round": k + 1, "rounds": cfg.total_rounds(),
                         "round_steps": cfg.round_steps, "steps_in_round": step - k * cfg.round_steps,
                         "config": dataclasses.asdict(cfg)},
        # a consistency model maps any noise level to the data: it samples at 1 step, or re-noises for more
        "sampler": {"name": "ddim", "steps": steps, "eta": cfg.eta(),
                    "allowed_steps": [1, 2, 4] if cfg.method == "ect" else [steps]}})


if __name__ == "__main__":
    distill(parse_args())
