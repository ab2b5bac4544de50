import numpy as np
import pytest
import torch
from PIL import Image

from demo import compare as cmp
from demo import generate as gen
from demo import interpolate as itp
from diffusion.noise import slerp
from test_app_generate import needs_default


@needs_default
def test_compare_grid_table_plot(tmp_path):
    calls = []
    canvas, table, plot = cmp.compare(2, "2,4", "0,1", include_ddpm=False, out_dir=str(tmp_path),
                                      progress=lambda f, d: calls.append(f))
    assert canvas.shape == (3 * (2 * 64 + 4), 3 * (2 * 64 + 4), 3)
    assert table.count("\n") == 3 and " s |" in table
    assert calls[-1] == pytest.approx(1.0)
    with Image.open(plot) as im:
        assert im.size[0] > 300
    # a cell equals the Generate tab's image for the same seed and settings
    ref, _, _ = gen.generate(2, 1, "DDIM", 4, 1.0)
    assert np.array_equal(canvas[::3, ::3][68:132, 68:132], ref[0])


@needs_default
@pytest.mark.parametrize("kw,match", [({"steps": "0"}, "steps must be a whole number from 1 to 1000"),
                                      ({"steps": "2.5"}, "got 2.5"), ({"etas": "2"}, "eta must be a number from 0 to 1"),
                                      ({"steps": "a,b"}, "comma-separated"), ({"seed": -3}, "seed must be")])
def test_compare_bad_inputs(kw, match):
    with pytest.raises(ValueError, match=match):
        cmp.compare(**{"seed": 0, **kw})


def test_slerp_keeps_the_norm_and_ends():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(3, 64, 64, generator=g), torch.randn(3, 64, 64, generator=g)
    torch.testing.assert_close(slerp(a, b, 0.0), a)
    torch.testing.assert_close(slerp(a, b, 1.0), b, atol=1e-5, rtol=1e-5)
    mid_s, mid_l = slerp(a, b, 0.5), (a + b) / 2
    assert float(mid_s.norm() / a.norm()) == pytest.approx(1.0, abs=0.02)
    assert float(mid_l.norm() / a.norm()) == pytest.approx(0.71, abs=0.03)


@needs_default
def test_interpolate_strips_and_gif(tmp_path):
    s, lin, gif = itp.interpolate(0, 1, frames=3, steps=3, out_dir=str(tmp_path))
    assert s.shape == lin.shape == (128, 3 * 128 + 4, 3)
    ends, _, _ = gen.generate(0, 2, "DDIM", 3, 0.0)
    assert np.array_equal(s[::2, ::2][:, :64], ends[0])  # the first frame is seed 0's own image
    assert np.array_equal(s[:, -128:][::2, ::2], ends[1])
    with Image.open(gif) as im:
        assert im.n_frames == 4  # 0, 1, 2, then 1 on the way back
    with pytest.raises(ValueError, match="frames must be a whole number from 2 to 16"):
        itp.interpolate(0, 1, frames=1)
    with pytest.raises(ValueError, match="DDIM steps must be a whole number from 1 to 100, got 2.5"):
        itp.interpolate(0, 1, steps=2.5)


def test_compare_places_ddpm_in_the_eta_1_row(tmp_path, monkeypatch):
    from helpers import TINY, random_unet
    from lab.checkpoint import save_checkpoint
    from lab.pipeline import sample_images
    from lab.registry import REGISTRY

    torch.manual_seed(0)
    save_checkpoint(str(tmp_path / "ck" / "tiny"), random_unet(std=0.05), TINY, "cosine", 100, "v")
    monkeypatch.setattr(REGISTRY, "folder", str(tmp_path / "ck"))
    monkeypatch.setattr(REGISTRY, "_models", {})
    canvas, table, _ = cmp.compare(5, "2,3", "0,1", include_ddpm=True, checkpoint="tiny", out_dir=str(tmp_path))
    cells = canvas[::3, ::3]  # the grid is drawn 3x; cells are 16 px with 4 px gaps
    ddpm = sample_images(REGISTRY.model("tiny"), [5], "ddpm", None, 1.0)[0]
    assert np.array_equal(cells[20:36, 40:56], ddpm), "DDPM sits at the end of the eta = 1 row"
    assert (cells[0:16, 40:56] == 255).all(), "and not in the eta = 0 row"
    rows = table.splitlines()
    assert rows[2].endswith("| |") and rows[3].count(" s |") == 3 and "eta = 1 row" in table
