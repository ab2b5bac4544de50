"""Small shared test fixtures: a tiny UNet config, a randomised UNet, a folder of fake faces, a bench script."""
import importlib.util
import os

import numpy as np
import torch
from PIL import Image

from diffusion.unet import UNet, UNetConfig

TINY = UNetConfig(image_size=16, base_channels=8, channel_mults=(1, 2), attention_resolutions=(8,), head_channels=8,
                  norm_groups=4)


def random_unet(config: UNetConfig = TINY, std: float = 0.1, seed: int = 0) -> UNet:
    """A UNet with random non-zero weights everywhere (its zero-initialised layers included)."""
    torch.manual_seed(seed)
    net = UNet(config)
    with torch.no_grad():
        for p in net.parameters():
            p.normal_(0, std)
    return net


def write_faces(folder: str, n: int = 5, size: int = 20) -> None:
    os.makedirs(folder, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (size, size, 3), dtype=np.uint8)).save(os.path.join(folder, f"{i}.jpg"))


def random_inception(seed: int = 0):
    """A stand-in for pytorch-fid's InceptionV3: the same architecture (FID blocks included), random
    weights, because the real weights cannot be downloaded here."""
    from unittest import mock

    import torchvision
    from pytorch_fid import inception as fi

    torch.manual_seed(seed)
    with mock.patch.object(fi, "load_state_dict_from_url", return_value=None), \
            mock.patch.object(torchvision.models.Inception3, "load_state_dict", lambda self, *a, **k: None):
        net = fi.InceptionV3([fi.InceptionV3.BLOCK_INDEX_BY_DIM[2048]]).eval()
    net.fid_model_id = f"stand-in-random-seed{seed}"
    for m in net.modules():  # variance-preserving init, so the 2048 features do not shrink towards 0
        if isinstance(m, torch.nn.Conv2d):
            torch.nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
    return net


TINY_TRAIN_FLAGS = ["--image-size", "16", "--base-channels", "8", "--channel-mults", "1,2", "--attention-resolutions",
                    "8", "--batch-size", "4", "--timesteps", "50", "--sample-every", "2", "--log-every", "1",
                    "--sample-seeds", "4", "--no-progress", "--warmup-steps", "2", "--threads", "1"]

TINY_GAN_FLAGS = ["--image-size", "16", "--z-dim", "16", "--w-dim", "16", "--mapping-layers", "2", "--channels", "16",
                  "--min-channels", "8", "--d-channels", "16", "--batch-size", "4", "--r1-every", "2", "--log-every",
                  "1", "--no-progress"]


def tiny_run(root, steps: int) -> tuple[str, str, str]:
    """Train a tiny UNet run under root for `steps` steps (saving every 2); returns (data folder, run folder, a copy
    of its training state at that step, which later saves do not touch)."""
    import shutil

    from train import parse_args, train

    data, run = str(root / "faces"), str(root / "run")
    write_faces(data, n=12, size=16)
    train(parse_args(["--data", data, "--out", run, "--max-steps", str(steps), "--save-every", "2",
                      *TINY_TRAIN_FLAGS]))
    kept = str(root / f"state_at_{steps}.safetensors")
    shutil.copy(os.path.join(run, "training_state", "state.safetensors"), kept)
    return data, run, kept


def bench_script(name: str, folder: str = "bench"):
    """bench/NAME.py (or scripts/NAME.py) loaded as a module: those folders hold scripts, not packages."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    spec = importlib.util.spec_from_file_location(name, os.path.join(root, folder, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
