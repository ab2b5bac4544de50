"""FID through pytorch-fid with a stand-in Inception (same architecture, random weights), AFD as HW6
scores it, evaluate.py and its report command."""
import io
import json
import os
import urllib.error

import numpy as np
import pytest
from PIL import Image

import evaluate
from evaluation import fid as fidlib
from lab import paths
from helpers import TINY, random_inception, random_unet

FACES = paths.FACES
needs_data = pytest.mark.skipif(not os.path.isdir(FACES), reason="../shared/data is not beside the repo")


@pytest.fixture(scope="module")
def stand_in():
    return random_inception(seed=0)


@pytest.fixture(scope="module")
def faces():
    from lab.data import load_images

    return list(load_images(FACES, 64, limit=16, log=None).permute(0, 2, 3, 1).numpy())


@needs_data
def test_fid_properties(stand_in, faces):
    a, b = faces[:8], faces[8:]
    shifted = [np.clip(x.astype(int) + 70, 0, 255).astype(np.uint8) for x in b]
    sa, sb, ss = (fidlib.statistics(fidlib.features(s, stand_in, batch_size=8)) for s in (a, b, shifted))
    same = fidlib.frechet_distance(*sa, *sa)
    ab, ba = fidlib.frechet_distance(*sa, *sb), fidlib.frechet_distance(*sb, *sa)
    a_shifted = fidlib.frechet_distance(*sa, *ss)
    assert abs(same) < 1e-3 * ab  # sqrtm of a singular product (8 images, 2048 dims) is accurate to ~1e-5
    assert ab == pytest.approx(ba, rel=1e-6)
    assert a_shifted > 2 * ab > 0


@needs_data
def test_frechet_distance_matches_pytorch_fid():
    from pytorch_fid.fid_score import calculate_frechet_distance

    rng = np.random.default_rng(0)
    for dims, n in ((16, 200), (64, 40)):  # full-rank and rank-deficient covariances
        x, y = rng.normal(size=(n, dims)), rng.normal(0.3, 1.5, size=(n, dims)) @ rng.normal(size=(dims, dims))
        sx, sy = fidlib.statistics(x), fidlib.statistics(y)
        assert fidlib.frechet_distance(*sx, *sy) == pytest.approx(calculate_frechet_distance(*sx, *sy), rel=1e-6)
    with pytest.raises(ValueError, match="statistics do not match"):
        fidlib.frechet_distance(np.zeros(3), np.eye(3), np.zeros(4), np.eye(4))


@needs_data
def test_real_statistics_cached_by_file_list(stand_in, faces, tmp_path, monkeypatch):
    real = tmp_path / "real"
    real.mkdir()
    for i, f in enumerate(faces[:3]):
        Image.fromarray(f).save(real / f"{i}.png")
    cache = tmp_path / "cache"
    mu, sigma = fidlib.real_statistics(str(real), stand_in, str(cache))
    assert mu.shape == (2048,) and sigma.shape == (2048, 2048) and len(os.listdir(cache)) == 1
    monkeypatch.setattr(fidlib, "features", lambda *a, **k: pytest.fail("recomputed despite the cache"))
    mu2, _ = fidlib.real_statistics(str(real), stand_in, str(cache))
    np.testing.assert_array_equal(mu, mu2)
    monkeypatch.undo()
    Image.fromarray(faces[3]).save(real / "3.png")  # a changed file list is a new entry
    fidlib.real_statistics(str(real), stand_in, str(cache))
    assert len(os.listdir(cache)) == 2
    other = random_inception(seed=1)  # another network, another entry
    fidlib.real_statistics(str(real), other, str(cache))
    assert len(os.listdir(cache)) == 3


def test_missing_inception_weights_say_which_file_and_where(tmp_path, monkeypatch):
    from pytorch_fid import inception as fi

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(fi, "load_state_dict_from_url", offline)
    with pytest.raises(FileNotFoundError, match=r"pt_inception-2015-12-05-6726825d\.pth.*put the file at .*"
                                                r"torch/hub/checkpoints/pt_inception-2015-12-05-6726825d\.pth"):
        fidlib.inception()
    with pytest.raises(FileNotFoundError, match="No Inception weights at /nope.pth"):
        fidlib.inception("/nope.pth")


def test_weights_file_is_loaded_without_unpickling_code(stand_in, tmp_path):
    import torch

    path = tmp_path / fidlib.WEIGHTS_NAME
    inner = stand_in.blocks  # pytorch-fid's file holds the torchvision-style Inception state dict; rebuild it
    from pytorch_fid import inception as fi
    from unittest import mock
    import torchvision

    captured = {}
    with mock.patch.object(fi, "load_state_dict_from_url", return_value=None), \
            mock.patch.object(torchvision.models.Inception3, "load_state_dict",
                              lambda self, *a, **k: captured.setdefault("net", self)):
        fi.fid_inception_v3()
    torch.save(captured["net"].state_dict(), path)
    net = fidlib.inception(str(path))
    assert net.fid_model_id == fidlib.WEIGHTS_ID
    for p, q in zip(net.blocks[0].parameters(), captured["net"].Conv2d_1a_3x3.parameters()):
        torch.testing.assert_close(p, q)
    assert inner is not None


class _RunsCode:
    """A pickle payload that, when unpickled, writes a marker file: what a hostile .pth could do."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_weights_file_carrying_code_is_refused_unrun(tmp_path):
    import pickle

    marker, path = tmp_path / "ran", tmp_path / fidlib.WEIGHTS_NAME
    with open(path, "wb") as f:
        pickle.dump({"Conv2d_1a_3x3.conv.weight": _RunsCode(str(marker))}, f)
    with pytest.raises(Exception) as err:
        fidlib.inception(str(path))
    assert "weights_only" in str(err.value) or "Unsupported global" in str(err.value)
    assert not marker.exists(), "loading the weights ran code from the file"


def test_afd_scores_known_answers():
    found = [True, True, False, True, False]
    labels = [True, False, False, True, True]
    s = evaluate.afd_scores(found, labels)
    assert s["afd"] == pytest.approx(0.6) and s["accuracy"] == pytest.approx(0.6)
    assert s["recall"] == pytest.approx(2 / 3) and s["precision"] == pytest.approx(2 / 3)
    assert (s["tp"], s["fp"], s["fn"], s["tn"]) == (2, 1, 1, 1)
    with pytest.raises(ValueError, match="3 labels for 5 images"):
        evaluate.afd_scores(found, labels[:3])
    with pytest.raises(ValueError, match="at least one image"):
        evaluate.afd_scores([])


@needs_data
def test_evaluate_cli_with_labels_and_offline_fid(faces, tmp_path, monkeypatch, capsys):
    from pytorch_fid import inception as fi

    gen = tmp_path / "gen"
    gen.mkdir()
    for i, f in enumerate(faces[:3]):
        Image.fromarray(f).save(gen / f"{i + 1}.jpg")
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64, 3), dtype=np.uint8)).save(gen / "4.jpg")
    (tmp_path / "labels.csv").write_text("1.jpg,1\n2.jpg,1\n3.jpg,1\n4.jpg,0\n")
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setattr(fi, "load_state_dict_from_url", lambda *a, **k: (_ for _ in ()).throw(urllib.error.URLError("x")))
    out = tmp_path / "scores.json"
    rc = evaluate.main(["--generated", str(gen), "--detector", "lbpcascade", "--labels", str(tmp_path / "labels.csv"),
                        "--real", str(gen), "--json", str(out)])
    assert rc == 0
    result = json.loads(out.read_text())
    afd = result["afd"]["lbpcascade_animeface (OpenCV)"]
    assert afd["n"] == 4 and afd["accuracy"] == 1.0 and afd["precision"] == 1.0 and afd["afd"] == 0.75
    assert result["fid"] is None and "pt_inception-2015-12-05-6726825d.pth" in result["fid_missing"]
    assert "FID: n/a" in capsys.readouterr().out
    (tmp_path / "bad.csv").write_text("1.jpg,1\n")
    assert evaluate.main(["--generated", str(gen), "--labels", str(tmp_path / "bad.csv"), "--real", ""]) == 2
    assert "no 0/1 label for 3 image(s)" in capsys.readouterr().err
    assert evaluate.main(["--generated", str(tmp_path / "none"), "--real", ""]) == 2


@needs_data
def test_score_with_an_injected_inception(stand_in, faces, tmp_path):
    real = tmp_path / "real"
    real.mkdir()
    for i, f in enumerate(faces[:6]):
        Image.fromarray(f).save(real / f"{i}.png")
    same = evaluate.score(faces[:6], "lbpcascade", real=str(real), inception_model=stand_in)
    noise = [np.random.default_rng(i).integers(0, 256, (64, 64, 3), dtype=np.uint8) for i in range(6)]
    other = evaluate.score(noise, "lbpcascade", real=str(real), inception_model=stand_in)
    assert abs(same["fid"]) < 1e-3 * other["fid"]
    assert other["afd"]["lbpcascade_animeface (OpenCV)"]["afd"] == 0.0


def test_report_sweep_on_a_tiny_checkpoint(tmp_path):
    from lab.checkpoint import save_checkpoint

    ck = str(tmp_path / "tiny")
    save_checkpoint(ck, random_unet(std=0.05), TINY, "cosine", 100, "v")
    out = tmp_path / "report"
    assert evaluate.main(["report", "--checkpoint", ck, "--n", "3", "--out", str(out), "--sweep", "--real", "",
                          "--detector", "lbpcascade", "--no-progress"]) == 0
    rep = json.loads((out / "report.json").read_text())
    settings = [r["setting"] for r in rep["rows"]]
    assert settings[0] == "DPM-Solver++ 20" and "DDPM 1000" in settings and "DDIM 100, eta 1" in settings
    assert len(settings) == 13 and len(set(settings)) == 13 and "DDIM 2, eta 0" in settings  # a student's cost too
    assert all(r["seconds_per_image"] > 0 for r in rep["rows"])
    assert [r["nfe"] for r in rep["rows"] if r["sampler"] == "ddpm"] == [100]  # all T steps of this checkpoint
    assert sorted(os.listdir(out / "images" / "DDPM_1000")) == ["1.jpg", "2.jpg", "3.jpg"]
    assert (out / "quality_vs_steps.png").is_file() and "| DDIM 10, eta 0 |" in (out / "report.md").read_text()


def test_report_sweep_draws_each_student_at_its_steps_beside_the_teacher(tmp_path):
    """--students: every round's student sampled at the steps it takes, the same seeds as the teacher's settings,
    its rows named by its family (one dashed curve), and a student's image equals the pipeline's for that seed."""
    from lab.checkpoint import load_checkpoint, save_checkpoint
    from lab.pipeline import JPEG_QUALITY, sample_images

    teacher = str(tmp_path / "tiny")
    save_checkpoint(teacher, random_unet(std=0.05), TINY, "cosine", 100, "v")
    students = []
    for k, steps in enumerate((4, 2)):
        path = str(tmp_path / f"round-{k}")
        save_checkpoint(path, random_unet(std=0.05, seed=k + 1), TINY, "cosine", 100, "v", extra={
            "distillation": {"method": "progressive", "teacher": teacher},
            "sampler": {"name": "ddim", "steps": steps, "eta": 0.0}})
        students.append(path)
    out = tmp_path / "report"
    assert evaluate.main(["report", "--checkpoint", teacher, "--n", "2", "--out", str(out), "--sweep", "--real", "",
                          "--detector", "lbpcascade", "--no-progress", "--students", ",".join(students)]) == 0
    rows = json.loads((out / "report.json").read_text())["rows"]
    mine = [r for r in rows if r.get("student")]
    assert [(r["student"], r["nfe"]) for r in mine] == [("progressive of tiny", 4), ("progressive of tiny", 2)]
    assert len(rows) == 13 + 2 and {evaluate.curve_name(r) for r in mine} == {"progressive of tiny"}
    first = np.asarray(Image.open(out / "images" / "progressive_of_tiny_2" / "1.jpg"))
    buffer = io.BytesIO()  # image 1 is seed 0's, through the same JPEG encoder
    Image.fromarray(sample_images(load_checkpoint(students[1]), [0], "ddim", 2)[0]).save(
        buffer, "JPEG", quality=JPEG_QUALITY)
    assert np.array_equal(first, np.asarray(Image.open(buffer)))
    assert (out / "quality_vs_steps.png").is_file()
    assert "| progressive of tiny 2 |" in (out / "report.md").read_text()


def test_report_refuses_a_student_that_is_not_one(tmp_path, capsys):
    from lab.checkpoint import save_checkpoint

    ck = str(tmp_path / "tiny")
    save_checkpoint(ck, random_unet(std=0.05), TINY, "cosine", 100, "v")
    assert evaluate.main(["report", "--checkpoint", ck, "--n", "1", "--out", str(tmp_path / "r"), "--real", "",
                          "--students", ck, "--no-progress"]) == 2
    assert "not a distilled student" in capsys.readouterr().err


def test_quality_plot_in_chinese_where_a_cjk_font_is_here(tmp_path):
    from lab.fonts import cjk_font

    if not cjk_font():
        pytest.skip("no CJK font installed (packages.txt installs one)")
    rows = [{"setting": f"DDIM {s}, eta 0", "sampler": "ddim", "steps": s, "eta": 0.0, "nfe": s,
             "seconds_per_image": 0.01 * s, "ffd": 3.0 / s, "afd": {"lbp": {"afd": 0.9, "n": 2}}} for s in (2, 4)]
    rows.append({**rows[0], "student": "progressive of tiny", "ffd": 0.5})
    evaluate.plot(rows, str(tmp_path / "zh.png"), chinese=True)
    assert Image.open(tmp_path / "zh.png").size[0] > 1000


def test_report_samples_a_student_as_it_was_made_and_refuses_the_rest(tmp_path, capsys):
    from lab.checkpoint import save_checkpoint

    ck = str(tmp_path / "student")
    save_checkpoint(ck, random_unet(std=0.05), TINY, "cosine", 100, "v", extra={
        "distillation": {"method": "progressive", "teacher": "checkpoints/anime-64"},
        "sampler": {"name": "ddim", "steps": 2, "eta": 0.0, "allowed_steps": [1, 2]}})
    out = tmp_path / "r"
    assert evaluate.main(["report", "--checkpoint", ck, "--n", "2", "--out", str(out), "--real", "", "--sweep",
                          "--detector", "lbpcascade", "--no-progress"]) == 0
    rows = json.loads((out / "report.json").read_text())["rows"]
    assert [(r["setting"], r["nfe"]) for r in rows] == [("progressive of anime-64 2", 2), ("progressive of anime-64 1", 1)]
    assert evaluate.main(["report", "--checkpoint", ck, "--n", "2", "--out", str(tmp_path / "x"), "--real", "",
                          "--sampler", "dpm-solver", "--no-progress"]) == 2
    assert "takes DDIM at 1 or 2 steps only, not DPM-Solver++" in capsys.readouterr().err
