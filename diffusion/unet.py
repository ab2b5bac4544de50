"""A compact DDPM-style UNet: sinusoidal time embedding, GroupNorm/SiLU residual blocks with the
time embedding added per block, self-attention at chosen resolutions.

Sized for CPUs: the default config is the one the shipped checkpoint uses. The network returns a
tensor shaped like its input; whether that is eps or v is the checkpoint's `prediction` field and
is handled by `diffusion.samplers.eps_model`, not here.

Batch invariance: an image's output must not depend on what else is in the batch, so that the
image of a seed is bit-identical alone or in a batch. Matrix products whose shape depends on the
batch size can change their summation order with it. So the time MLP runs on the *distinct*
timesteps only, and in eval mode on the CPU the batch runs as `diffusion.cpu` arranges it: padded to even,
on a thread count that divides it (a lone image costs two images' work, whatever the thread count).
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .cpu import invariant_split, threads


@dataclass
class UNetConfig:
    image_size: int = 64
    in_channels: int = 3
    base_channels: int = 16
    channel_mults: tuple[int, ...] = (1, 2, 4, 8)
    num_res_blocks: int = 1
    attention_resolutions: tuple[int, ...] = (16,)
    head_channels: int = 32  # channels per attention head
    dropout: float = 0.0
    norm_groups: int = 8

    def __post_init__(self) -> None:
        self.channel_mults = tuple(int(m) for m in self.channel_mults)
        self.attention_resolutions = tuple(int(r) for r in self.attention_resolutions)
        levels = len(self.channel_mults)
        if levels < 1 or any(m < 1 for m in self.channel_mults):
            raise ValueError(f"channel_mults must be positive integers, got {self.channel_mults}")
        if self.image_size % (2 ** (levels - 1)) != 0:
            raise ValueError(f"image_size {self.image_size} must be divisible by 2**{levels - 1}")
        for c in (self.base_channels * m for m in self.channel_mults):
            if c % self.norm_groups != 0:
                raise ValueError(f"every level's channels must be divisible by norm_groups={self.norm_groups}")
        if self.num_res_blocks < 1:
            raise ValueError("num_res_blocks must be >= 1")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError("dropout must be in [0, 1)")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channel_mults"] = list(self.channel_mults)
        d["attention_resolutions"] = list(self.attention_resolutions)
        return d


def timestep_embedding(t: torch.Tensor, dim: int, max_period: float = 10000.0) -> torch.Tensor:
    """Sinusoidal embedding of (float) timesteps t [N] -> [N, dim] (Transformer / DDPM)."""
    half = dim // 2
    freqs = torch.exp(-math.log(max_period) * torch.arange(half, dtype=torch.float32, device=t.device) / half)
    args = t.float()[:, None] * freqs[None]
    emb = torch.cat([torch.cos(args), torch.sin(args)], dim=1)
    return F.pad(emb, (0, dim % 2))


class ResBlock(nn.Module):
    def __init__(self, c_in: int, c_out: int, emb_dim: int, groups: int, dropout: float) -> None:
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, c_in)
        self.conv1 = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.emb = nn.Linear(emb_dim, c_out)
        self.norm2 = nn.GroupNorm(groups, c_out)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, padding=1)
        nn.init.zeros_(self.conv2.weight)  # each block starts as the identity
        nn.init.zeros_(self.conv2.bias)
        self.skip = nn.Conv2d(c_in, c_out, 1) if c_in != c_out else nn.Identity()

    def forward(self, x: torch.Tensor, emb: torch.Tensor, emb_index: torch.Tensor) -> torch.Tensor:
        # In place on tensors this block just made: the same numbers with less memory traffic (sampling on a
        # CPU is bound by it between convolutions). Norm and conv outputs are not saved for their backward.
        h = self.conv1(F.silu(self.norm1(x), inplace=True))
        # emb holds one row per *distinct* timestep; emb_index maps each image to its row.
        h += self.emb(F.silu(emb))[emb_index][:, :, None, None]
        h = self.conv2(self.dropout(F.silu(self.norm2(h), inplace=True)))
        return h.add_(self.skip(x))


class Attention(nn.Module):
    def __init__(self, channels: int, head_channels: int, groups: int) -> None:
        super().__init__()
        self.heads = max(1, channels // head_channels)
        self.norm = nn.GroupNorm(groups, channels)
        self.qkv = nn.Conv2d(channels, 3 * channels, 1)
        self.proj = nn.Conv2d(channels, channels, 1)
        nn.init.zeros_(self.proj.weight)
        nn.init.zeros_(self.proj.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, c, h, w = x.shape
        q, k, v = self.qkv(self.norm(x)).reshape(b, 3, self.heads, c // self.heads, h * w).unbind(1)
        # [B, heads, HW, d]: scaled_dot_product_attention batches over B and heads.
        out = F.scaled_dot_product_attention(q.transpose(-1, -2), k.transpose(-1, -2), v.transpose(-1, -2))
        out = out.transpose(-1, -2).reshape(b, c, h, w)
        return x + self.proj(out)


class Down(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, stride=2, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x)


class Up(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(F.interpolate(x, scale_factor=2.0, mode="nearest"))


class UNet(nn.Module):
    def __init__(self, config: UNetConfig | None = None) -> None:
        super().__init__()
        self.config = cfg = config or UNetConfig()
        ch, g = cfg.base_channels, cfg.norm_groups
        emb_dim = 4 * ch
        self.time_mlp = nn.Sequential(nn.Linear(ch, emb_dim), nn.SiLU(), nn.Linear(emb_dim, emb_dim))
        self.conv_in = nn.Conv2d(cfg.in_channels, ch, 3, padding=1)

        # Encoder: record the channel count of every skip connection as we go.
        self.down = nn.ModuleList()
        skips, c, res = [ch], ch, cfg.image_size
        for level, mult in enumerate(cfg.channel_mults):
            for _ in range(cfg.num_res_blocks):
                layers = nn.ModuleList([ResBlock(c, ch * mult, emb_dim, g, cfg.dropout)])
                c = ch * mult
                if res in cfg.attention_resolutions:
                    layers.append(Attention(c, cfg.head_channels, g))
                self.down.append(layers)
                skips.append(c)
            if level != len(cfg.channel_mults) - 1:
                self.down.append(nn.ModuleList([Down(c)]))
                skips.append(c)
                res //= 2

        self.mid = nn.ModuleList([ResBlock(c, c, emb_dim, g, cfg.dropout), Attention(c, cfg.head_channels, g),
                                  ResBlock(c, c, emb_dim, g, cfg.dropout)])

        # Decoder: one more block per level than the encoder, each eating one skip.
        self.up = nn.ModuleList()
        for level, mult in reversed(list(enumerate(cfg.channel_mults))):
            for i in range(cfg.num_res_blocks + 1):
                layers = nn.ModuleList([ResBlock(c + skips.pop(), ch * mult, emb_dim, g, cfg.dropout)])
                c = ch * mult
                if res in cfg.attention_resolutions:
                    layers.append(Attention(c, cfg.head_channels, g))
                if level != 0 and i == cfg.num_res_blocks:
                    layers.append(Up(c))
                    res *= 2
                self.up.append(layers)

        self.norm_out = nn.GroupNorm(g, c)
        self.conv_out = nn.Conv2d(c, cfg.in_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        """x: [B, C, H, W]; t: [B] training indices (int or float). Returns [B, C, H, W]."""
        if t.ndim == 0:
            t = t.expand(x.shape[0])
        if self.training or x.device.type != "cpu":
            return self._forward(x, t)
        b = x.shape[0]  # batch invariance, see the module docstring
        padded, use = invariant_split(b, torch.get_num_threads())
        if padded > b:
            x = torch.cat([x, x[:1].expand(padded - b, *x.shape[1:])]).contiguous(memory_format=_memory_format(x))
            t = torch.cat([t, t[:1].expand(padded - b)])
        with threads(use):
            return self._forward(x, t)[:b]

    def _forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        t_distinct, emb_index = torch.unique(t, return_inverse=True)
        emb = self.time_mlp(timestep_embedding(t_distinct, self.config.base_channels))

        h = self.conv_in(x)
        hs = [h]
        for layers in self.down:
            for layer in layers:
                h = layer(h, emb, emb_index) if isinstance(layer, ResBlock) else layer(h)
            hs.append(h)
        for layer in self.mid:
            h = layer(h, emb, emb_index) if isinstance(layer, ResBlock) else layer(h)
        for layers in self.up:
            h = torch.cat([h, hs.pop()], dim=1)
            for layer in layers:
                h = layer(h, emb, emb_index) if isinstance(layer, ResBlock) else layer(h)
        return self.conv_out(F.silu(self.norm_out(h), inplace=True))


def _memory_format(x: torch.Tensor) -> torch.memory_format:
    return torch.channels_last if x.is_contiguous(memory_format=torch.channels_last) else torch.contiguous_format


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def forward_flops(model: nn.Module, image_size: int, channels: int = 3, batch: int = 1) -> int:
    """FLOPs (2 per multiply-add) of the work of one forward pass over `batch` images, counted by
    torch's FlopCounterMode, in train mode so the eval-mode batch padding is not counted."""
    from torch.utils.flop_counter import FlopCounterMode

    x = torch.zeros(batch, channels, image_size, image_size)
    t = torch.zeros(batch, dtype=torch.long)
    was_training = getattr(model, "training", False)
    if hasattr(model, "train"):
        model.train()
    counter = FlopCounterMode(display=False)
    try:
        with counter, torch.no_grad():
            model(x, t)
    finally:
        if hasattr(model, "train"):
            model.train(was_training)
    return int(counter.get_total_flops())
