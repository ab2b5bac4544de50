import math

import pytest
import torch

from diffusion.schedules import SCHEDULES, SPACINGS, make_schedule, timestep_pairs


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("T", [25, 100, 1000])
def test_schedule_properties(name, T):
    s = make_schedule(name, T)
    assert s.betas.dtype == torch.float64 and s.alphas_cumprod.dtype == torch.float64
    assert s.betas.shape == (T,) and s.alphas_cumprod.shape == (T,)
    assert bool(((s.betas > 0) & (s.betas < 1)).all())
    ab = s.alphas_cumprod
    assert bool((ab[1:] < ab[:-1]).all()), "ᾱ must be strictly decreasing"
    assert 0 < float(ab[-1]) < float(ab[0]) < 1
    torch.testing.assert_close(ab, torch.cumprod(1 - s.betas, 0))


@pytest.mark.parametrize("T", [1000, 500, 250])
def test_linear_matches_hw6_formula(T):
    s = make_schedule("linear", T)
    scale = 1000 / T
    assert float(s.betas[0]) == pytest.approx(scale * 1e-4, rel=1e-12)
    assert float(s.betas[-1]) == pytest.approx(scale * 0.02, rel=1e-12)
    diffs = s.betas[1:] - s.betas[:-1]
    torch.testing.assert_close(diffs, torch.full_like(diffs, scale * (0.02 - 1e-4) / (T - 1)))
    # DDPM's ᾱ_T for T = 1000 is about 4.0e-5
    if T == 1000:
        assert float(s.alphas_cumprod[-1]) == pytest.approx(4.036e-5, rel=1e-3)


def test_cosine_matches_formula():
    T, s_ = 1000, 0.008
    sched = make_schedule("cosine", T)
    f = lambda t: math.cos((t / T + s_) / (1 + s_) * math.pi / 2) ** 2  # noqa: E731
    for t in [0, 1, 10, 250, 500, 900]:  # index t is time t+1 (before beta clipping bites, near T)
        assert float(sched.alphas_cumprod[t]) == pytest.approx(f(t + 1) / f(0), rel=1e-9)
    assert float(sched.betas.max()) == pytest.approx(0.999)


def test_sigmoid_matches_formula():
    T = 1000
    sched = make_schedule("sigmoid", T)
    sig = lambda v: 1 / (1 + math.exp(-v))  # noqa: E731
    g = lambda t: (sig(3) - sig(6 * t / T - 3)) / (sig(3) - sig(-3))  # noqa: E731
    for t in [0, 1, 100, 500, 800]:
        assert float(sched.alphas_cumprod[t]) == pytest.approx(g(t + 1) / g(0), rel=1e-9)


def test_q_sample_moments():
    s = make_schedule("linear", 1000)
    x0 = torch.tensor([0.7, -0.3, 0.0])
    gen = torch.Generator().manual_seed(0)
    for t in [0, 100, 500, 999]:
        n = 200_000
        noise = torch.randn(n, 3, generator=gen)
        tt = torch.full((n,), t)
        xt = s.q_sample(x0.expand(n, 3), tt, noise)
        ab = float(s.alphas_cumprod[t])
        torch.testing.assert_close(xt.mean(0), math.sqrt(ab) * x0, atol=0.01, rtol=0)
        torch.testing.assert_close(xt.var(0), torch.full((3,), 1 - ab), atol=0.01, rtol=0.01)
        mean, var = s.q_mean_var(x0.expand(2, 3), tt[:2])
        torch.testing.assert_close(mean[0], math.sqrt(ab) * x0)
        torch.testing.assert_close(var[0], torch.full((3,), 1 - ab))


def test_v_target_recovers_eps_and_x0():
    s = make_schedule("cosine", 1000)
    x0, eps = torch.randn(4, 3, 8, 8), torch.randn(4, 3, 8, 8)
    t = torch.tensor([0, 10, 500, 999])
    xt, v = s.q_sample(x0, t, eps), s.v_target(x0, t, eps)
    ab = s.alphas_cumprod[t].float().reshape(-1, 1, 1, 1)
    torch.testing.assert_close(ab.sqrt() * v + (1 - ab).sqrt() * xt, eps, atol=1e-5, rtol=0)
    torch.testing.assert_close(ab.sqrt() * xt - (1 - ab).sqrt() * v, x0, atol=1e-5, rtol=0)


@pytest.mark.parametrize("spacing", SPACINGS)
@pytest.mark.parametrize("S", [1, 2, 7, 10, 50, 999, 1000])
def test_timestep_pairs_are_valid(spacing, S):
    pairs = timestep_pairs(1000, S, spacing)
    assert pairs.shape == (S, 2) and pairs.dtype == torch.int64
    t, t_prev = pairs[:, 0], pairs[:, 1]
    assert bool((t[:-1] > t[1:]).all()), "strictly descending"
    assert int(t.min()) >= 0 and int(t.max()) <= 999
    assert bool((t_prev[:-1] == t[1:]).all()), "each step lands where the next starts"
    assert int(t_prev[-1]) == -1, "the last step goes to ᾱ = 1"


def test_timestep_pairs_known_values():
    assert timestep_pairs(1000, 10, "trailing")[:, 0].tolist() == [999, 899, 799, 699, 599, 499, 399, 299, 199, 99]
    assert timestep_pairs(1000, 10, "uniform")[:, 0].tolist() == [900, 800, 700, 600, 500, 400, 300, 200, 100, 0]
    assert timestep_pairs(1000, 4, "linspace")[:, 0].tolist() == [999, 666, 333, 0]
    # DDIM paper's quadratic spacing, worked by hand: τ_i = ⌊0.8T·i²/(S-1)²⌋ = ⌊50 i²⌋ and ⌊800 i²/81⌋
    assert timestep_pairs(1000, 5, "quad")[:, 0].tolist() == [800, 450, 200, 50, 0]
    assert timestep_pairs(1000, 10, "quad")[:, 0].tolist() == [800, 632, 483, 355, 246, 158, 88, 39, 9, 0]
    assert timestep_pairs(1000, 1000, "uniform")[:, 0].tolist() == list(range(999, -1, -1))


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="allowed: linear, cosine, sigmoid"):
        make_schedule("quadratic", 1000)
    with pytest.raises(ValueError, match="integer >= 1"):
        make_schedule("linear", 0)
    with pytest.raises(ValueError, match="timesteps >= 21"):
        make_schedule("linear", 20)
    for bad in [0, 1001, -5, 2.5]:
        with pytest.raises(ValueError, match=r"steps must be an integer in 1\.\.1000"):
            timestep_pairs(1000, bad, "uniform")
    with pytest.raises(ValueError, match="allowed: uniform, quad, linspace, trailing"):
        timestep_pairs(1000, 10, "leading")
    s = make_schedule("linear", 100)
    assert s.alpha_bar(-1) == 1.0
    with pytest.raises(ValueError, match=r"-1\.\.99"):
        s.alpha_bar(100)
