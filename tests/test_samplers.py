import pytest
import torch

from analytic import gaussian_eps, point_mass_eps
from diffusion.noise import seeded_noise
from diffusion.samplers import SamplerStep, ddim, ddpm, dpm_solver, eps_model, make_sampler, sample
from diffusion.schedules import SPACINGS, make_schedule
from diffusion.unet import UNet, UNetConfig

SCHED = make_schedule("linear", 1000)


def _x0_star():
    return torch.linspace(-0.9, 0.9, 2 * 3 * 4 * 4).reshape(2, 3, 4, 4)


@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("steps", [1, 10, 50])
def test_ddim_eta0_lands_on_point_mass(spacing, steps):
    x0 = _x0_star()
    noise, gens = seeded_noise([0, 1], (3, 4, 4))
    out = sample(ddim(point_mass_eps(SCHED, x0), SCHED, noise, steps=steps, eta=0.0, spacing=spacing))
    # one step predicts x0 from x_999 in float32, dividing by √ᾱ ≈ 0.006: ~1e-4 rounding
    torch.testing.assert_close(out, x0, atol=1e-5 if steps > 1 else 5e-4, rtol=0)


@pytest.mark.parametrize("name", ["linear", "cosine", "sigmoid"])
def test_all_samplers_land_on_point_mass(name):
    sched = make_schedule(name, 1000)
    x0 = _x0_star()
    model = point_mass_eps(sched, x0)
    noise, gens = seeded_noise([3, 4], (3, 4, 4))
    torch.testing.assert_close(sample(ddpm(model, sched, noise, generator=gens)), x0, atol=1e-5, rtol=0)
    torch.testing.assert_close(sample(dpm_solver(model, sched, noise, steps=10)), x0, atol=1e-5, rtol=0)
    torch.testing.assert_close(sample(ddim(model, sched, noise, steps=20, eta=1.0, generator=gens)), x0,
                               atol=1e-5, rtol=0)


def _gaussian_run(sampler, mean=0.3, std=0.5, n=4096, **kw):
    model = gaussian_eps(SCHED, mean, std)
    gen = torch.Generator().manual_seed(1234)
    noise = torch.randn(n, 1, 2, 2, generator=gen)
    out = sample(sampler(model, SCHED, noise, generator=gen, clip_x0=False, **kw))
    return out.mean().item(), out.std().item()


def test_ddpm_reproduces_gaussian_moments():
    m, s = _gaussian_run(ddpm)
    assert m == pytest.approx(0.3, abs=0.02)
    assert s == pytest.approx(0.5, rel=0.03)


def test_ddim_deterministic_reproduces_gaussian_moments():
    m, s = _gaussian_run(ddim, steps=250, eta=0.0)
    assert m == pytest.approx(0.3, abs=0.02)
    assert s == pytest.approx(0.5, rel=0.03)


def test_dpm_solver_reproduces_gaussian_moments():
    m, s = _gaussian_run(dpm_solver, steps=50)
    assert m == pytest.approx(0.3, abs=0.02)
    assert s == pytest.approx(0.5, rel=0.03)


def test_ode_samplers_converge_and_dpm_solver_is_higher_order():
    """Few-step ODE sampling under-disperses (the last jump returns E[x0 | x_t]); the error shrinks
    with steps, and DPM-Solver++(2M) is closer than DDIM at equal steps."""
    err = {}
    for steps in [10, 20, 50]:
        err["ddim", steps] = abs(_gaussian_run(ddim, steps=steps)[1] - 0.5)
        err["dpm", steps] = abs(_gaussian_run(dpm_solver, steps=steps)[1] - 0.5)
    assert err["ddim", 10] > err["ddim", 20] > err["ddim", 50]
    for steps in [10, 20, 50]:
        assert err["dpm", steps] < err["ddim", steps]
    assert err["dpm", 20] < 0.025


def test_wrong_model_gives_wrong_moments():
    """The moment tests can fail: a model for N(0, 1) data does not produce N(0.3, 0.5²)."""
    model = gaussian_eps(SCHED, 0.0, 1.0)
    noise = torch.randn(4096, 1, 2, 2, generator=torch.Generator().manual_seed(0))
    out = sample(ddim(model, SCHED, noise, steps=20, clip_x0=False))
    assert abs(out.mean().item() - 0.3) > 0.1 and abs(out.std().item() - 0.5) > 0.2


def test_ddim_eta1_all_steps_is_ddpm():
    """DDIM eq. 16 with η = 1 over all T steps is the DDPM posterior: same draws, same samples."""
    model = gaussian_eps(SCHED, 0.3, 0.5)
    seeds = list(range(8))
    noise, g1 = seeded_noise(seeds, (1, 4, 4))
    _, g2 = seeded_noise(seeds, (1, 4, 4))
    a = sample(ddpm(model, SCHED, noise, generator=g1))
    b = sample(ddim(model, SCHED, noise, steps=1000, eta=1.0, spacing="uniform", generator=g2))
    torch.testing.assert_close(a, b, atol=1e-4, rtol=0)
    # and in distribution, with independent draws
    ma, sa = _gaussian_run(ddpm)
    mb, sb = _gaussian_run(ddim, steps=1000, eta=1.0, spacing="uniform")
    assert ma == pytest.approx(mb, abs=0.03) and sa == pytest.approx(sb, rel=0.05)


def test_steps_are_reported():
    x0 = _x0_star()
    noise, _ = seeded_noise([0, 1], (3, 4, 4))
    run = ddim(point_mass_eps(SCHED, x0), SCHED, noise, steps=5)
    assert len(run) == 5
    steps = list(run)
    assert [s.index for s in steps] == [0, 1, 2, 3, 4] and [s.nfe for s in steps] == [1, 2, 3, 4, 5]
    assert [s.t for s in steps] == [999, 799, 599, 399, 199] and steps[-1].t_prev == -1
    assert all(isinstance(s, SamplerStep) and s.x.shape == s.x0.shape == (2, 3, 4, 4) for s in steps)
    torch.testing.assert_close(steps[0].x0, x0, atol=5e-4, rtol=0)  # the exact model knows x0 at once
    torch.testing.assert_close(steps[-1].x, x0, atol=1e-5, rtol=0)


def test_close_stops_the_work():
    calls = []
    x0 = _x0_star()
    base = point_mass_eps(SCHED, x0)

    def model(x, t):
        calls.append(int(t[0]))
        return base(x, t)

    run = ddpm(model, SCHED, seeded_noise([0, 1], (3, 4, 4))[0])
    for i, _ in enumerate(run):
        if i == 2:
            break
    run.close()
    assert len(calls) == 3
    with pytest.raises(StopIteration):
        next(run)
    assert len(calls) == 3


def test_v_prediction_wrapper():
    x0 = _x0_star()
    eps_net = point_mass_eps(SCHED, x0)

    def v_net(x, t):  # v = √ᾱ ε − √(1−ᾱ) x0
        ab = SCHED.alphas_cumprod[t].float().reshape(-1, 1, 1, 1)
        return ab.sqrt() * eps_net(x, t) - (1 - ab).sqrt() * x0

    x = torch.randn(2, 3, 4, 4)
    t = torch.tensor([10, 700])
    torch.testing.assert_close(eps_model(v_net, SCHED, "v")(x, t), eps_net(x, t), atol=1e-5, rtol=1e-5)
    out = sample(dpm_solver(eps_model(v_net, SCHED, "v"), SCHED, torch.randn(2, 3, 4, 4), steps=8))
    torch.testing.assert_close(out, x0, atol=1e-4, rtol=0)


def test_bad_arguments_raise_value_errors():
    model = point_mass_eps(SCHED, _x0_star())
    noise = torch.randn(2, 3, 4, 4)
    for steps in [0, 1001, 10**6, -1]:
        with pytest.raises(ValueError, match=r"1\.\.1000"):
            ddim(model, SCHED, noise, steps=steps)
        with pytest.raises(ValueError, match=r"1\.\.1000"):
            dpm_solver(model, SCHED, noise, steps=steps)
    for eta in [-0.1, 1.5, 2, float("nan")]:
        with pytest.raises(ValueError, match=r"eta must be a number in \[0, 1\]"):
            ddim(model, SCHED, noise, eta=eta)
    with pytest.raises(ValueError, match="allowed: dpm-solver, ddim, ddpm"):
        make_sampler("euler", model, SCHED, noise)
    with pytest.raises(ValueError, match="allowed: uniform, quad, linspace, trailing"):
        ddim(model, SCHED, noise, spacing="karras")
    with pytest.raises(ValueError, match="allowed: eps, v"):
        eps_model(model, SCHED, "x0")
    with pytest.raises(ValueError, match="one per image"):
        ddpm(model, SCHED, noise, generator=[torch.Generator()])
    with pytest.raises(ValueError, match="0..2"):
        seeded_noise([-1])
    with pytest.raises(ValueError, match="floating-point"):
        ddim(model, SCHED, torch.zeros(2, 3, dtype=torch.long))


def test_seed_alone_equals_seed_in_batch_analytic():
    model = gaussian_eps(SCHED, 0.3, 0.5)
    for sampler, kw in [(ddpm, {}), (ddim, {"steps": 10, "eta": 0.5})]:
        noise, gens = seeded_noise(list(range(16)), (3, 8, 8))
        batch = sample(sampler(model, SCHED, noise, generator=gens, **kw))
        noise1, gens1 = seeded_noise([7], (3, 8, 8))
        alone = sample(sampler(model, SCHED, noise1, generator=gens1, **kw))
        assert torch.equal(alone[0], batch[7])
        assert not torch.equal(batch[6], batch[7])


@pytest.fixture(scope="module")
def default_unet():
    torch.manual_seed(0)
    net = UNet(UNetConfig()).eval()
    with torch.no_grad():  # random non-zero weights everywhere, zero-initialised layers included
        for p in net.parameters():
            p.normal_(0, 0.05)
    return net.to(memory_format=torch.channels_last)


@pytest.mark.parametrize("name,kw", [("ddim", {"steps": 4, "eta": 1.0}), ("dpm-solver", {"steps": 4})])
def test_seed_alone_equals_seed_in_batch_unet(default_unet, name, kw):
    """The image for seed 7 is bit-identical alone and at any position in a batch of 16."""
    def run(seeds):
        noise, gens = seeded_noise(seeds, (3, 64, 64))
        noise = noise.contiguous(memory_format=torch.channels_last)
        return sample(make_sampler(name, default_unet, SCHED, noise, generator=gens, **kw))

    alone = run([7])[0]
    for size, pos in [(16, 0), (16, 7), (16, 15), (5, 2), (3, 1), (2, 1)]:  # odd sizes: the middle image
        seeds = [100 + i for i in range(size)]
        seeds[pos] = 7
        assert torch.equal(run(seeds)[pos], alone), f"seed 7 at position {pos} of {size} differs from seed 7 alone"
    assert torch.equal(run([7])[0], alone)
