"""An adversarial finishing round for a few-step student (distill.py --method adversarial).

Regression onto a teacher leaves a 2-step student's faces blurrier than real ones: a converged critic tells them
apart. This round judges the student's whole DDIM run, differentiated through its steps, by a discriminator
(gan/stylegan.py's, with DiffAugment and lazy R1) that sees training faces only (the held-out split stays unseen),
beside its squared distance to the frozen student it started from, on the same noise: the anchor keeps each seed's
face where it was while the discriminator sharpens what a person sees.

    generator loss = adv_weight · softplus(−D(aug(x̂))) + ‖x̂ − x̂_anchor‖²     (x̂: the student's DDIM run from x_T)
    discriminator loss = softplus(D(aug(x̂))) + softplus(−D(aug(x))) + R1 every r1_every steps
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from diffusion.schedules import Schedule, timestep_pairs
from gan.diffaugment import diff_augment
from gan.stylegan import Discriminator, StyleGANConfig, discriminator_loss, generator_loss, r1_penalty


def ddim_run(net, schedule: Schedule, x_T: torch.Tensor, steps: int) -> torch.Tensor:
    """DDIM (eq. 12, η = 0) from x_T in `steps` trailing steps for a v-network, x0 clipped as the app's sampler
    clips it; differentiable (the app's sampler runs without gradients). Returns the final image."""
    ab_all = schedule.alphas_cumprod.tolist() + [1.0]  # index -1: the clean image; float64, as the sampler's
    x = x_T
    for t, t_prev in timestep_pairs(schedule.num_timesteps, steps).tolist():
        ab, ab_prev = ab_all[t], ab_all[t_prev]
        v = net(x, torch.full((x.shape[0],), t, dtype=torch.long, device=x.device))
        x0 = (math.sqrt(ab) * x - math.sqrt(1 - ab) * v).clamp(-1, 1)  # v-prediction: x0 = √ᾱ x − √(1−ᾱ) v
        eps = (x - math.sqrt(ab) * x0) / math.sqrt(1 - ab)
        x = math.sqrt(ab_prev) * x0 + math.sqrt(1 - ab_prev) * eps
    return x


@dataclass
class AdversarialSettings:
    adv_weight: float  # the adversarial term's weight against the anchor's squared distance
    d_lr: float
    d_channels: int
    r1_gamma: float
    r1_every: int
    diffaugment: str
    d_warmup: int = 0  # steps at the round's start that train the discriminator alone (the student waits)


class AdversarialRound:
    """The discriminator, its optimizer and one training step of student and discriminator together."""

    def __init__(self, settings: AdversarialSettings, image_size: int) -> None:
        self.s = settings
        self.disc = Discriminator(StyleGANConfig(image_size=image_size, d_channels=settings.d_channels))
        self.d_opt = torch.optim.Adam(self.disc.parameters(), lr=settings.d_lr, betas=(0.0, 0.99))
        self.last_r1: float | None = None

    def seen(self, x: torch.Tensor) -> torch.Tensor:
        """What the discriminator sees of an image, real or generated."""
        return diff_augment(x, self.s.diffaugment).contiguous() if self.s.diffaugment else x

    def step(self, student, anchor, schedule: Schedule, real: torch.Tensor, steps: int, done: int
             ) -> tuple[torch.Tensor | None, dict]:
        """The student's loss (to backpropagate; None while the discriminator warms up alone) and what to log; the
        discriminator has taken its step. A fresh discriminator needs thousands of image views to find what a
        converged critic finds: until it has, its gradient would only shake the student."""
        x_T = torch.randn_like(real)
        warming = done < self.s.d_warmup
        with torch.set_grad_enabled(not warming):
            fake = ddim_run(student, schedule, x_T, steps)
        with torch.no_grad():
            target = fake if warming else ddim_run(anchor, schedule, x_T, steps)
        # the discriminator: real faces against the student's, lazily regularised by R1 on the real ones
        self.d_opt.zero_grad(set_to_none=True)
        loss_d = discriminator_loss(self.disc(self.seen(real)), self.disc(self.seen(fake.detach())))
        if done % self.s.r1_every == 0:
            r1 = r1_penalty(self.disc, real)
            loss_d = loss_d + self.s.r1_gamma / 2 * r1 * self.s.r1_every
            self.last_r1 = r1.item()
        loss_d.backward()
        self.d_opt.step()
        if warming:
            return None, {"loss_d": loss_d.item(), "r1": self.last_r1, "warmup": True}
        # the student: fool the (frozen) discriminator, stay near the anchor's face for the same x_T
        self.disc.requires_grad_(False)
        adv = generator_loss(self.disc(self.seen(fake)))
        self.disc.requires_grad_(True)
        anchor_mse = (fake - target).pow(2).mean()
        return self.s.adv_weight * adv + anchor_mse, {"loss_d": loss_d.item(), "adv": adv.item(),
                                                      "anchor_mse": anchor_mse.item(), "r1": self.last_r1}
