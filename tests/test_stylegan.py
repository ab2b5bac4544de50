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
