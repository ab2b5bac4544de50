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
    grid, table = last(versus.versus_stream(2, 0, 3, False, "student", "tiny"))
    assert "| DDIM 3 |" in table and "| student, DDIM 2 |" in table and "(DDPM and DDIM: its teacher tiny)" in table
    assert grid.shape[0] == 3 * (16 * 2 + 4)  # a row each: the teacher's DDIM, the student, the GAN column's model


def test_denoising_shows_a_students_teacher_unless_asked_for_what_the_student_takes(student_registry):
    """Denoising teaches with the many steps: a student asked for a setting it was not made for shows its teacher's
    run (and says so); asked for its own, its own; with no teacher here, the student's refusal."""
    from demo import denoise
    from lab.pipeline import sample_images

    frames = []
    *_, (_, status) = denoise.denoise_stream(4, 2, "DDIM", 3, 0.0, "student", frames=frames)
    assert status.startswith("step 3/3") and "its teacher tiny's" in status and "DDIM 2 steps" in status
    assert np.array_equal(frames[-1][1], sample_images(student_registry.model("tiny"), [4, 5], "ddim", 3))
    frames = []
    *_, (_, status) = denoise.denoise_stream(4, 2, "DDIM", 2, 0.0, "student", frames=frames)
    assert status.startswith("step 2/2") and "teacher" not in status
    assert np.array_equal(frames[-1][1], sample_images(student_registry.model("student"), [4, 5], "ddim", 2))
    student_registry.model("student").config["distillation"]["teacher"] = "gone"
    with pytest.raises(ValueError, match="takes DDIM at 2 steps only, not 3 steps"):
        list(denoise.denoise_stream(4, 2, "DDIM", 3, 0.0, "student"))


def test_what_a_student_was_not_made_for_is_refused_in_one_sentence(student_registry):
    from demo import compare, generate

    with pytest.raises(ValueError, match=r"^this distilled student takes DDIM at 2 steps only, not DPM-Solver\+\+$"):
        generate.generate(0, 2, "DPM-Solver++", 20, 0.0, "student")
    student_registry.model("student").config["distillation"]["teacher"] = "gone"  # no teacher here: alone
    with pytest.raises(ValueError, match="takes DDIM at 2 steps only, not 4 steps"):
        compare.compare(0, "2,4", "0", False, "student")


def test_compare_shows_a_student_beside_its_teacher(student_registry, tmp_path):
    """Picking a student: its teacher's steps × eta grid, the student's face from the same x_T at the end of the
    eta 0 row, its seconds in the table and the plot, a note in the visitor's language, the teacher's quality plot."""
    from demo import compare
    from demo.messages import speaking
    from lab.pipeline import sample_images

    canvas, table, plot, quality = compare.compare(3, "2,4", "0,1", False, "student", out_dir=str(tmp_path))
    header, _, eta0, eta1 = table.split("\n\n")[0].splitlines()
    assert header.endswith("| 2 | 4 | student, 2 step(s) |")
    assert eta0.count(" s |") == 3 and eta1.count(" s |") == 2  # the student's cell: the eta 0 row only
    assert "distilled student of **tiny**" in table and quality is None  # the teacher has no report here
    face = sample_images(student_registry.model("student"), [3], "ddim", 2)[0]
    cell = canvas[compare.GRID_TOP:compare.GRID_TOP + 16 * compare.GRID_SCALE:compare.GRID_SCALE,
                  compare.GRID_LEFT + 2 * (16 * compare.GRID_SCALE + compare.GRID_PAD):][:, :16 * compare.GRID_SCALE
                                                                                       :compare.GRID_SCALE]
    assert np.array_equal(cell, face)  # third column, eta 0 row: the student's face for seed 3
    with speaking("zh-TW,zh"):
        zh = compare.compare(3, "2", "0", False, "student", out_dir=str(tmp_path / "zh"))[1]
    assert "蒸餾學生模型" in zh and "學生模型 2 步" in zh


def test_compare_shows_a_student_its_teachers_quality_plot_in_the_visitors_language(student_registry):
    import os

    from demo import compare
    from demo.messages import speaking
    from lab import paths

    folder = os.path.join(student_registry.folder, "tiny", paths.EVAL)
    os.makedirs(folder)
    for name in (paths.QUALITY_VS_STEPS, paths.QUALITY_VS_STEPS_ZH):
        open(os.path.join(student_registry.folder, "tiny", name), "wb").close()
    assert compare.quality_plot("student").endswith(os.path.join("tiny", paths.QUALITY_VS_STEPS))
    with speaking("zh-TW,zh"):
        assert compare.quality_plot("student").endswith("quality_vs_steps.zh-TW.png")
    assert compare.teacher_of("tiny") is None


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
    assert len(followers) == 2  # Generate, Batch (Denoising shows a student's teacher: it stays)
    for d in followers:
        (picker,), outputs = d["inputs"][:1], [blocks.blocks[o] for o in d["outputs"]]
        assert blocks.blocks[picker].elem_id == "checkpoint" and d["inputs"][1:] == d["outputs"]
        assert [type(c) for c in outputs[:1]] == [gr.Radio] and all(isinstance(c, (gr.Slider, gr.Number))
                                                                    for c in outputs[1:])


def test_a_student_as_the_default_checkpoint_sets_every_tabs_defaults(student_registry, monkeypatch):
    """Once a student is the default, the app builds, each sampling tab starts on what the student takes, the first
    view and the expected-time lines say what was run, and no example it would refuse is shown; the teacher's
    teaching defaults come back when the teacher is the default."""
    import app
    from demo import batch, denoise, generate
    from demo.common import default_setting, takes

    monkeypatch.setattr(student_registry, "default", "student")
    for tab in (generate.TAB, batch.TAB):
        d = tab.defaults()
        assert (d["sampler"], d["steps"], d["eta"]) == ("DDIM", 2, 0.0)
    d = denoise.TAB.defaults()  # Denoising teaches with the many steps, which the student's teacher runs
    assert (d["sampler"], d["steps"], d["eta"]) == ("DDIM", 50, 0.0) and "DDIM 50" in denoise._expected(lambda *a: "")[0]
    assert generate.first_view() == dict(seed=0, num_images=8, sampler="DDIM", steps=2, eta=0.0)
    assert "DDIM 2" in generate._expected(lambda *a: "")[0] and "DDIM 2" in batch._expected(lambda *a: "")[1]
    assert not takes("student", {"sampler": "DDIM", "steps": 20, "eta": 0.0}) and takes("tiny", {"sampler": "DDIM",
                                                                                                "steps": 20})
    blocks, _ = app.build()
    from demo.i18n import I18N

    english = I18N.translations["en"]
    info = next(b for b in blocks.blocks.values() if getattr(b, "elem_id", None) == "gen-info")
    caption = next(text for key, text in english.items() if key in str(info.value))
    assert caption == "Seeds 0–7, DDIM 2 steps: press Generate for your own."
    examples = [b for b in blocks.blocks.values() if type(b).__name__ == "Dataset"]
    labels = str([getattr(e, "sample_labels", None) for e in examples])
    assert not any(f"'{label}'" in labels for label in ("seed 7 · DDIM 20", "seed 42 · DPM-Solver++ 20",
                                                        "16 faces · DPM-Solver++ 10"))  # the student refuses them
    assert "'seed 1 · DDIM 20'" in labels  # Denoising's: the student's teacher runs it
    assert "'seed 2026 · DDIM 2'" in labels and "'1000 faces for HW6 · DDIM 2'" in labels  # what the student takes
    monkeypatch.setattr(student_registry, "default", "tiny")
    assert default_setting("DPM-Solver++", 10, 0.0) == ("DPM-Solver++", 10, 0.0)
    assert generate.TAB.defaults()["steps"] == 10
