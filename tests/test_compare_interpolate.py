import numpy as np
import pytest
import torch
from PIL import Image

from demo import compare as cmp
from demo import generate as gen
from demo import interpolate as itp
from diffusion.noise import slerp
from test_app_generate import TEACHER, needs_default


@needs_default
def test_compare_grid_table_plot(tmp_path):
    calls = []
    canvas, table, plot, quality = cmp.compare(2, "2,4", "0,1", include_ddpm=False, checkpoint=TEACHER, out_dir=str(tmp_path),
                                               progress=lambda f, d: calls.append(f))
    # labelled on the image: 90 px of row labels at the left, 24 px of column labels on top, 192 px cells, 4 px gaps
    assert canvas.shape == (24 + 2 * 196 - 4, 90 + 2 * 196 - 4, 3)
    assert (canvas[:24, 90:] < 128).any() and (canvas[24:, :90] < 128).any(), "labels are drawn"
    assert quality is None or quality.endswith("quality_vs_steps.png")
    assert table.count("\n") == 3 and " s |" in table
    assert calls[-1] == pytest.approx(1.0)
    with Image.open(plot) as im:
        assert im.size[0] > 300
    # a cell equals the Generate tab's image for the same seed and settings
    ref, _, _ = gen.generate(2, 1, "DDIM", 4, 1.0, TEACHER)
    assert np.array_equal(canvas[24 + 196:24 + 196 + 192, 90 + 196:90 + 196 + 192][::3, ::3], ref[0])


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
    s, lin, gif = itp.interpolate(0, 1, frames=3, steps=3, checkpoint=TEACHER, out_dir=str(tmp_path))
    assert s.shape == lin.shape == (128, 3 * 128 + 4, 3)
    ends, _, _ = gen.generate(0, 2, "DDIM", 3, 0.0, TEACHER)
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
    canvas, table, _, quality = cmp.compare(5, "2,3", "0,1", include_ddpm=True, checkpoint="tiny",
                                            out_dir=str(tmp_path))
    assert quality is None  # the tiny checkpoint has no report
    ddpm = sample_images(REGISTRY.model("tiny"), [5], "ddpm", None, 1.0)[0]
    cell = lambda r, c: canvas[24 + r * 52:24 + r * 52 + 48, 90 + c * 52:90 + c * 52 + 48]  # noqa: E731 (48 px cells)
    assert np.array_equal(cell(1, 2)[::3, ::3], ddpm), "DDPM sits at the end of the eta = 1 row"
    assert (cell(0, 2) == 255).all(), "and not in the eta = 0 row"
    rows = table.splitlines()
    assert rows[2].replace(" ", "").endswith("||") and rows[3].count(" s |") == 3 and "eta = 1 row" in table
