import json
import os
import zipfile

import pytest
import torch

from lab.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from lab.data import augment, list_images, load_images
from diffusion.unet import UNet, UNetConfig
from helpers import TINY, random_unet
from helpers import write_faces as _write_faces


def test_checkpoint_round_trip(tmp_path):
    net = random_unet()
    save_checkpoint(str(tmp_path / "ck"), net, TINY, "cosine", 100, "v", extra={"steps_trained": 7})
    loaded = load_checkpoint(str(tmp_path / "ck"))
    assert loaded.prediction == "v" and loaded.schedule.name == "cosine" and loaded.schedule.num_timesteps == 100
    assert loaded.config["steps_trained"] == 7 and loaded.image_size == 16
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([3, 3])
    torch.testing.assert_close(loaded.net(x, t), net.eval()(x, t))


def test_checkpoint_errors_are_one_sentence(tmp_path):
    with pytest.raises(CheckpointError, match="No checkpoint folder"):
        load_checkpoint(str(tmp_path / "nope"))
    ck = str(tmp_path / "ck")
    save_checkpoint(ck, UNet(TINY), TINY, "linear", 100, "eps")
    weights = os.path.join(ck, "model.safetensors")
    with open(weights, "rb") as f:
        data = f.read()
    open(weights, "wb").write(data[: len(data) // 2])
    with pytest.raises(CheckpointError, match="truncated or not a safetensors file"):
        load_checkpoint(ck)
    os.remove(weights)
    with pytest.raises(CheckpointError, match="has no model.safetensors"):
        load_checkpoint(ck)
    # weights of another architecture
    other = UNetConfig(image_size=16, base_channels=8, channel_mults=(1, 2, 2), attention_resolutions=(), norm_groups=4)
    save_checkpoint(ck, UNet(other), other, "linear", 100, "eps")
    with open(os.path.join(ck, "config.json")) as f:
        cfg = json.load(f)
    cfg["unet"] = TINY.to_dict()
    json.dump(cfg, open(os.path.join(ck, "config.json"), "w"))
    with pytest.raises(CheckpointError, match="does not match the UNet"):
        load_checkpoint(ck)
    open(os.path.join(ck, "config.json"), "w").write("{not json")
    with pytest.raises(CheckpointError, match="not a valid checkpoint config"):
        load_checkpoint(ck)


def test_load_images_folder_zip_and_bad_files(tmp_path):
    folder = str(tmp_path / "faces")
    _write_faces(folder, n=4)
    open(os.path.join(folder, "broken.jpg"), "wb").write(b"not an image")
    open(os.path.join(folder, "notes.txt"), "w").write("ignored")
    logs = []
    imgs = load_images(folder, size=16, log=logs.append)
    assert imgs.shape == (4, 3, 16, 16) and imgs.dtype == torch.uint8
    assert any("skipped 1 unreadable file(s): broken.jpg" in m for m in logs)
    zpath = str(tmp_path / "faces.zip")
    with zipfile.ZipFile(zpath, "w") as zf:
        for name in sorted(os.listdir(folder)):
            zf.write(os.path.join(folder, name), f"faces/{name}")
    assert torch.equal(load_images(zpath, size=16, log=None), imgs)
    assert len(list_images(zpath)) == 5


def test_load_images_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="does not exist"):
        load_images(str(tmp_path / "missing"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no .jpg/.jpeg/.png images"):
        load_images(str(tmp_path / "empty"))
    (tmp_path / "bad").mkdir()
    open(tmp_path / "bad" / "a.png", "wb").write(b"garbage")
    with pytest.raises(ValueError, match="could be read"):
        load_images(str(tmp_path / "bad"), log=None)
    (tmp_path / "file.txt").write_text("x")
    with pytest.raises(ValueError, match="neither a folder nor a .zip"):
        load_images(str(tmp_path / "file.txt"))


@pytest.mark.parametrize("preset", ["none", "flip", "hw6-medium"])
def test_augment_range_and_shape(preset):
    batch = torch.randint(0, 256, (4, 3, 16, 16), dtype=torch.uint8)
    out = augment(batch, preset)
    assert out.shape == (4, 3, 16, 16) and out.dtype == torch.float32
    assert float(out.min()) >= -1 and float(out.max()) <= 1
    if preset == "none":
        torch.testing.assert_close(out, batch.float() / 127.5 - 1)
    with pytest.raises(ValueError, match="allowed: none, flip, hw6-medium"):
        augment(batch, "mixup")


def test_real_faces_load(tmp_path):
    from lab import paths

    real = paths.FACES
    if not os.path.isdir(real):
        pytest.skip("../shared/data/anime-faces is not beside the repo")
    imgs = load_images(real, size=64, limit=32, log=None)
    assert imgs.shape == (32, 3, 64, 64) and 40 < imgs.float().mean() < 220


def test_loading_a_checkpoint_leaves_the_global_rng_as_it_was(tmp_path):
    """A resumed run loads checkpoints after restoring its RNG (distill.py's teachers): loading must not draw."""
    save_checkpoint(str(tmp_path / "ck"), random_unet(), TINY, "cosine", 50, "v")
    torch.manual_seed(3)
    before = torch.get_rng_state()
    load_checkpoint(str(tmp_path / "ck"))
    assert torch.equal(torch.get_rng_state(), before)
