import pytest
import torch

from diffusion.schedules import make_schedule
from diffusion.unet import UNet, UNetConfig, count_parameters, forward_flops, timestep_embedding

TINY = UNetConfig(image_size=16, base_channels=8, channel_mults=(1, 2), attention_resolutions=(8,), head_channels=8,
                  norm_groups=4)


@pytest.mark.parametrize("cfg", [
    TINY,
    UNetConfig(image_size=32, base_channels=8, channel_mults=(1, 2, 2), num_res_blocks=2,
               attention_resolutions=(16, 8), head_channels=8, norm_groups=4),
    UNetConfig(image_size=8, in_channels=1, base_channels=8, channel_mults=(1,), attention_resolutions=(),
               norm_groups=4),
])
def test_output_shape_matches_input(cfg):
    net = UNet(cfg)
    for b in [1, 3]:
        x = torch.randn(b, cfg.in_channels, cfg.image_size, cfg.image_size)
        assert net(x, torch.randint(0, 1000, (b,))).shape == x.shape
    # a scalar t broadcasts over the batch
    assert net(torch.randn(2, cfg.in_channels, cfg.image_size, cfg.image_size), torch.tensor(5)).shape[0] == 2


def test_zero_initialised_output_and_time_dependence():
    torch.manual_seed(0)
    net = UNet(TINY)
    x = torch.randn(2, 3, 16, 16)
    assert torch.equal(net(x, torch.tensor([1, 2])), torch.zeros_like(x))  # the output conv starts at zero
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.1)
    a, b = net(x, torch.tensor([10, 10])), net(x, torch.tensor([10, 900]))
    assert torch.allclose(a[0], b[0], atol=1e-6) and not torch.allclose(a[1], b[1]), "time must change the output"


def test_timestep_embedding():
    e = timestep_embedding(torch.tensor([0, 1, 999]), 16)
    assert e.shape == (3, 16)
    torch.testing.assert_close(e[0], torch.cat([torch.ones(8), torch.zeros(8)]))
    assert timestep_embedding(torch.tensor([3]), 15).shape == (1, 15)


def test_one_optimisation_step_lowers_the_loss():
    torch.manual_seed(0)
    sched = make_schedule("linear", 1000)
    net = UNet(TINY)
    opt = torch.optim.AdamW(net.parameters(), lr=2e-3)
    x0 = torch.rand(8, 3, 16, 16) * 2 - 1
    noise, t = torch.randn_like(x0), torch.randint(0, 1000, (8,))
    xt = sched.q_sample(x0, t, noise)

    def loss():
        return torch.nn.functional.mse_loss(net(xt, t), noise)

    before = loss()
    before.backward()
    assert all(p.grad is not None for p in net.parameters())
    opt.step()
    for _ in range(4):
        opt.zero_grad()
        loss().backward()
        opt.step()
    with torch.no_grad():
        assert loss().item() < before.item() - 0.01


def test_default_config_size_and_flops():
    net = UNet(UNetConfig())
    assert 2e6 < count_parameters(net) < 4e6
    f1 = forward_flops(net, 64)
    assert 0.8e9 < f1 < 1.4e9
    assert forward_flops(net, 64, batch=2) == pytest.approx(2 * f1, rel=0.01)


def test_bad_configs_raise():
    with pytest.raises(ValueError, match="divisible by 2"):
        UNetConfig(image_size=30, channel_mults=(1, 2, 4))
    with pytest.raises(ValueError, match="norm_groups"):
        UNetConfig(base_channels=12, norm_groups=8)
    with pytest.raises(ValueError, match="channel_mults"):
        UNetConfig(channel_mults=(1, 0))
    with pytest.raises(ValueError, match="num_res_blocks"):
        UNetConfig(num_res_blocks=0)


def test_invariant_split_never_pads_more_than_one_image():
    from diffusion.cpu import invariant_split

    assert invariant_split(1, 16) == (2, 2)  # a lone image: two images' work on 2 threads, not 16
    assert invariant_split(1, 1) == (2, 1)
    assert invariant_split(7, 2) == (8, 2)
    assert invariant_split(64, 8) == (64, 8)
    assert invariant_split(6, 4) == (6, 2)
    assert invariant_split(12, 8) == (12, 4)
    for b in range(1, 70):
        for t in (1, 2, 3, 4, 8, 16):
            padded, use = invariant_split(b, t)
            assert b <= padded <= b + 1 and padded % use == 0 and 1 <= use <= t and use & (use - 1) == 0


@pytest.mark.parametrize("threads", [2, 3, 4, 8])
def test_a_seed_is_the_same_alone_or_in_a_batch_whatever_the_threads(threads):
    from diffusion.cpu import threads as using

    torch.manual_seed(0)
    net = UNet(UNetConfig()).eval().to(memory_format=torch.channels_last)  # the shipped size: kernels depend on it
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, 0.05)
    x = torch.randn(16, 3, 64, 64).contiguous(memory_format=torch.channels_last)
    t = torch.full((16,), 500)
    with torch.no_grad(), using(threads):
        full = net(x, t)
        for size in (1, 2, 5, 9, 12):
            assert torch.equal(net(x[:size], t[:size]), full[:size]), f"batch {size} on {threads} threads"
        assert torch.get_num_threads() == threads, "the thread count is restored"
