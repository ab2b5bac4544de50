"""A distilled student behind every surface: the tabs sample it as it was made, a seed gives the same face in
each, what it was not made for is refused in one sentence, and picking it in the shared picker moves a tab's
sampler and steps to what it takes."""
import zipfile

import numpy as np
import pytest
import torch
from helpers import TINY, random_unet

from lab.checkpoint import save_checkpoint


@pytest.fixture()
def student_registry(tmp_path, monkeypatch):
    from lab.registry import REGISTRY

    torch.manual_seed(0)
    save_checkpoint(str(tmp_path / "ck" / "tiny"), random_unet(std=0.05), TINY, "cosine", 100, "v")
    save_checkpoint(str(tmp_path / "ck" / "student"), random_unet(std=0.05, seed=1), TINY, "cosine", 100, "v", extra={
        "distillation": {"method": "progressive", "teacher": "tiny"},
        "sampler": {"name": "ddim", "steps": 2, "eta": 0.0}})
    monkeypatch.setattr(REGISTRY, "folder", str(tmp_path / "ck"))
    monkeypatch.setattr(REGISTRY, "_models", {})
    monkeypatch.setattr(REGISTRY, "default", "tiny")  # the teacher stays the default until a student earns it
    return REGISTRY


def test_every_tab_samples_a_student_and_a_seed_is_the_same_face(student_registry, tmp_path):
    from demo import batch, denoise, generate, interpolate, versus
    from demo.common import last
    from lab.pipeline import sample_images

    faces = sample_images(student_registry.model("student"), [0, 1, 2], "ddim", 2)
    images, summary, _ = generate.generate(0, 3, "DDIM", 2, 0.0, "student")
    assert "distilled student" in summary and "DDIM 2" in summary
    assert all(np.array_equal(np.asarray(a), b) for a, b in zip(images, faces))
    path, _, _ = batch.batch(3, 0, "DDIM", 2, 0.0, "student")
    with zipfile.ZipFile(path) as z:
        assert sorted(z.namelist()) == ["1.jpg", "2.jpg", "3.jpg"]
    strip, _, _ = interpolate.interpolate(0, 1, 3, 20, "student")
    assert strip.shape[0] > 0
    status = last(denoise.denoise(0, 2, "DDIM", 2, 0.0, "student"))[1]
    assert "2/2" in status and "done" in status
    table = last(versus.versus_stream(2, 0, 2, False, "student", "tiny"))[1]
    assert "DDIM 2" in table


def test_what_a_student_was_not_made_for_is_refused_in_one_sentence(student_registry):
    from demo import compare, generate

    with pytest.raises(ValueError, match=r"^this distilled student takes DDIM at 2 steps only, not DPM-Solver\+\+$"):
        generate.generate(0, 2, "DPM-Solver++", 20, 0.0, "student")
    with pytest.raises(ValueError, match="takes DDIM at 2 steps only, not 4 steps"):
        compare.compare(0, "2,4", "0", False, "student")


def test_the_picker_moves_a_tab_to_what_the_checkpoint_takes(student_registry):
    from demo.common import follow_checkpoint

    assert follow_checkpoint("student", "DPM-Solver++", 20, 0.5) == ("DDIM", 2, 0.0)  # refused: what it takes
    assert follow_checkpoint("student", "DDIM", 2, 0.0) == ("DDIM", 2, 0.0)
    assert follow_checkpoint("tiny", "DDIM", 2, 0.0) == ("DDIM", 2, 0.0)  # the teacher takes it: unchanged
    assert follow_checkpoint("tiny", "DPM-Solver++", 20, 0.0) == ("DPM-Solver++", 20, 0.0)
    assert follow_checkpoint("no such", "DDPM", 7, 1.0) == ("DDPM", 7, 1.0)  # the run itself says what is wrong


def test_the_app_wires_the_picker_to_every_tab_with_a_sampler(student_registry):
    import gradio as gr

    import app

    blocks, _ = app.build()
    followers = [d for d in blocks.config["dependencies"]
                 if any(t[1] == "change" for t in d.get("targets", [])) and len(d["outputs"]) == 3]
    assert len(followers) == 3  # Generate, Batch, Denoising
    for d in followers:
        (picker,), outputs = d["inputs"][:1], [blocks.blocks[o] for o in d["outputs"]]
        assert blocks.blocks[picker].elem_id == "checkpoint" and d["inputs"][1:] == d["outputs"]
        assert [type(c) for c in outputs[:1]] == [gr.Radio] and all(isinstance(c, (gr.Slider, gr.Number))
                                                                    for c in outputs[1:])
