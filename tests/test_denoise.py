import numpy as np
import pytest
from PIL import Image

from demo import denoise
from demo import generate as gen
from lab.registry import REGISTRY
from test_app_generate import TEACHER, needs_default


@needs_default
def test_stream_yields_every_step_and_outputs(tmp_path):
    frames = []
    updates = list(denoise.denoise_stream(1, 3, "DDIM", 6, 0.0, frames=frames, frame_dir=str(tmp_path)))
    assert len(updates) == 7 and len(frames) == 7  # x_T, then one update and one frame per step
    assert frames[0][0] == 999 and frames[-1][0] == -1
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"k{i:03d}.png" for i in range(7)]
    img, status = updates[-1]
    # x_t above x̂0: two rows of three 192 px images, labels at the left and the step on top
    assert img.shape == (24 + 2 * 192 + 6, 120 + 3 * 192 + 2 * 2, 3) and status.startswith("step 6/6")
    assert np.array_equal(img[24:216, 120:312], frames[-1][1][0].repeat(3, 0).repeat(3, 1))  # x_t row
    assert np.array_equal(img[222:414, 120:312], frames[-1][2][0].repeat(3, 0).repeat(3, 1))  # x̂0 row
    # the default student was asked for its teacher's steps: the teacher ran them, and the last frame is the same
    # image the Generate tab gives for these seeds with the teacher
    assert f"its teacher {TEACHER}'s" in status
    final, _, _ = gen.generate(1, 3, "DDIM", 6, 0.0, TEACHER)
    assert np.array_equal(frames[-1][1][2], final[2])
    gif, fig = denoise.denoise_outputs(frames, out_dir=str(tmp_path / "out"))
    with Image.open(gif) as im:
        assert im.n_frames >= 6
    with Image.open(fig) as im:
        assert im.size[0] > 300


@needs_default
def test_closing_the_stream_stops_the_sampler():
    calls = []
    model = REGISTRY.model(TEACHER)  # the default student shows its teacher's DDPM
    original = model.net.forward

    def counting(*a, **k):
        calls.append(1)
        return original(*a, **k)

    model.net.forward = counting
    try:
        stream = denoise.denoise_stream(0, 1, "DDPM", 1000)
        next(stream), next(stream), next(stream)  # x_T, then two steps
        stream.close()
        assert len(calls) == 2
    finally:
        del model.net.forward


@pytest.mark.parametrize("kw,match", [({"num_images": 9}, "from 1 to 8"),
                                      ({"steps": 0}, "from 1 to 1000"), ({"steps": 2.5}, "got 2.5"),
                                      ({"sampler": "Euler"}, "sampler must be")])
@needs_default
def test_bad_inputs(kw, match):
    args = {"seed": 0, "num_images": 1, "sampler": "DDIM", "steps": 5, **kw}
    with pytest.raises(ValueError, match=match):
        next(denoise.denoise_stream(**args))


@needs_default
def test_a_stopped_run_can_still_be_scrubbed():
    run = denoise.denoise(0, 2, "DDPM", 1000)
    for _ in range(40):  # x_T and 39 of DDPM's 1000 steps: MAX_KEPT = 80 keeps about every 12.6th step
        live, status, gif, fig, kept = next(run)
    run.close()  # Stop
    assert gif is None and fig is None and 3 <= len(kept) <= 5
    for path in kept:
        with Image.open(path) as im:
            assert im.size[1] == 24 + 2 * 192 + 6


@pytest.mark.parametrize("language", ["en", "zh-TW"])
def test_text_drawn_on_images_uses_glyphs_its_font_has(language):
    """The Denoising caption drew "t = 49 ⊠ clean image": PIL's default font has no arrow."""
    from PIL import ImageFont

    from demo.common import cjk_font, drawn, font, missing_glyphs
    from demo.messages import speaking

    assert missing_glyphs("t = 49 → clean image", ImageFont.load_default(14)) == "→"  # the check can fail
    with speaking(language):
        if language != "en" and not cjk_font():
            pytest.skip("no CJK font here (packages.txt installs one)")
        for text in (drawn("step 3/20, t = 949 → clean image", "第 3/20 步，t = 949 → 乾淨的圖"),
                     drawn("x_T: pure noise (t = 999)", "x_T：純雜訊（t = 999）"), "face 0.93"):
            assert missing_glyphs(text, font(14)) == "", text
