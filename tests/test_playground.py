"""The 2-D playground runs diffusion/'s schedules and samplers unchanged: known answers on a Gaussian mixture,
the typed word, a small MLP that learns, and same seed, same cloud."""
import math

import pytest
import torch

from analytic import gmm_eps
from diffusion.samplers import make_sampler
from diffusion.schedules import make_schedule
from lab import playground as pg

MEANS, WEIGHTS, STD = (torch.tensor(pg.GMM[0]), torch.tensor(pg.GMM[1]), pg.GMM[2])


def nearest(points: torch.Tensor) -> torch.Tensor:
    return torch.cdist(points, MEANS).argmin(1)


def gmm_samples(sampler: str, steps, eta: float, n: int = 4000, schedule=None) -> torch.Tensor:
    schedule = schedule or make_schedule("cosine", 200)
    g = torch.Generator().manual_seed(0)
    x_T = torch.randn(n, 2, generator=g)
    run = make_sampler(sampler, gmm_eps(schedule, MEANS, WEIGHTS, STD), schedule, x_T, steps=steps, eta=eta,
                       generator=g, clip_x0=False)
    for step in run:
        pass
    return step.x


def test_ddpm_on_a_gaussian_mixture_reproduces_its_means_and_weights():
    x = gmm_samples("ddpm", None, 1.0)
    k = nearest(x)
    share = torch.bincount(k, minlength=8).float() / len(x)
    assert (share - WEIGHTS).abs().max() < 0.02, share  # 4000 draws: a weight's standard error is ≤ 0.007
    for j in range(8):
        mine = x[k == j]
        assert (mine.mean(0) - MEANS[j]).norm() < 0.02 and abs(float(mine.std(0).mean()) - STD) < 0.015


def test_the_ode_samplers_converge_as_steps_rise():
    exact = pg.points("gaussian mixture", 4000, seed=1)
    for sampler in ("ddim", "dpm-solver"):
        distances = [pg.sliced_wasserstein(gmm_samples(sampler, s, 0.0), exact) for s in (2, 5, 20, 100)]
        assert distances[0] > distances[1] > distances[3] and distances[3] < 0.03, (sampler, distances)
    # DPM-Solver++ (second order) is closer than DDIM (first order) at few steps
    assert pg.sliced_wasserstein(gmm_samples("dpm-solver", 5, 0.0), exact) < \
        pg.sliced_wasserstein(gmm_samples("ddim", 5, 0.0), exact)


def test_data_sets_and_the_typed_word():
    for name in pg.DATASETS[:-1]:
        x = pg.points(name, 500, seed=3)
        assert x.shape == (500, 2) and x.abs().max() < 2.5 and torch.equal(x, pg.points(name, 500, seed=3))
    from demo.common import cjk_font  # the app's fonts: DejaVu Sans for Latin, Noto CJK where installed
    import matplotlib
    import os

    dejavu = os.path.join(matplotlib.get_data_path(), "fonts", "ttf", "DejaVuSans.ttf")
    ntu = pg.word_points("NTU", 2000, font=dejavu)
    assert ntu.shape == (2000, 2) and ntu[:, 0].max() - ntu[:, 0].min() > 1.5  # wide as a word is
    assert (ntu[:, 0] < -0.3).any() and (ntu[:, 0] > 0.3).any() and ntu[:, 0].abs().min() < 0.3
    if cjk_font():
        chinese = pg.word_points("擴散", 2000, font=cjk_font())
        assert chinese.shape == (2000, 2) and chinese[:, 0].std() > 0.3
    with pytest.raises(ValueError, match="1 to 8 characters"):
        pg.word_points("diffusion models", 10, font=dejavu)
    with pytest.raises(ValueError, match="no glyphs"):
        pg.word_points("\u200b", 10, font=dejavu)


def test_a_small_mlp_learns_the_moons_and_the_same_seed_gives_the_same_cloud(tmp_path):
    torch.manual_seed(0)
    data = pg.points("moons", 1000, seed=0)
    model = pg.PointModel(pg.PointConfig(hidden=64, depth=2, timesteps=50))
    losses = pg.train(model, data, steps=400, batch=128)
    assert losses[-1] < 0.95 * losses[0]  # much of the loss is irreducible: the cloud below is the real check
    before = pg.sliced_wasserstein(torch.randn(500, 2), data[:500])
    after = pg.sliced_wasserstein(pg.sample_paths(model, "dpm-solver", 20, 0.0, 500, seed=4)[-1], data[:500])
    assert after < before / 3, (before, after)
    a, b = (pg.sample_paths(model, "ddim", 10, 1.0, 300, seed=5) for _ in range(2))
    assert a.shape == (11, 300, 2) and torch.equal(a, b)
    again = pg.PointModel(pg.PointConfig(hidden=64, depth=2, timesteps=50))  # trained again: the same model
    pg.train(again, data, steps=400, batch=128)
    assert torch.equal(pg.sample_paths(again, "ddim", 10, 1.0, 300, seed=5), a)
    pg.save(model, str(tmp_path / "moons.safetensors"), {"data": "moons"})
    loaded, extra = pg.load(str(tmp_path / "moons.safetensors"))
    assert extra == {"data": "moons"} and torch.equal(pg.sample_paths(loaded, "ddim", 10, 1.0, 300, seed=5), a)
    grid, arrows = pg.denoising_field(model, 25)
    assert grid.shape == arrows.shape == (17 * 17, 2)
    curves = pg.fit_curve(model, data, [1, 5, 20], n=300)
    assert set(curves) == {"DDPM", "DDIM η 0", "DDIM η 1", "DPM-Solver++"} and len(curves["DDIM η 0"]) == 3
    with pytest.raises(FileNotFoundError, match="no playground model"):
        pg.load(str(tmp_path / "absent.safetensors"))
