import numpy as np
import pytest
from PIL import Image

from demo import denoise
from demo import generate as gen
from lab.registry import REGISTRY
from test_app_generate import needs_default


@needs_default
def test_stream_yields_every_step_and_outputs(tmp_path):
    frames = []
    updates = list(denoise.denoise_stream(1, 3, "DDIM", 6, 0.0, "predicted x0", frames=frames))
    assert len(updates) == 6 and len(frames) == 7  # x_T, then one frame per step
    assert frames[0][0] == 999 and frames[-1][0] == -1
    img, status = updates[-1]
    assert img.shape == (192, 3 * 192 + 2 * 2, 3) and img.dtype == np.uint8 and status.startswith("step 6/6")
    # the last frame is the same image the Generate tab gives for these seeds
    final, _, _ = gen.generate(1, 3, "DDIM", 6, 0.0)
    assert np.array_equal(frames[-1][1][2], final[2])
    gif, fig = denoise.denoise_outputs(frames, out_dir=str(tmp_path))
    with Image.open(gif) as im:
        assert im.n_frames >= 6
    with Image.open(fig) as im:
        assert im.size[0] > 300


@needs_default
def test_closing_the_stream_stops_the_sampler():
    calls = []
    model = REGISTRY.model(REGISTRY.default)
    original = model.net.forward

    def counting(*a, **k):
        calls.append(1)
        return original(*a, **k)

    model.net.forward = counting
    try:
        stream = denoise.denoise_stream(0, 1, "DDPM", 1000)
        next(stream), next(stream)
        stream.close()
        assert len(calls) == 2
    finally:
        del model.net.forward


@pytest.mark.parametrize("kw,match", [({"view": "x_T"}, "view must be"), ({"num_images": 9}, "from 1 to 8"),
                                      ({"steps": 0}, "from 1 to 1000"), ({"steps": 2.5}, "got 2.5"),
                                      ({"sampler": "Euler"}, "sampler must be")])
@needs_default
def test_bad_inputs(kw, match):
    args = {"seed": 0, "num_images": 1, "sampler": "DDIM", "steps": 5, **kw}
    with pytest.raises(ValueError, match=match):
        next(denoise.denoise_stream(**args))
