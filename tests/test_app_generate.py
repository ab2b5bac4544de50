import os

import numpy as np
import pytest

from demo import generate as gen
from lab import inputs, paths

TEACHER = "anime-64"  # the default's teacher: what the tests of many-step sampling run
HAS_DEFAULT = all(os.path.isfile(os.path.join(paths.CHECKPOINTS, name, "model.safetensors"))
                  for name in (paths.DEFAULT_DIFFUSION, TEACHER))
needs_default = pytest.mark.skipif(not HAS_DEFAULT, reason="the shipped checkpoint is not present")


@needs_default
def test_generate_handler_returns_images_and_timing():
    images, info, seed = gen.generate(3, 2, "DDIM", 4, 0.5, TEACHER)
    assert seed == 3 and len(images) == 2
    assert all(isinstance(im, np.ndarray) and im.shape == (64, 64, 3) and im.dtype == np.uint8 for im in images)
    assert "seeds 3–4" in info and "4 network evaluations" in info and "eta 0.5" in info
    again, _, _ = gen.generate(4, 1, "DDIM", 4, 0.5, TEACHER)
    assert np.array_equal(again[0], images[1]), "image of seed 4 depends on its seed alone"
    _, _, random_seed = gen.generate(0, 1, "DDIM", 2, 0.0, randomize=True)  # the default student
    assert 0 <= random_seed <= inputs.MAX_SEED


@needs_default
def test_a_python_caller_naming_no_sampler_gets_the_checkpoints_own(tmp_path):
    """generate() and batch() with no sampler named sample as generate.py does: the default student at what it
    was made for, the teacher at DPM-Solver++ 20; not a setting the student refuses."""
    from demo import batch as bt

    own, info, _ = gen.generate(7, 2)
    named, _, _ = gen.generate(7, 2, "DDIM", 2, 0.0)
    assert "DDIM" in info and all(np.array_equal(a, b) for a, b in zip(own, named))
    _, info, _ = gen.generate(7, 1, checkpoint=TEACHER)
    assert "DPM-Solver++" in info and "20 network evaluations" in info
    _, _, preview = bt.batch(2, 7, out_dir=str(tmp_path / "b"))
    assert np.array_equal(preview[0], own[0])


@needs_default
def test_generate_shows_the_first_seeds_face_before_the_rest():
    """The tab's stream: seeds 5 and 6 first (the same faces as in the full batch), then all four with the
    summary; two images or fewer come in one piece."""
    parts = list(gen.generate_stream(5, 4, "DDIM", 3, 0.0, TEACHER))
    assert [len(images) for images, _, _ in parts] == [2, 4]
    assert "seeds 5–6 done" in parts[0][1] and "image(s), seeds" not in parts[0][1]
    assert all(np.array_equal(a, b) for a, b in zip(parts[0][0], parts[1][0][:2]))
    assert "4 image(s), seeds 5–8" in parts[1][1]
    assert [len(images) for images, _, _ in gen.generate_stream(5, 2, "DDIM", 3, 0.0, TEACHER)] == [2]


@needs_default
@pytest.mark.parametrize("args,match", [
    ((0, 1, "DDIM", 0, 0.0), "steps must be a whole number from 1 to 1000, got 0"),
    ((0, 1, "DDIM", 10**6, 0.0), "steps must be a whole number from 1 to 1000"),
    ((0, 1, "DDIM", 2.5, 0.0), "steps must be a whole number from 1 to 1000, got 2.5"),
    ((0, 1, "DDIM", 10, 2.0), "eta must be a number from 0 to 1, got 2.0"),
    ((0, 1, "DDIM", 10, float("nan")), "eta must be a number from 0 to 1, got nan"),
    ((0, 10**6, "DDIM", 10, 0.0), "number of images must be a whole number from 1 to 64"),
    ((-1, 1, "DDIM", 10, 0.0), "seed must be a whole number from 0 to"),
    ((float("inf"), 1, "DDIM", 10, 0.0), "seed must be a whole number from 0 to"),
    ((0, 1, "Euler", 10, 0.0), "sampler must be one of"),
])
def test_generate_handler_bad_inputs(args, match):
    with pytest.raises(ValueError, match=match):
        gen.generate(*args, checkpoint=TEACHER)


def test_unknown_checkpoint():
    with pytest.raises(ValueError, match="unknown checkpoint"):
        gen.generate(0, 1, "DDIM", 10, 0.0, checkpoint="nope")


def test_app_wraps_errors_as_gr_error():
    import gradio as gr

    from app import as_gr_error, build

    with pytest.raises(gr.Error, match="number of images"):
        as_gr_error(gen.generate)(0, 0, "DDIM", 10, 0.0)
    named = {fn.api_name for fn in build()[0].fns.values() if fn.api_visibility == "public"}
    assert named == {"generate", "forward", "denoise", "compare", "interpolate", "detect", "batch", "versus",
                     "playground"}
