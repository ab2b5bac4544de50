"""The layout's promises: the diffusion core stands alone, every tab samples through lab.pipeline, one
registry loads each model once, and one paths module owns the locations."""
import ast
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import torch

from helpers import TINY, random_unet
from lab import pipeline
from lab.checkpoint import save_checkpoint, save_stylegan_checkpoint
from lab.registry import Registry

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def test_the_diffusion_core_imports_nothing_but_torch():
    code = ("import sys, diffusion, diffusion.noise, diffusion.samplers, diffusion.schedules, diffusion.unet\n"
            "heavy = ('gradio', 'ultralytics', 'cv2', 'matplotlib', 'accelerate', 'gan', 'evaluation', 'training',"
            " 'lab', 'demo', 'PIL')\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def _imports(path: str) -> set[str]:
    with open(path) as f:
        tree = ast.parse(f.read())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


# The layers, bottom to top; a package imports only those listed for it (README, "Architecture"): the core
# (diffusion, gan) stands alone, lab loads and samples, training and evaluation build on lab, demo on both.
LAYERS = {"diffusion": set(), "gan": {"diffusion"}, "lab": {"diffusion", "gan"},
          "training": {"lab", "diffusion", "gan"}, "evaluation": {"lab", "diffusion", "gan"},
          "demo": {"lab", "evaluation"}}


def test_arrows_run_one_way():
    wrong = []
    for package, allowed in LAYERS.items():
        for name in sorted(os.listdir(os.path.join(ROOT, package))):
            if name.endswith(".py"):
                for module in _imports(os.path.join(ROOT, package, name)):
                    top = module.split(".")[0]
                    if top in LAYERS and top != package and top not in allowed:
                        wrong.append(f"{package}/{name} imports {module}")
    assert not wrong, wrong


def test_no_sys_path_edits():
    edits = []
    for folder in ("bench", "scripts", "tests", "diffusion", "gan", "lab", "evaluation", "training", "demo", "."):
        for name in os.listdir(os.path.join(ROOT, folder)):
            if name.endswith(".py"):
                with open(os.path.join(ROOT, folder, name)) as f:
                    source = f.read()
                if "sys.path" + ".insert" in source or "sys.path" + ".append" in source:
                    edits.append(f"{folder}/{name}")
    assert not edits, edits


def test_tabs_sample_through_the_pipeline_only():
    """No tab makes noise, samplers or GAN latents itself, and none imports the core or the GAN directly."""
    for name in sorted(os.listdir(os.path.join(ROOT, "demo"))):
        if not name.endswith(".py"):
            continue
        path = os.path.join(ROOT, "demo", name)
        direct = {m for m in _imports(path) if m.split(".")[0] in ("diffusion", "gan", "torch")}
        assert not direct, f"demo/{name} imports {sorted(direct)}: go through lab.pipeline"
        with open(path) as f:
            source = f.read()
        for call in ("seeded_noise(", "make_sampler(", "randn(", "slerp(", "ddim(", "dpm_solver("):
            assert call not in source, f"demo/{name} calls {call}: sampling belongs to lab.pipeline"


def test_source_files_stay_readable():
    long = []
    for folder in ("diffusion", "gan", "evaluation", "training", "lab", "demo", "."):
        for name in os.listdir(os.path.join(ROOT, folder)):
            if name.endswith(".py"):
                with open(os.path.join(ROOT, folder, name)) as f:
                    n = sum(1 for _ in f)
                if n > 420:
                    long.append(f"{folder}/{name}: {n} lines")
    assert not long, long


@pytest.fixture
def folder(tmp_path):
    from gan.stylegan import Generator, StyleGANConfig

    torch.manual_seed(0)
    save_checkpoint(str(tmp_path / "tiny"), random_unet(std=0.05), TINY, "cosine", 100, "v")
    cfg = StyleGANConfig(image_size=16, z_dim=8, w_dim=8, mapping_layers=1, channels=8, min_channels=8, d_channels=8)
    save_stylegan_checkpoint(str(tmp_path / "gan"), Generator(cfg).eval(), cfg)
    (tmp_path / "not-a-checkpoint").mkdir()
    return tmp_path


def test_registry_lists_kinds_and_loads_each_model_once_under_concurrency(folder, monkeypatch):
    import lab.registry as reg

    calls = []
    real_load = reg.load_checkpoint

    def slow_load(path, *a, **k):
        calls.append(path)
        time.sleep(0.2)  # long enough for every thread to ask while the first is still loading
        return real_load(path, *a, **k)

    monkeypatch.setattr(reg, "load_checkpoint", slow_load)
    registry = Registry(str(folder), default="tiny")
    assert registry.names() == ["tiny", "gan"] and registry.names("stylegan") == ["gan"]
    got = []
    threads = [threading.Thread(target=lambda: got.append(registry.model("tiny"))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and len(got) == 4 and all(m is got[0] for m in got)
    with pytest.raises(ValueError, match="unknown checkpoint 'nope'; available: tiny, gan"):
        registry.model("nope")
    with pytest.raises(ValueError, match="gan is a StyleGAN"):
        registry.diffusion("gan", "denoising")


def test_one_path_from_seeds_to_images(folder):
    registry = Registry(str(folder), default="tiny")
    model = registry.model("tiny")
    # the live stream ends at the image the batch path gives; each image depends on its seed alone
    run = pipeline.stream(model, "ddim", 4, 0.5, seeds=[3, 4])
    steps = list(run)
    assert len(steps) == 4 and steps[-1].nfe == 4 and run.x_T.shape == (2, 3, 16, 16)
    batch = pipeline.sample_images(model, [3, 4], "ddim", 4, 0.5)
    assert np.array_equal(pipeline.to_uint8(steps[-1].x), batch)
    assert np.array_equal(pipeline.sample_images(model, [4], "ddim", 4, 0.5)[0], batch[1])
    assert pipeline.network_evaluations(model, "ddpm", None) == 100
    assert pipeline.network_evaluations(registry.model("gan"), "ddim", 20) == 1
    with pytest.raises(ValueError, match="needs a deterministic sampler"):
        pipeline.stream(model, "ddim", 4, 0.5, x_T=run.x_T)
    with pytest.raises(ValueError, match="steps must be a whole number from 1 to 100, got 2.5"):
        pipeline.sample_images(model, [0], "ddim", 2.5)
    # interpolation: the slerp strip starts and ends at the seeds' own deterministic DDIM images
    strip, line = pipeline.interpolation(model, 3, 4, 3, steps=4)
    ends = pipeline.sample_images(model, [3, 4], "ddim", 4, 0.0)
    assert np.array_equal(strip[0], ends[0]) and np.array_equal(strip[-1], ends[1])
    assert np.array_equal(line[0], ends[0])
    gan_w, gan_z = pipeline.interpolation(registry.model("gan"), 3, 4, 3)
    assert gan_w.shape == gan_z.shape == (3, 16, 16, 3)


def test_paths_are_anchored_at_the_repo_and_follow_the_environment(tmp_path):
    code = "from lab import paths; print(paths.CHECKPOINTS); print(paths.FACES); print(paths.LBPCASCADE)"
    env = {**os.environ, "ANIME_LAB_CHECKPOINTS": str(tmp_path / "ck"), "ANIME_FACES_DIR": str(tmp_path / "faces")}
    env.pop("LBPCASCADE_PATH", None)
    out = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env={**env, "PYTHONPATH": ROOT},
                         capture_output=True, text=True, timeout=60)
    ck, faces, cascade = out.stdout.split()
    assert ck == str(tmp_path / "ck") and faces == str(tmp_path / "faces")
    assert os.path.isabs(cascade)
    out = subprocess.run([sys.executable, "-c", code], cwd=str(tmp_path), env={**os.environ, "PYTHONPATH": ROOT,
                         "ANIME_LAB_CHECKPOINTS": ""}, capture_output=True, text=True, timeout=60)
    assert out.stdout.split()[0] == os.path.join(ROOT, "checkpoints")  # not relative to the working directory


def test_no_caller_asks_which_kind_of_model_it_holds():
    """Models answer one interface (lab.models); only the loader, which builds them, looks at the config's kind."""
    found = []
    for folder in ("lab", "demo", "evaluation", "training", "bench", "scripts", "."):
        for name in sorted(os.listdir(os.path.join(ROOT, folder))):
            if not name.endswith(".py") or f"{folder}/{name}" in ("lab/models.py", "lab/checkpoint.py"):
                continue
            with open(os.path.join(ROOT, folder, name)) as f:
                source = f.read()
            for needle in ("isinstance(model, Loaded", "isinstance(loaded, Loaded", ".kind == \"", "kind == \"stylegan",
                           "kind == \"diffusion"):
                if needle in source:
                    found.append(f"{folder}/{name}: {needle}")
    assert not found, found


def test_a_distilled_student_takes_what_it_was_made_for_and_names_it(tmp_path):
    save_checkpoint(str(tmp_path / "student"), random_unet(std=0.05), TINY, "cosine", 100, "v", extra={
        "distillation": {"method": "ect"}, "sampler": {"name": "ddim", "steps": 2, "eta": 1.0, "allowed_steps": [1, 2]}})
    registry = Registry(str(tmp_path), default="student")
    student = registry.model("student")
    assert student.kind == "student" and student.has_steps
    settings = student.check("ddim", 1, 0.0)
    assert (settings.steps, settings.eta) == (1, 1.0)  # its own eta, whatever the request's
    assert student.check("ddim", None).steps == 2
    with pytest.raises(ValueError, match=r"this distilled student takes DDIM at 1 or 2 steps only, not DPM-Solver\+\+"):
        student.check("dpm-solver", 2)
    with pytest.raises(ValueError, match="takes DDIM at 1 or 2 steps only, not 4 steps"):
        pipeline.sample_images(student, [0], "ddim", 4)
    one = pipeline.sample_images(student, [3, 4], "ddim", 2)
    assert one.shape == (2, 16, 16, 3) and np.array_equal(pipeline.sample_images(student, [4], "ddim", 2)[0], one[1])
    assert pipeline.network_evaluations(student, "ddim", 1) == 1
    assert "distilled student" in student.how(settings)[0] and student.label(settings) == "DDIM 1"
    strip, _ = pipeline.interpolation(student, 3, 4, 3, steps=20)  # re-noising student: its one deterministic step
    assert np.array_equal(strip[0], pipeline.sample_images(student, [3], "ddim", 1)[0])
