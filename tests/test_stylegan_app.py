"""The StyleGAN baseline beside the diffusion models: its checkpoint, generate.py --model stylegan, training
with train_gan.py (exact resume), and the app's tabs on a tiny StyleGAN checkpoint."""
import json
import os
import shutil

import numpy as np
import pytest
import torch

from demo import batch as bt
from demo import denoise as dn
from demo import generate as gen
from demo import interpolate as itp
from demo import versus as vs
from lab import paths
from lab.registry import REGISTRY
from lab.checkpoint import LoadedGAN, load_checkpoint, save_checkpoint, save_stylegan_checkpoint
from gan.stylegan import Generator, StyleGANConfig, generate
from generate import main as generate_main
from helpers import TINY, TINY_GAN_FLAGS, random_unet, write_faces

GAN = StyleGANConfig(image_size=16, z_dim=16, w_dim=16, mapping_layers=2, channels=16, min_channels=8, d_channels=16)

@pytest.fixture
def checkpoints(tmp_path, monkeypatch):
    """checkpoints/ holding a tiny diffusion model ("anime-64", the default name) and a tiny StyleGAN."""
    root = tmp_path / "checkpoints"
    torch.manual_seed(0)
    save_checkpoint(str(root / "anime-64"), random_unet(std=0.05), TINY, "cosine", 100, "v")
    save_stylegan_checkpoint(str(root / "stylegan-64"), Generator(GAN).eval(), GAN)
    monkeypatch.setattr(REGISTRY, "folder", str(root))
    monkeypatch.setattr(REGISTRY, "_models", {})
    yield root


def test_checkpoint_round_trip_and_kinds(checkpoints):
    model = load_checkpoint(str(checkpoints / "stylegan-64"))
    assert isinstance(model, LoadedGAN) and model.kind == "stylegan" and model.image_size == 16
    assert REGISTRY.names() == ["anime-64", "stylegan-64"]
    assert REGISTRY.names("stylegan") == ["stylegan-64"]
    assert REGISTRY.names("diffusion") == ["anime-64"]
    assert REGISTRY.model("stylegan-64") is REGISTRY.model("stylegan-64"), "loaded once"


def test_generate_cli_stylegan_format_and_batch_invariance(checkpoints, tmp_path, capsys):
    ck = str(checkpoints / "stylegan-64")
    common = ["--model", "stylegan", "--checkpoint", ck, "--n", "5", "--no-progress", "--psi", "0.7"]
    assert generate_main(common + ["--out", str(tmp_path / "a"), "--batch-size", "2"]) == 0
    assert generate_main(common + ["--out", str(tmp_path / "b"), "--batch-size", "5"]) == 0
    assert sorted(os.listdir(tmp_path / "a"), key=lambda n: int(n[:-4])) == [f"{i}.jpg" for i in range(1, 6)]
    for i in range(1, 6):  # an image depends on its seed, not on the batch it is in: byte for byte
        assert (tmp_path / "a" / f"{i}.jpg").read_bytes() == (tmp_path / "b" / f"{i}.jpg").read_bytes(), i
    assert generate_main(["--model", "stylegan", "--checkpoint", str(checkpoints / "anime-64"), "--n", "1",
                          "--out", str(tmp_path / "c"), "--no-progress"]) == 2
    assert "is a diffusion checkpoint, not stylegan" in capsys.readouterr().err
    assert generate_main(common + ["--out", str(tmp_path / "d"), "--psi", "1.5"]) == 2
    assert "psi must be a number from 0 to 1" in capsys.readouterr().err


def test_train_gan_resumes_exactly(tmp_path):
    from train_gan import parse_args, train

    data = str(tmp_path / "faces")
    write_faces(data, n=12, size=16)
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert train(parse_args(["--data", data, "--out", a, "--max-steps", "4", "--save-every", "2", *TINY_GAN_FLAGS])) == 4
    train(parse_args(["--data", data, "--out", b, "--max-steps", "2", "--save-every", "2", *TINY_GAN_FLAGS]))
    train(parse_args(["--out", b, "--max-steps", "4", "--resume", *TINY_GAN_FLAGS]))
    from safetensors.torch import load_file

    wa, wb = load_file(os.path.join(a, "model.safetensors")), load_file(os.path.join(b, "model.safetensors"))
    assert all(torch.equal(wa[k], wb[k]) for k in wa)
    with open(os.path.join(a, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["model"] == "stylegan" and cfg["steps_trained"] == 4 and cfg["weights"] == "EMA"
    assert os.path.isfile(os.path.join(a, "loss.png")) and os.listdir(os.path.join(a, "samples"))
    assert isinstance(load_checkpoint(a), LoadedGAN)
    c = str(tmp_path / "c")  # bf16 moments: G's and D's Adam moments at half size, and it resumes
    train(parse_args(["--data", data, "--out", c, "--max-steps", "2", "--save-every", "2", "--moments-dtype",
                      "bfloat16", *TINY_GAN_FLAGS]))
    state = load_file(os.path.join(c, "training_state", "state.safetensors"))
    moments = [v for k, v in state.items() if k.endswith(("exp_avg", "exp_avg_sq"))]
    assert {k[:2] for k in state if k.endswith("exp_avg")} == {"go", "do"}
    assert moments and all(v.dtype == torch.bfloat16 for v in moments)
    assert train(parse_args(["--out", c, "--max-steps", "3", "--resume", "--moments-dtype", "bfloat16",
                             *TINY_GAN_FLAGS])) == 3
    # a cooldown started at --resume sets both optimizers' lr: lr 0 from step 3 on leaves G's and D's weights where
    # they were (w_avg, the running mean of w for truncation, is a buffer and keeps moving)
    state = load_file(os.path.join(c, "training_state", "state.safetensors"))
    train(parse_args(["--out", c, "--max-steps", "5", "--resume", "--decay-start", "3", "--decay-steps", "1",
                      "--moments-dtype", "bfloat16", *TINY_GAN_FLAGS]))
    after = load_file(os.path.join(c, "training_state", "state.safetensors"))
    moved = [k for k in after if k.startswith(("g.", "d.")) and not torch.equal(after[k], state[k])]
    assert moved == ["g.w_avg"]
    rows = [json.loads(r) for r in open(os.path.join(c, "log.jsonl"))]
    assert [r["lr"] for r in rows][-3:] == [0.002, 0.0, 0.0]


def test_app_tabs_with_a_stylegan(checkpoints, tmp_path):
    images, info, _ = gen.generate(3, 2, checkpoint="stylegan-64", psi=0.5)
    assert len(images) == 2 and images[0].shape == (16, 16, 3) and "StyleGAN" in info and "ψ 0.5" in info
    g = REGISTRY.model("stylegan-64").generator
    from lab.pipeline import to_uint8

    assert np.abs(images[1].astype(int) - to_uint8(generate(g, [4], 0.5))[0]).max() <= 1  # seed 4 alone
    with pytest.raises(ValueError, match="psi must be a number from 0 to 1"):
        gen.generate(0, 1, checkpoint="stylegan-64", psi=2.0)
    with pytest.raises(ValueError, match="is a StyleGAN: it makes an image in one pass"):
        list(dn.denoise(0, 1, checkpoint="stylegan-64"))
    w_strip, z_strip, gif = itp.interpolate(0, 1, frames=3, checkpoint="stylegan-64", psi=0.8, out_dir=str(tmp_path))
    assert w_strip.shape == (32, 3 * 32 + 2 * 2, 3) and gif.endswith(".gif")
    first = to_uint8(generate(g, [0], 0.8))[0].repeat(2, axis=0).repeat(2, axis=1)
    assert np.abs(w_strip[:, :32].astype(int) - first).max() <= 1, "frame 0 is seed A's image"
    zip_path, binfo, preview = bt.batch(3, 0, checkpoint="stylegan-64", psi=0.9, out_dir=str(tmp_path / "b"))
    assert "StyleGAN ψ 0.9" in binfo and len(preview) == 3


@pytest.mark.skipif(not os.path.isfile(paths.LBPCASCADE), reason="no lbpcascade file")
def test_versus_rows_times_and_rates(checkpoints):
    calls = []
    grid, md = vs.versus(2, 0, 5, include_ddpm=True, detector="lbpcascade (OpenCV)",
                         progress=lambda f, d: calls.append(f))
    assert grid.ndim == 3 and grid.shape[0] == 3 * (32 + 4)
    rows = [r for r in md.splitlines() if r.startswith("| DD") or r.startswith("| Style")]
    assert [r.split("|")[1].strip() for r in rows] == ["DDPM", "DDIM 5", "StyleGAN"]
    assert "100 network evaluations" in rows[0] and "1 generator pass" in rows[2] and "/2 = " in rows[2]
    assert calls[-1] == 1.0 and calls == sorted(calls)
    with pytest.raises(ValueError, match="number of images must be a whole number from 1 to 16"):
        vs.versus(0)
    with pytest.raises(ValueError, match="DDIM steps must be a whole number from 1 to 100"):
        vs.versus(1, 0, 1000)
    shutil.rmtree(checkpoints / "stylegan-64")
    with pytest.raises(ValueError, match="no stylegan checkpoint under"):
        vs.versus(1)
