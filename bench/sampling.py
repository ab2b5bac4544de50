"""Sampling speed on this machine: ms per network evaluation, images/s per sampler, % of peak FLOP/s,
and the same UNet size and steps through `denoising-diffusion-pytorch` (the HW6 code's origin).

    python bench/sampling.py                 # full table (DDPM-1000 at batch 64 takes ~6 min on 2 cores)
    python bench/sampling.py --quick         # skips DDPM-1000 at batch 64

Weights are random: speed does not depend on them. Prints a markdown table; --json writes the numbers.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time

os.environ.setdefault("TQDM_DISABLE", "1")  # the reference package draws its own progress bars
import torch

from diffusion.noise import seeded_noise
from diffusion.samplers import make_sampler, sample
from diffusion.schedules import make_schedule
from diffusion.unet import UNet, UNetConfig, count_parameters, forward_flops


def peak_flops(n: int = 4096, repeats: int = 3) -> float:
    """Measured peak: the best of `repeats` fp32 n×n matmuls, in FLOP/s."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    a @ b
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * n**3 / best


def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def ms_per_forward(model, batch: int, size: int, repeats: int) -> float:
    x = torch.randn(batch, 3, size, size).contiguous(memory_format=torch.channels_last)
    t = torch.full((batch,), 500, dtype=torch.long)
    with torch.inference_mode():
        model(x, t)
        return 1e3 * statistics.median(_timed(lambda: model(x, t)) for _ in range(repeats))


def our_sampling_seconds(model, schedule, name: str, steps: int | None, batch: int, size: int) -> float:
    noise, _ = seeded_noise(list(range(batch)), (3, size, size))
    noise = noise.contiguous(memory_format=torch.channels_last)

    def run() -> float:
        _, g = seeded_noise(list(range(batch)), (3, size, size))
        return _timed(lambda: sample(make_sampler(name, model, schedule, noise, steps=steps, generator=g)))

    first = run()
    return first if first > 5 else statistics.median([first, run(), run()])  # short runs: median of 3


def reference_model(dim: int, mults: tuple[int, ...], size: int, steps: int):
    from denoising_diffusion_pytorch import GaussianDiffusion, Unet

    net = Unet(dim=dim, dim_mults=mults, flash_attn=False)
    return GaussianDiffusion(net, image_size=size, timesteps=1000, sampling_timesteps=steps).eval()


def lone_image_costs(repeats: int = 20) -> None:
    """A lone image's forward costs at most two images' work (diffusion.cpu), whatever torch's thread count."""
    from diffusion.cpu import invariant_split, threads

    torch.manual_seed(0)
    model = UNet(UNetConfig()).eval().to(memory_format=torch.channels_last)
    print(f"default UNet, fp32, channels_last; this machine reports {os.cpu_count()} CPUs\n")
    print("| torch threads | images computed for batch 1 | threads used | ms, batch 1 | ms, batch 2 | batch 1 ÷ batch 2 |")
    print("|---|---|---|---|---|---|")
    for n in (1, 2, 4, 8):
        with threads(n):
            one, two = ms_per_forward(model, 1, 64, repeats), ms_per_forward(model, 2, 64, repeats)
            padded, use = invariant_split(1, n)
        print(f"| {n} | {padded} | {use} | {one:.1f} | {two:.1f} | {one / two:.2f} |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--batches", type=int, nargs="+", default=[1, 64])
    p.add_argument("--quick", action="store_true", help="skip DDPM-1000 at batches > 1")
    p.add_argument("--ref-steps", type=int, default=20, help="DDIM steps for the denoising-diffusion-pytorch run")
    p.add_argument("--threads", type=int, default=None)
    p.add_argument("--json", default=None, help="also write the numbers here")
    p.add_argument("--lone-image", action="store_true",
                   help="only: one image's network evaluation at 1, 2, 4 and 8 threads, against a batch of 2")
    args = p.parse_args()
    if args.lone_image:
        lone_image_costs()
        return
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    size = 64
    cfg = UNetConfig()
    model = UNet(cfg).eval().to(memory_format=torch.channels_last)
    schedule = make_schedule("linear", 1000)
    params, flops = count_parameters(model), forward_flops(model, size)
    peak = peak_flops()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; measured peak {peak / 1e9:.0f} GFLOP/s "
          f"(4096² fp32 matmul)")
    print(f"our UNet: {params / 1e6:.2f} M params, {flops / 1e9:.3f} GFLOP per image per forward "
          f"(base {cfg.base_channels}, mults {cfg.channel_mults}), channels_last, fp32\n")

    results = {"peak_gflops": peak / 1e9, "params": params, "gflop_per_forward": flops / 1e9, "rows": []}
    configs = [("ddpm", 1000), ("ddim", 10), ("ddim", 20), ("ddim", 50), ("ddim", 100),
               ("dpm-solver", 10), ("dpm-solver", 20)]
    print("| batch | sampler | steps | s per batch | images/s | s/image | time ÷ DDPM time (ideal: steps/1000) |")
    print("|---|---|---|---|---|---|---|")
    nfe_ms = {}
    for batch in args.batches:
        nfe_ms[batch] = ms_per_forward(model, batch, size, repeats=5 if batch <= 16 else 3)
        ddpm_s = None
        for name, steps in configs:
            if name == "ddpm" and batch > 1 and args.quick:
                continue
            secs = our_sampling_seconds(model, schedule, name, None if name == "ddpm" else steps, batch, size)
            ddpm_s = secs if name == "ddpm" else ddpm_s
            ratio = f"{secs / ddpm_s:.4f} ({steps / 1000:.3f})" if ddpm_s and name != "ddpm" else "-"
            print(f"| {batch} | {name} | {steps} | {secs:.2f} | {batch / secs:.2f} | {secs / batch:.3f} | {ratio} |")
            results["rows"].append({"batch": batch, "sampler": name, "steps": steps, "seconds": secs,
                                    "images_per_s": batch / secs})

    print("\n| batch | ms per network evaluation | ms per image-evaluation | % of measured peak |")
    print("|---|---|---|---|")
    for batch, ms in nfe_ms.items():
        util = batch * flops / (ms / 1e3) / peak
        note = " (a lone image runs as a pair for batch invariance)" if batch == 1 else ""
        print(f"| {batch} | {ms:.1f} | {ms / batch:.2f} | {100 * util:.0f} %{note} |")
    results["ms_per_forward"] = nfe_ms

    # The same size and steps through denoising-diffusion-pytorch's DDIM.
    try:
        ref = reference_model(cfg.base_channels, cfg.channel_mults, size, args.ref_steps)
    except ImportError:
        print("\n(denoising-diffusion-pytorch is not installed: `pip install -r requirements-dev.txt`)")
        return
    ref_flops = forward_flops(lambda x, t: ref.model(x, t), size)
    print(f"\ndenoising-diffusion-pytorch Unet(dim={cfg.base_channels}, dim_mults={cfg.channel_mults}): "
          f"{count_parameters(ref.model) / 1e6:.2f} M params, {ref_flops / 1e9:.3f} GFLOP per forward; "
          f"its DDIM, {args.ref_steps} steps, vs ours (DDIM, {args.ref_steps} steps, same size)")
    print("\n| batch | theirs images/s | ours images/s | ours ÷ theirs | their % of peak | our % of peak |")
    print("|---|---|---|---|---|---|")
    for batch in args.batches:
        ref.sample(batch_size=1)  # warm-up
        theirs = _timed(lambda: ref.sample(batch_size=batch))
        ours = our_sampling_seconds(model, schedule, "ddim", args.ref_steps, batch, size)
        their_util = batch * args.ref_steps * ref_flops / theirs / peak
        our_util = batch * args.ref_steps * flops / ours / peak
        print(f"| {batch} | {batch / theirs:.2f} | {batch / ours:.2f} | {theirs / ours:.1f}x | {100 * their_util:.0f} % "
              f"| {100 * our_util:.0f} % |")
        results["rows"].append({"batch": batch, "reference": "denoising-diffusion-pytorch ddim",
                                "steps": args.ref_steps, "seconds": theirs, "images_per_s": batch / theirs,
                                "ours_seconds": ours, "ref_gflop_per_forward": ref_flops / 1e9})
    if args.json:
        with open(args.json, "w") as f:
            json.dump(results, f, indent=2)


if __name__ == "__main__":
    main()
