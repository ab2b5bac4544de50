"""Self-describing checkpoints: a folder with `config.json` and `model.safetensors` (EMA weights), of a
diffusion UNet ("model": "unet") or a StyleGAN generator ("model": "stylegan").

One loader serves the app and the CLIs. Weights are read with safetensors only: nothing is unpickled.
Every failure (missing folder or file, truncated or foreign weights, a config that does not match them)
is one `CheckpointError` sentence naming the file.
"""
from __future__ import annotations

import json
import os
from dataclasses import fields

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from diffusion.samplers import PREDICTIONS
from diffusion.schedules import make_schedule
from gan.stylegan import Generator, StyleGANConfig
from diffusion.unet import UNet, UNetConfig

from .models import DistilledModel, LoadedGAN, LoadedModel

CONFIG_NAME, WEIGHTS_NAME = "config.json", "model.safetensors"
FORMAT = "anime-face-diffusion/1"


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded; the message says which file and why."""


def atomic_write_bytes(path: str, data: bytes) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)  # a crash or Ctrl-C mid-write never leaves a truncated file


def atomic_save_tensors(tensors: dict[str, torch.Tensor], path: str, metadata: dict[str, str] | None = None) -> None:
    tmp = f"{path}.tmp{os.getpid()}"
    save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, tmp, metadata=metadata)
    os.replace(tmp, path)


def write_checkpoint(path: str, weights: torch.nn.Module | dict[str, torch.Tensor], config: dict,
                     config_name: str = CONFIG_NAME) -> None:
    """The one way a checkpoint folder is written: the weights (a module's state or tensors) atomically, then
    config.json atomically. A reader never sees a config without its weights; a crash between the two leaves
    the new weights beside the old config, which load_checkpoint refuses in one sentence if they differ."""
    os.makedirs(path, exist_ok=True)
    tensors = weights.state_dict() if isinstance(weights, torch.nn.Module) else weights
    atomic_save_tensors(tensors, os.path.join(path, WEIGHTS_NAME))
    atomic_write_bytes(os.path.join(path, config_name), json.dumps(config, indent=2).encode())


def save_checkpoint(path: str, net: torch.nn.Module, unet_config: UNetConfig, schedule_name: str,
                    timesteps: int, prediction: str, extra: dict | None = None) -> None:
    """Write `path/config.json` and `path/model.safetensors` (the weights of `net`, e.g. the EMA)."""
    write_checkpoint(path, net, {"format": FORMAT, "model": "unet", "unet": unet_config.to_dict(),
                                 "schedule": {"name": schedule_name, "timesteps": timesteps},
                                 "prediction": prediction, **(extra or {})})


def save_stylegan_checkpoint(path: str, generator: torch.nn.Module, config: StyleGANConfig,
                             extra: dict | None = None) -> None:
    """Write a StyleGAN generator (e.g. its EMA) as `path/config.json` + `path/model.safetensors`."""
    write_checkpoint(path, generator, {"format": FORMAT, "model": "stylegan", "stylegan": config.to_dict(),
                                       **(extra or {})})


def load_checkpoint(path: str, device: str | torch.device = "cpu") -> LoadedModel | LoadedGAN:
    """Load a checkpoint folder for sampling: a diffusion UNet (eval mode, channels_last) or, where its
    config says "model": "stylegan", the StyleGAN generator (EMA weights)."""
    config_path, weights_path = os.path.join(path, CONFIG_NAME), os.path.join(path, WEIGHTS_NAME)
    if not os.path.isdir(path):
        raise CheckpointError(f"No checkpoint folder at {path}: pass a folder holding {CONFIG_NAME} and {WEIGHTS_NAME}.")
    for f in (config_path, weights_path):
        if not os.path.isfile(f):
            raise CheckpointError(f"Checkpoint {path} has no {os.path.basename(f)}; it needs {CONFIG_NAME} and "
                                  f"{WEIGHTS_NAME} (written by train.py or train_gan.py).")
    try:
        with open(config_path) as f:
            config = json.load(f)
        kind = config.get("model", "unet")
        if kind == "stylegan":
            known = {fl.name for fl in fields(StyleGANConfig)}
            gan_config = StyleGANConfig(**{k: v for k, v in config["stylegan"].items() if k in known})
        elif kind == "unet":
            known = {fl.name for fl in fields(UNetConfig)}
            unet_config = UNetConfig(**{k: v for k, v in config["unet"].items() if k in known})
            schedule = make_schedule(config["schedule"]["name"], int(config["schedule"]["timesteps"]))
            prediction = config.get("prediction", "eps")
            if prediction not in PREDICTIONS:
                raise ValueError(f"prediction {prediction!r} is not one of {PREDICTIONS}")
        else:
            raise ValueError(f"model {kind!r} is not unet or stylegan")
    except (OSError, json.JSONDecodeError, KeyError, TypeError, ValueError) as e:
        raise CheckpointError(f"{config_path} is not a valid checkpoint config ({e}).") from None
    try:
        state = load_file(weights_path)
    except (SafetensorError, OSError) as e:
        raise CheckpointError(f"{weights_path} is truncated or not a safetensors file ({e}).") from None
    with torch.random.fork_rng(devices=[]):  # the weights are overwritten: loading leaves the global RNG as it was
        net = Generator(gan_config) if kind == "stylegan" else UNet(unet_config)
    try:
        net.load_state_dict(state, strict=True)
    except RuntimeError as e:
        first = str(e).strip().splitlines()
        raise CheckpointError(f"{weights_path} does not match the {'StyleGAN' if kind == 'stylegan' else 'UNet'} in "
                              f"{config_path} "
                              f"({first[1].strip() if len(first) > 1 else first[0]}).") from None
    net = net.eval().to(device=device)
    for p in net.parameters():
        p.requires_grad_(False)
    if kind == "stylegan":
        return LoadedGAN(net, config, path)
    net = net.to(memory_format=torch.channels_last)
    return (DistilledModel if "distillation" in config else LoadedModel)(net, schedule, prediction, config, path)
