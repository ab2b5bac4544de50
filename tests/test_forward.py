"""The Forward process tab: q(x_t | x_0) under three schedules with one ε, the curves, the visited steps."""
import numpy as np
import pytest
from PIL import Image

from demo import forward as fw
from lab.teaching import curves, forward_grid, parse_timesteps, visited
from test_app_generate import needs_default


def test_forward_grid_known_answers():
    face = np.full((16, 16, 3), 200, dtype=np.uint8)
    grid = forward_grid(face, [0, 999], T=1000, seed=3)
    assert grid.shape == (3, 2, 16, 16, 3)
    # t = 0: ᾱ_0 ≈ 1, the face is (almost) untouched in every schedule; t = 999: (almost) pure noise, the same
    # ε in each schedule, so the noisiest cells agree closely
    assert all(np.abs(grid[s, 0].astype(int) - 200).mean() < 8 for s in range(3))
    assert np.abs(grid[1, 1].astype(int) - grid[2, 1].astype(int)).mean() < 3
    assert grid[0, 1].std() > 50


def test_curves_and_visits():
    c = curves(1000)
    assert set(c) == {"linear", "cosine", "sigmoid"}
    for v in c.values():
        np.testing.assert_allclose(v["sqrt_alpha_bar"] ** 2 + v["sqrt_one_minus"] ** 2, 1.0, rtol=1e-12)
        assert (np.diff(v["alpha_bar"]) < 0).all() and (np.diff(v["log_snr"]) < 0).all()
    assert c["linear"]["alpha_bar"][499] < 0.1 < c["cosine"]["alpha_bar"][499]  # linear destroys the face early
    assert visited(1000, 4, "trailing") == [999, 749, 499, 249]
    assert visited(1000, 4, "uniform") == [750, 500, 250, 0]
    with pytest.raises(ValueError, match="spacing must be one of"):
        visited(1000, 4, "leading")
    assert parse_timesteps("0, 10,999", 1000) == [0, 10, 999]
    for bad, match in (("0,1000", "each timestep must be a whole number from 0 to 999"), ("", "give 1 to 10"),
                       ("1.5", "got '1.5'")):
        with pytest.raises(ValueError, match=match):
            parse_timesteps(bad, 1000)


@needs_default
def test_forward_tab_at_its_defaults_and_with_an_upload(tmp_path):
    image, plot, info = fw.forward(out_dir=str(tmp_path))
    assert image.ndim == 3 and image.shape[0] > 3 * 128 and "generated from seed 0" in info
    with Image.open(plot) as im:
        assert im.size[0] > 600
    upload = tmp_path / "me.png"
    Image.fromarray(np.full((300, 200, 3), 90, dtype=np.uint8)).save(upload)
    _, _, info = fw.forward(fw.SOURCES[1], 1, str(upload), "0,499", 500, 5, "uniform", out_dir=str(tmp_path))
    assert "uploaded me.png" in info and "visits t = 400, 300, 200, 100, 0" in info
    with pytest.raises(ValueError, match="upload an image first"):
        fw.forward(fw.SOURCES[1], 1, None, out_dir=str(tmp_path))
    with pytest.raises(ValueError, match="T must be a whole number from 50 to 1000"):
        fw.forward(T=20, out_dir=str(tmp_path))
