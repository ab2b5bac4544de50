"""The StyleGAN baseline's model: shapes, seed → image, style mixing, truncation, losses, bad inputs."""
import pytest
import torch
import torch.nn.functional as F

from gan.stylegan import (Discriminator, Generator, StyleGANConfig, discriminator_loss, generate,
                                generator_loss, mix_styles, r1_penalty)

SMALL = StyleGANConfig(image_size=32, z_dim=32, w_dim=32, mapping_layers=2, channels=32, min_channels=16,
                       d_channels=32)


def test_shapes_and_layer_count():
    g, d = Generator(), Discriminator()
    assert g.num_ws == 9 and g.layer_res == [4, 8, 8, 16, 16, 32, 32, 64, 64]
    x = generate(g, [0, 1])
    assert x.shape == (2, 3, 64, 64) and x.abs().max() <= 1
    assert d(x).shape == (2,)
    assert len(Generator(SMALL).layers) == 7 and Generator(SMALL)(torch.randn(3, 32)).shape == (3, 3, 32, 32)


def test_same_seed_same_image():
    g = Generator(SMALL).eval()
    a, b = generate(g, [7, 3]), generate(g, [7, 3])
    assert torch.equal(a, b)
    alone = generate(g, [3])
    torch.testing.assert_close(alone[0], a[1], atol=1e-4, rtol=0)  # its seed alone decides it
    assert (a[0] - a[1]).abs().mean() > 0.01


def test_truncation_pulls_towards_the_average():
    torch.manual_seed(0)
    g = Generator(SMALL).eval()
    g.w_avg.copy_(g.map(torch.randn(512, 32)).mean(0))
    z = torch.randn(16, 32)
    spread = [(g.map(z, psi) - g.w_avg).norm(dim=1).mean().item() for psi in (1.0, 0.5, 0.0)]
    assert spread[0] > spread[1] > spread[2] == pytest.approx(0, abs=1e-6)
    assert spread[1] == pytest.approx(spread[0] / 2, rel=1e-4)


def test_swapping_late_styles_changes_coarse_structure_less():
    torch.manual_seed(0)
    g = Generator().eval()
    gens = [torch.Generator().manual_seed(s) for s in range(3)]
    w1, w2 = g.map(torch.randn(8, 128, generator=gens[0])), g.map(torch.randn(8, 128, generator=gens[1]))
    noise = g.noise_like(8, gens[2])
    with torch.no_grad():
        base = g.synthesis(w1[:, None].expand(-1, g.num_ws, -1), noise)

        def coarse_change(k):  # mean change of the 4x4 average-pooled image
            return F.avg_pool2d(g.synthesis(mix_styles(w1, w2, g.num_ws, k), noise) - base, 16).abs().mean()

        all_layers, from_32, none = coarse_change(0), coarse_change(5), coarse_change(g.num_ws)
    assert none == 0 and from_32 < 0.5 * all_layers
    with pytest.raises(ValueError, match=r"crossover must be in 0\.\.9"):
        mix_styles(w1, w2, g.num_ws, 10)


def test_a_few_steps_move_the_losses_the_right_way():
    torch.manual_seed(0)
    g, d = Generator(SMALL), Discriminator(SMALL)
    real = torch.rand(8, 3, 1, 1).mul(2).sub(1).expand(-1, -1, 32, 32).contiguous()  # flat-coloured toy images
    z = torch.randn(8, 32)
    opt_d = torch.optim.Adam(d.parameters(), lr=2e-3, betas=(0.0, 0.99))
    with torch.no_grad():
        fake = g(z)
    d_losses = []
    for _ in range(15):  # D alone learns to tell the toy set from G's images
        loss = discriminator_loss(d(real), d(fake))
        opt_d.zero_grad()
        loss.backward()
        opt_d.step()
        d_losses.append(loss.item())
    assert d_losses[-1] < 0.5 * d_losses[0]
    opt_g = torch.optim.Adam(g.parameters(), lr=2e-3, betas=(0.0, 0.99))
    g_losses = []
    for _ in range(15):  # G alone learns to fool that fixed D
        loss = generator_loss(d(g(z)))
        opt_g.zero_grad()
        loss.backward()
        opt_g.step()
        g_losses.append(loss.item())
    assert g_losses[-1] < 0.5 * g_losses[0]
    # R1 is E‖∇_x D(x)‖²: for D(x) = <w, x> the gradient is w everywhere, so the penalty is ‖w‖² exactly
    w = torch.randn_like(real[:1])
    linear_d = lambda x: (x * w).flatten(1).sum(1)  # noqa: E731
    torch.testing.assert_close(r1_penalty(linear_d, real), w.pow(2).sum())


def test_bad_inputs():
    g = Generator(SMALL)
    with pytest.raises(ValueError, match="psi must be a number from 0 to 1"):
        generate(g, [0], psi=1.5)
    with pytest.raises(ValueError, match="at least one seed"):
        generate(g, [])
    with pytest.raises(ValueError, match="power of two"):
        StyleGANConfig(image_size=48)
    with pytest.raises(ValueError, match=r"mapping_layers must be in 1\.\.16"):
        StyleGANConfig(mapping_layers=0)


def test_modulated_conv_equals_per_sample_weights():
    """StyleGAN2 eq. 1 and 3 with each sample's own modulated, demodulated weights, against our fused form."""
    from gan.stylegan import ModulatedConv

    torch.manual_seed(0)
    conv = ModulatedConv(5, 7, w_dim=6)
    x, w = torch.randn(3, 5, 8, 8), torch.randn(3, 6)
    s = conv.affine(w)
    expected = []
    for i in range(3):
        wi = conv.weight * conv.scale * s[i][None, :, None, None]  # w'_ijk = s_i w_ijk
        wi = wi / torch.sqrt(wi.pow(2).sum(dim=(1, 2, 3), keepdim=True) + 1e-8)  # w''
        expected.append(F.conv2d(x[i:i + 1], wi, padding=1))
    torch.testing.assert_close(conv(x, w), torch.cat(expected), atol=1e-5, rtol=1e-5)


def test_the_upsampler_is_a_choice_that_keeps_the_weights_and_bicubic_leaves_less_of_a_period_2_grid():
    """Bilinear 2x upsampling (align_corners=False) makes each output pixel 3/4 of its source and 1/4 of a
    neighbour, so on white noise the squared step between output pixels of different sources is 4x that between
    the two made from one source: a period-2 grid at fixed positions. Bicubic leaves less of it."""
    from gan.stylegan import upsample2x

    torch.manual_seed(0)
    x = torch.randn(64, 1, 4, 512)
    ratio = {}
    for mode in ("bilinear", "bicubic"):
        u = upsample2x(x, mode)[:, :, 4, 8:-8]  # an interior row, edges left out
        step = (u[..., 1:] - u[..., :-1]).pow(2)
        ratio[mode] = float(step[..., 1::2].mean() / step[..., 0::2].mean())
    assert ratio["bilinear"] == pytest.approx(4.0, rel=0.03)
    assert ratio["bicubic"] < 3.2
    bilinear, bicubic = Generator(SMALL), Generator(StyleGANConfig(**{**SMALL.to_dict(), "upsample": "bicubic"}))
    bicubic.load_state_dict(bilinear.state_dict())  # the same weights fit both
    a, b = generate(bilinear, [1, 2]), generate(bicubic, [1, 2])
    assert a.shape == b.shape and not torch.equal(a, b)
    with pytest.raises(ValueError, match="upsample must be one of bilinear, bicubic"):
        StyleGANConfig(upsample="nearest")


def test_a_resumed_gan_run_may_switch_its_upsampler_and_nothing_else_of_the_model():
    import dataclasses

    import train_gan
    from training.plumbing import resumed_config

    saved = dataclasses.asdict(train_gan.parse_args(["--out", "x", "--channels", "64"]))
    del saved["upsample"]  # a run saved before the flag existed
    cfg = resumed_config(train_gan.parse_args(["--out", "x", "--resume", "--upsample", "bicubic", "--channels", "32"]),
                         {"config": saved})
    assert cfg.upsample == "bicubic" and cfg.model_config().upsample == "bicubic" and cfg.channels == 64
    assert resumed_config(train_gan.parse_args(["--out", "x", "--resume"]), {"config": saved}).upsample == "bilinear"
    with pytest.raises(SystemExit):
        train_gan.parse_args(["--upsample", "nearest"])


def test_gan_before_after_measures_both_checkpoints_and_reads_the_critic_studys_cells(tmp_path, monkeypatch):
    import json
    import sys

    from helpers import bench_script
    from lab import paths
    from lab.checkpoint import save_stylegan_checkpoint

    monkeypatch.setattr(paths, "CACHE", str(tmp_path / "cache"))
    monkeypatch.syspath_prepend(str(paths.ROOT) + "/bench")
    cfg = StyleGANConfig(image_size=16, z_dim=16, w_dim=16, mapping_layers=2, channels=16, min_channels=8,
                         d_channels=16)
    torch.manual_seed(0)
    save_stylegan_checkpoint(str(tmp_path / "a" / "gan-before"), Generator(cfg).eval(), cfg)
    bicubic = StyleGANConfig(**{**cfg.to_dict(), "upsample": "bicubic"})
    save_stylegan_checkpoint(str(tmp_path / "b" / "gan-after"), Generator(bicubic).eval(), bicubic)
    study = tmp_path / "study.json"  # a stored cell of the 12-epoch critic for the second checkpoint
    study_mod = bench_script("critic_study")
    import dataclasses

    study.write_text(json.dumps({"gan-after": {"x": {"score": 0.9, "folds": [0.9, 0.9], "epochs": [12, 12],
                                                     "config": dataclasses.asdict(study_mod.VARIANTS["e12-cos"])}}}))
    out = tmp_path / "ba.md"
    script = bench_script("gan_before_after")
    monkeypatch.setattr(sys, "argv", ["x", "--before", str(tmp_path / "a" / "gan-before"), "--after",
                                      str(tmp_path / "b" / "gan-after"), "--n", "40", "--study", str(study),
                                      "--out", str(out)])
    assert script.main() == 0
    text = out.read_text()
    grid = next(line for line in text.splitlines() if line.startswith("| period-2 grid"))
    assert all(float(v) >= 0 for v in grid.strip("|").split("|")[1:])
    critic = next(line for line in text.splitlines() if "12-epoch critic" in line)
    assert critic.strip("|").split("|")[1:] == [" – ", " 0.900 "]
    assert "face rate" in text and "FFD, 40 images" in text
