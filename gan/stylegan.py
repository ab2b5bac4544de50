"""A compact StyleGAN2-style generator and discriminator for 64x64 faces, written from the papers
(Karras et al. 2019, "A Style-Based Generator Architecture for GANs"; 2020, "Analyzing and Improving the
Image Quality of StyleGAN"), with the same seed → image interface as the diffusion samplers.

Generator: mapping network z → w (an MLP, learning rate × 0.01), a learned 4x4 constant, then per
resolution two modulated + demodulated 3x3 convolutions with per-pixel noise, and a toRGB whose outputs
are upsampled and summed (the "skip" generator). One w per convolution (`num_ws`), so styles can be mixed
from layer k on. Truncation: w = w̄ + ψ (w − w̄), w̄ tracked during training.
Discriminator: residual blocks down to 4x4, minibatch standard deviation, two dense layers.
All weights use the equalised learning rate (scaled by 1/√fan_in at run time).
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from diffusion.cpu import invariant_split, threads

GAIN = math.sqrt(2)  # keeps the activations' scale through leaky ReLU
UPSAMPLE_MODES = ("bilinear", "bicubic")


def upsample2x(x: torch.Tensor, mode: str) -> torch.Tensor:
    return F.interpolate(x, scale_factor=2, mode=mode, align_corners=False)


@dataclass
class StyleGANConfig:
    image_size: int = 64
    z_dim: int = 128
    w_dim: int = 128
    mapping_layers: int = 8
    mapping_lr_mul: float = 0.01
    channels: int = 128  # channels at 4x4 … 16x16; halved at every resolution above, but at least min_channels
    min_channels: int = 32
    d_channels: int = 128
    upsample: str = "bilinear"  # how G doubles its feature maps and its RGB skip: bilinear (StyleGAN2's [1,3,3,1]
                                # filter) or bicubic (a sharper low-pass: bilinear leaves a period-2 grid in the
                                # detail at fixed pixel positions, docs/quality.md)

    def __post_init__(self) -> None:
        if self.upsample not in UPSAMPLE_MODES:
            raise ValueError(f"upsample must be one of {', '.join(UPSAMPLE_MODES)}, got {self.upsample!r}")
        if self.image_size < 8 or self.image_size & (self.image_size - 1):
            raise ValueError(f"image_size must be a power of two >= 8, got {self.image_size}")
        if not 1 <= self.mapping_layers <= 16:
            raise ValueError(f"mapping_layers must be in 1..16, got {self.mapping_layers}")

    @property
    def resolutions(self) -> list[int]:
        return [2 ** i for i in range(2, int(math.log2(self.image_size)) + 1)]

    def channels_at(self, res: int, base: int | None = None) -> int:
        base = base or self.channels
        return max(self.min_channels, base // max(1, res // 16))

    def to_dict(self) -> dict:
        return asdict(self)


class EqualLinear(nn.Module):
    def __init__(self, d_in: int, d_out: int, bias_init: float = 0.0, lr_mul: float = 1.0, act: bool = False):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(d_out, d_in) / lr_mul)
        self.bias = nn.Parameter(torch.full((d_out,), float(bias_init) / lr_mul))
        self.scale, self.lr_mul, self.act = lr_mul / math.sqrt(d_in), lr_mul, act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.linear(x, self.weight * self.scale, self.bias * self.lr_mul)
        return F.leaky_relu(x, 0.2) * GAIN if self.act else x


class EqualConv(nn.Module):
    def __init__(self, c_in: int, c_out: int, k: int, act: bool = True, bias: bool = True):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, k, k))
        self.bias = nn.Parameter(torch.zeros(c_out)) if bias else None
        self.scale, self.act = 1 / math.sqrt(c_in * k * k), act

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.conv2d(x, self.weight * self.scale, self.bias, padding=self.weight.shape[-1] // 2)
        return F.leaky_relu(x, 0.2) * GAIN if self.act else x


class ModulatedConv(nn.Module):
    """StyleGAN2 weight (de)modulation: w'_ijk = s_i w_ijk, w''_ijk = w'_ijk / √(Σ_ik w'_ijk² + ε) (eq. 1, 3)."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, k: int = 3, demodulate: bool = True, up: str = ""):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(c_out, c_in, k, k))
        self.affine = EqualLinear(w_dim, c_in, bias_init=1.0)  # style s starts at 1
        self.scale, self.demodulate, self.up, self.c_out = 1 / math.sqrt(c_in * k * k), demodulate, up, c_out

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        # Scaling the input channels by s and the output channels by the demodulation factor equals the
        # per-sample weights above, but runs as one ordinary convolution for the whole batch.
        s = self.affine(w)  # [B, c_in]
        weight = self.weight * self.scale
        if self.up:
            x = upsample2x(x, self.up)
        y = F.conv2d(x * s[:, :, None, None], weight, padding=weight.shape[-1] // 2)
        if self.demodulate:  # 1 / √(Σ_ik (s_i w_ijk)²) = 1 / √(Σ_i s_i² Σ_k w_ijk²)
            d = torch.rsqrt(s.pow(2) @ weight.pow(2).sum(dim=(2, 3)).t() + 1e-8)  # [B, c_out]
            y = y * d[:, :, None, None]
        return y


class StyleLayer(nn.Module):
    """Modulated conv, then per-pixel noise scaled by a learned strength, bias, leaky ReLU."""

    def __init__(self, c_in: int, c_out: int, w_dim: int, up: str = ""):
        super().__init__()
        self.conv = ModulatedConv(c_in, c_out, w_dim, up=up)  # up: "" or the upsampling mode
        self.noise_strength = nn.Parameter(torch.zeros(()))
        self.bias = nn.Parameter(torch.zeros(c_out))

    def forward(self, x: torch.Tensor, w: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
        x = self.conv(x, w) + self.noise_strength * noise
        return F.leaky_relu(x + self.bias[None, :, None, None], 0.2) * GAIN


class ToRGB(nn.Module):
    def __init__(self, c_in: int, w_dim: int):
        super().__init__()
        self.conv = ModulatedConv(c_in, 3, w_dim, k=1, demodulate=False)
        self.bias = nn.Parameter(torch.zeros(3))

    def forward(self, x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
        return self.conv(x, w) + self.bias[None, :, None, None]


class Generator(nn.Module):
    def __init__(self, config: StyleGANConfig = StyleGANConfig()):
        super().__init__()
        self.config = c = config
        layers = [EqualLinear(c.z_dim if i == 0 else c.w_dim, c.w_dim, lr_mul=c.mapping_lr_mul, act=True)
                  for i in range(c.mapping_layers)]
        self.mapping = nn.Sequential(*layers)
        self.register_buffer("w_avg", torch.zeros(c.w_dim))
        self.w_avg_beta = 0.995
        self.const = nn.Parameter(torch.randn(1, c.channels_at(4), 4, 4))
        self.layers, self.to_rgb = nn.ModuleList(), nn.ModuleList()
        self.layer_res: list[int] = []  # resolution each style layer works at
        prev = c.channels_at(4)
        for res in c.resolutions:
            ch = c.channels_at(res)
            if res == 4:
                self.layers.append(StyleLayer(prev, ch, c.w_dim))
                self.layer_res.append(4)
            else:
                self.layers.extend([StyleLayer(prev, ch, c.w_dim, up=c.upsample), StyleLayer(ch, ch, c.w_dim)])
                self.layer_res.extend([res, res])
            self.to_rgb.append(ToRGB(ch, c.w_dim))
            prev = ch

    @property
    def num_ws(self) -> int:
        return len(self.layers)

    def map(self, z: torch.Tensor, psi: float = 1.0) -> torch.Tensor:
        """z [B, z_dim] → w [B, w_dim], truncated towards w̄ by psi (1 = none, 0 = the average face)."""
        z = z * torch.rsqrt(z.pow(2).mean(dim=1, keepdim=True) + 1e-8)  # pixel norm of the input
        w = self.mapping(z)
        return self.w_avg.lerp(w, psi) if psi != 1.0 else w

    def noise_like(self, batch: int, generator: torch.Generator | Sequence[torch.Generator] | None = None,
                   device: torch.device | str = "cpu") -> list[torch.Tensor]:
        """Per-layer noise maps; with one generator per image, each image's noise comes from its own."""
        gens = generator if isinstance(generator, Sequence) else [generator] * batch
        return [torch.cat([torch.randn(1, 1, r, r, generator=g, device=device) for g in gens])
                for r in self.layer_res]

    def synthesis(self, ws: torch.Tensor, noise: list[torch.Tensor] | None = None) -> torch.Tensor:
        """ws [B, num_ws, w_dim] → images [B, 3, H, W] (about [-1, 1])."""
        b = ws.shape[0]
        noise = noise or self.noise_like(b, device=ws.device)
        x = self.const.expand(b, -1, -1, -1)
        rgb, i = None, 0
        for block, res in enumerate(self.config.resolutions):
            for _ in range(1 if res == 4 else 2):
                x = self.layers[i](x, ws[:, i], noise[i])
                i += 1
            y = self.to_rgb[block](x, ws[:, i - 1])
            rgb = y if rgb is None else upsample2x(rgb, self.config.upsample) + y
        return rgb

    def forward(self, z: torch.Tensor, psi: float = 1.0, noise: list[torch.Tensor] | None = None,
                z_mix: torch.Tensor | None = None, crossover: int = 0) -> torch.Tensor:
        """Images for z; with z_mix, layers from `crossover` on take z_mix's style (style mixing).
        In training mode w̄ follows the batch's mean w (for truncation later)."""
        w = self.map(z, psi)
        if self.training:
            with torch.no_grad():
                self.w_avg.lerp_(w.detach().mean(0), 1 - self.w_avg_beta)
        if z_mix is None:
            return self.synthesis(w[:, None].expand(-1, self.num_ws, -1), noise)
        return self.synthesis(mix_styles(w, self.map(z_mix, psi), self.num_ws, crossover), noise)


def mix_styles(w1: torch.Tensor, w2: torch.Tensor, num_ws: int, crossover: int) -> torch.Tensor:
    """ws taking w1 for layers < crossover and w2 from there on (style mixing)."""
    if not 0 <= crossover <= num_ws:
        raise ValueError(f"crossover must be in 0..{num_ws}, got {crossover}")
    layer = torch.arange(num_ws, device=w1.device)[None, :, None]
    return torch.where(layer < crossover, w1[:, None], w2[:, None])


class DBlock(nn.Module):
    """Residual discriminator block: two 3x3 convs and a 2x down-sampling, the skip path 1x1, sum / √2."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv1, self.conv2 = EqualConv(c_in, c_in, 3), EqualConv(c_in, c_out, 3)
        self.skip = EqualConv(c_in, c_out, 1, act=False, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = F.avg_pool2d(self.conv2(self.conv1(x)), 2)
        return (y + self.skip(F.avg_pool2d(x, 2))) / math.sqrt(2)


class Discriminator(nn.Module):
    def __init__(self, config: StyleGANConfig = StyleGANConfig(), mbstd_group: int = 4):
        super().__init__()
        c = config
        res = list(reversed(c.resolutions))  # 64, 32, …, 4
        self.from_rgb = EqualConv(3, c.channels_at(res[0], c.d_channels), 1)
        self.blocks = nn.ModuleList(DBlock(c.channels_at(r, c.d_channels), c.channels_at(r // 2, c.d_channels))
                                    for r in res[:-1])
        ch = c.channels_at(4, c.d_channels)
        self.mbstd_group = mbstd_group
        self.conv = EqualConv(ch + 1, ch, 3)
        self.fc = EqualLinear(ch * 16, ch, act=True)
        self.out = EqualLinear(ch, 1)

    def minibatch_std(self, x: torch.Tensor) -> torch.Tensor:
        """Append the average standard deviation over groups of images as one more feature map."""
        b, c, h, w = x.shape
        g = min(self.mbstd_group, b)
        if b % g:
            g = 1
        y = x.reshape(g, -1, c, h, w)
        y = (y.var(dim=0, unbiased=False) + 1e-8).sqrt().mean(dim=(1, 2, 3))  # [B/g]
        y = y.reshape(-1, 1, 1, 1).repeat(g, 1, h, w)
        return torch.cat([x, y], dim=1)

    def forward(self, img: torch.Tensor) -> torch.Tensor:
        x = self.from_rgb(img)
        for block in self.blocks:
            x = block(x)
        x = self.conv(self.minibatch_std(x))
        return self.out(self.fc(x.flatten(1))).squeeze(1)


# ----------------------------------------------------------------------------- losses (StyleGAN2, Appendix B)

def generator_loss(fake_logits: torch.Tensor) -> torch.Tensor:
    """Non-saturating logistic loss: softplus(−D(G(z)))."""
    return F.softplus(-fake_logits).mean()


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    return F.softplus(fake_logits).mean() + F.softplus(-real_logits).mean()


def r1_penalty(discriminator: nn.Module, real: torch.Tensor) -> torch.Tensor:
    """‖∇_x D(x)‖² on real images (Mescheder et al. 2018); lazily applied every k steps, scaled by k."""
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(discriminator(real).sum(), real, create_graph=True)
    return grad.pow(2).flatten(1).sum(1).mean()


# ----------------------------------------------------------------------------- seeds → images

@torch.no_grad()
def seed_latents(generator: Generator, seeds: Sequence[int]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The seed → latent rule: z [B, z_dim] and every noise map of image i from seed i's own torch.Generator
    (z first, then the noise maps), so an image depends on its seed alone."""
    if len(seeds) == 0:
        raise ValueError("give at least one seed")
    device = next(generator.parameters()).device
    gens = [torch.Generator(device).manual_seed(int(s)) for s in seeds]
    z = torch.cat([torch.randn(1, generator.config.z_dim, generator=g, device=device) for g in gens])
    return z, generator.noise_like(len(seeds), gens, device)


def _check_psi(psi: float) -> None:
    if isinstance(psi, bool) or not isinstance(psi, (int, float)) or not 0.0 <= psi <= 1.0:
        raise ValueError(f"truncation psi must be a number from 0 to 1, got {psi!r}")


@torch.no_grad()
def generate(generator: Generator, seeds: Sequence[int], psi: float = 1.0) -> torch.Tensor:
    """One image per seed, in [-1, 1]."""
    _check_psi(psi)
    z, noise = seed_latents(generator, seeds)
    if z.device.type != "cpu":
        return generator(z, psi, noise).clamp(-1, 1)
    b = z.shape[0]  # every image bit-identical in any batch: see diffusion.cpu
    padded, use = invariant_split(b, torch.get_num_threads())
    z = torch.cat([z, z[:1].expand(padded - b, -1)])
    noise = [torch.cat([n, n[:1].expand(padded - b, -1, -1, -1)]) for n in noise]
    with threads(use):
        return generator(z, psi, noise)[:b].clamp(-1, 1)


@torch.no_grad()
def interpolate(generator: Generator, seed_a: int, seed_b: int, weights: Sequence[float], psi: float = 1.0
                ) -> tuple[torch.Tensor, torch.Tensor]:
    """Frames between two seeds: linear in w (the space the styles live in) and, for comparison, slerp in z;
    seed A's noise maps are held fixed so only the latent moves. Each [len(weights), 3, H, W] in [-1, 1]."""
    from diffusion.noise import slerp

    _check_psi(psi)
    z, noise = seed_latents(generator, [seed_a, seed_b])
    noise = [n[:1].expand(len(weights), -1, -1, -1) for n in noise]
    w = generator.map(z, psi)
    w_line = torch.stack([torch.lerp(w[0], w[1], float(t)) for t in weights])
    w_arc = generator.map(torch.stack([slerp(z[0], z[1], float(t)) for t in weights]), psi)
    return tuple(generator.synthesis(ws[:, None].expand(-1, generator.num_ws, -1), noise).clamp(-1, 1)
                 for ws in (w_line, w_arc))
