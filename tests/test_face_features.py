"""FFD (evaluation/face_features.py): the Fréchet distance in our own face encoder's features, its shipped
statistics, and the encoder's training script."""
import json

import numpy as np
import pytest
import torch

from evaluation.face_features import (EncoderConfig, FaceEncoder, features, ffd, ffd_between, load_face_features,
                                      save_encoder, save_statistics)
from helpers import bench_script

TINY = EncoderConfig(width=8, feature_dim=16, projection_dim=8)


def faces(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    base = rng.integers(40, 215, (n, 8, 8, 3)).astype(np.float32)
    big = base.repeat(8, axis=1).repeat(8, axis=2)
    return np.clip(big + rng.normal(0, 12, big.shape), 0, 255).astype(np.uint8)


def tiny_encoder(tmp_path, real: np.ndarray) -> str:
    torch.manual_seed(0)
    encoder = FaceEncoder(TINY)
    path = str(tmp_path / "enc")
    save_encoder(path, encoder, {"steps": 0})
    save_statistics(path, features(real, encoder))
    return path


def test_the_distance_is_zero_for_the_real_set_itself_and_grows_with_a_visible_change(tmp_path):
    real = faces(120, 0)
    model = load_face_features(tiny_encoder(tmp_path, real))
    assert model.n_real == 120 and model.mu.shape == (16,) and model.sigma.shape == (16, 16)
    assert abs(ffd(real, model)) < 1e-6
    other = faces(120, 1)  # another sample of the same kind
    brighter = np.clip(other.astype(int) + 60, 0, 255).astype(np.uint8)
    same_kind, shifted = ffd(other, model), ffd(brighter, model)
    assert 0 < same_kind < shifted, (same_kind, shifted)
    assert abs(ffd_between(other, other, model.encoder)) < 1e-6
    assert ffd_between(other, brighter, model.encoder) == pytest.approx(ffd_between(brighter, other, model.encoder))
    # any size is brought to 64 px first, as the two-sample test does
    big = np.stack([np.asarray(__import__("PIL.Image").Image.fromarray(x).resize((96, 96))) for x in real[:4]])
    assert features(big, model.encoder).shape == (4, 16)
    with pytest.raises(ValueError, match="at least two images, got 1"):
        ffd(real[:1], model)


def test_a_missing_or_damaged_encoder_is_one_sentence(tmp_path):
    with pytest.raises(ValueError, match=r"lacks config.json, model.safetensors, heldout_stats.safetensors: train it"):
        load_face_features(str(tmp_path / "none"))
    path = tiny_encoder(tmp_path, faces(10, 0))
    (tmp_path / "enc" / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(ValueError, match="could not be loaded"):
        load_face_features(path)


def test_evaluate_reports_ffd_beside_fid(tmp_path, capsys):
    from PIL import Image

    import evaluate

    gen = tmp_path / "gen"
    gen.mkdir()
    for k, img in enumerate(faces(12, 3)):
        Image.fromarray(img).save(gen / f"{k + 1}.jpg")
    enc = tiny_encoder(tmp_path, faces(40, 0))
    assert evaluate.main(["--generated", str(gen), "--real", "", "--detector", "lbpcascade", "--face-encoder", enc,
                          "--json", str(tmp_path / "r.json")]) == 0
    assert "| FFD | FID |" in capsys.readouterr().out
    assert json.loads((tmp_path / "r.json").read_text())["ffd"] > 0
    assert evaluate.main(["--generated", str(gen), "--real", "", "--detector", "lbpcascade",
                          "--face-encoder", str(tmp_path / "none")]) == 0
    assert "FFD: n/a — The face encoder at" in capsys.readouterr().out


def test_the_encoder_trains_resumes_and_ships_statistics_of_the_heldout_faces(tmp_path):
    from PIL import Image

    from lab.data import is_heldout

    train_encoder = bench_script("train_encoder")
    data = tmp_path / "faces"
    data.mkdir()
    names = [f"{i}.jpg" for i in range(300) if is_heldout(f"{i}.jpg")][:6] + [f"{i}.jpg" for i in range(40)]
    for name, img in zip(sorted(set(names)), faces(len(set(names)), 5)):
        Image.fromarray(img).save(data / name)
    out = str(tmp_path / "enc")
    flags = ["--out", out, "--data", str(data), "--batch-size", "8", "--width", "8", "--feature-dim", "16",
             "--no-progress", "--threads", "1", "--save-every", "2"]
    assert train_encoder.main(flags + ["--steps", "2"]) == 0  # finishes: ships weights + statistics
    model = load_face_features(out)
    assert model.n_real == 6 and model.config["steps"] == 2
    assert "training split" in model.config["trained_on"]
    # a run stopped early and resumed ends where one straight run ends
    straight, split = str(tmp_path / "a"), str(tmp_path / "b")
    train_encoder.main(["--out", straight, *flags[2:], "--steps", "4"])
    import signal

    calls = {"n": 0}
    original = train_encoder.nt_xent

    def stop_after_two(*a):
        calls["n"] += 1
        if calls["n"] == 2:
            signal.raise_signal(signal.SIGTERM)
        return original(*a)

    train_encoder.nt_xent = stop_after_two
    try:
        train_encoder.main(["--out", split, *flags[2:], "--steps", "4"])
    finally:
        train_encoder.nt_xent = original
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
    assert not (tmp_path / "b" / "model.safetensors").exists()  # stopped at step 2: nothing shipped yet
    train_encoder.main(["--out", split, *flags[2:], "--steps", "4", "--resume"])
    a, b = load_face_features(straight), load_face_features(split)
    for (k, va), vb in zip(a.encoder.state_dict().items(), b.encoder.state_dict().values()):
        assert torch.allclose(va, vb, atol=1e-5), k


def test_views_blur_by_each_images_own_sigma():
    train_encoder = bench_script("train_encoder")
    x = torch.rand(3, 3, 16, 16)
    out = train_encoder.blur_each(x, torch.tensor([0.0, 1.0, 2.0]))
    assert torch.allclose(out[0], x[0], atol=1e-5)
    assert out[1].std() < x[1].std() and out[2].std() < out[1].std()
    z = torch.randn(6, 8)
    assert train_encoder.nt_xent(z, z + 0.01) < train_encoder.nt_xent(z, torch.randn(6, 8))
