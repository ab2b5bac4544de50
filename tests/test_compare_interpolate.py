import numpy as np
import pytest
import torch
from PIL import Image

from demo import compare as cmp
from demo import generate as gen
from demo import interpolate as itp
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
@pytest.mark.parametrize("kw,match", [({"steps": "0"}, "steps must be in"), ({"etas": "2"}, r"eta must be in \[0, 1\]"),
                                      ({"steps": "a,b"}, "comma-separated"), ({"seed": -3}, "seed must be")])
def test_compare_bad_inputs(kw, match):
    with pytest.raises(ValueError, match=match):
        cmp.compare(**{"seed": 0, **kw})


def test_slerp_keeps_the_norm_and_ends():
    g = torch.Generator().manual_seed(0)
    a, b = torch.randn(3, 64, 64, generator=g), torch.randn(3, 64, 64, generator=g)
    torch.testing.assert_close(itp.slerp(a, b, 0.0), a)
    torch.testing.assert_close(itp.slerp(a, b, 1.0), b, atol=1e-5, rtol=1e-5)
    mid_s, mid_l = itp.slerp(a, b, 0.5), (a + b) / 2
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
    with pytest.raises(ValueError, match=r"frames must be in 2\.\.16"):
        itp.interpolate(0, 1, frames=1)
