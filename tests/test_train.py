import json
import os

import pytest
from safetensors.torch import load_file

from helpers import write_faces as _write_faces
from train import parse_args, train

TINY_FLAGS = ["--image-size", "16", "--base-channels", "8", "--channel-mults", "1,2", "--attention-resolutions", "8",
              "--batch-size", "4", "--timesteps", "50", "--sample-every", "1000", "--log-every", "1",
              "--sample-seeds", "4", "--no-progress", "--warmup-steps", "2", "--threads", "1"]


@pytest.fixture(scope="module")
def faces(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("faces"))
    _write_faces(folder, n=12, size=16)
    return folder


def test_resume_continues_exactly(tmp_path, faces):
    straight, split = str(tmp_path / "straight"), str(tmp_path / "split")
    train(parse_args(["--data", faces, "--out", straight, "--max-steps", "6", "--save-every", "6", *TINY_FLAGS]))
    train(parse_args(["--data", faces, "--out", split, "--max-steps", "3", "--save-every", "3", *TINY_FLAGS]))
    train(parse_args(["--data", faces, "--out", split, "--resume", "--max-steps", "6", "--save-every", "3",
                      "--no-progress", "--log-every", "1"]))
    a, b = load_file(os.path.join(straight, "model.safetensors")), load_file(os.path.join(split, "model.safetensors"))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a), "resumed EMA weights differ"
    sa = load_file(os.path.join(straight, "training_state", "state.safetensors"))
    sb = load_file(os.path.join(split, "training_state", "state.safetensors"))
    assert all((sa[k] == sb[k]).all() for k in sa if k.startswith(("model.", "opt.")))
    cfg = json.load(open(os.path.join(split, "config.json")))
    assert cfg["steps_trained"] == 6 and cfg["weights"] == "EMA" and cfg["prediction"] == "v"
    rows = [json.loads(r) for r in open(os.path.join(split, "log.jsonl"))]
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert os.path.exists(os.path.join(split, "loss.png"))
    assert os.path.exists(os.path.join(split, "samples", "step_000006.png"))


def test_bad_flags_and_data(tmp_path):
    with pytest.raises(SystemExit):
        parse_args(["--augment", "mixup"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="no .jpg"):
        train(parse_args(["--data", str(tmp_path / "empty"), "--out", str(tmp_path / "o"), *TINY_FLAGS]))
    with pytest.raises(SystemExit, match="no training state"):
        train(parse_args(["--out", str(tmp_path / "none"), "--resume", *TINY_FLAGS]))


def test_init_from_starts_at_a_checkpoints_weights(tmp_path, faces):
    first = str(tmp_path / "first")
    train(parse_args(["--data", faces, "--out", first, "--max-steps", "2", "--save-every", "2", *TINY_FLAGS]))
    second = str(tmp_path / "second")
    train(parse_args(["--data", faces, "--out", second, "--init-from", first, "--lr", "0", "--max-steps", "1",
                      "--save-every", "1", *TINY_FLAGS]))
    a, b = load_file(os.path.join(first, "model.safetensors")), load_file(os.path.join(second, "model.safetensors"))
    assert all((a[k] == b[k]).all() for k in a), "with lr 0 the weights must stay those of --init-from"
    with pytest.raises(SystemExit, match="UNet config differs"):
        train(parse_args(["--data", faces, "--out", str(tmp_path / "x"), "--init-from", first, *TINY_FLAGS,
                          "--base-channels", "16"]))


def test_next_batch_gives_ranks_disjoint_slices_and_walks_whole_epochs():
    import torch

    from diffusion.training import next_batch

    n, batch, world = 10, 2, 2
    gen = torch.Generator().manual_seed(0)
    perm, pos = torch.randperm(n, generator=gen), 0
    seen = []
    for _ in range(2):  # 2 global batches of 4 = 8 of the 10 images, no repeats
        state = (perm, pos)
        idx0, perm, pos = next_batch(*state, n, gen, batch, rank=0, world=world)
        idx1, _, _ = next_batch(*state, n, gen, batch, rank=1, world=world)  # no wrap here: gen untouched
        assert len(idx0) == len(idx1) == batch and not set(idx0.tolist()) & set(idx1.tolist())
        seen += idx0.tolist() + idx1.tolist()
    assert len(set(seen)) == 8
    first = perm
    idx, perm, pos = next_batch(perm, pos, n, gen, batch, 0, world)  # 2 left < 4 needed: a new permutation
    assert perm is not first and pos == batch * world and sorted(perm.tolist()) == list(range(n))


def test_resume_with_another_trainers_state_says_so(tmp_path):
    import dataclasses

    import pytest
    import torch

    from diffusion.training import read_training_state, resumed_config, write_training_state
    from train_gan import parse_args as parse_gan_args

    diffusion_cfg = parse_args(["--out", str(tmp_path)])
    write_training_state(str(tmp_path), {"rng.torch": torch.get_rng_state()},
                         {"step": 0, "pos": 0, "config": dataclasses.asdict(diffusion_cfg)})
    state, meta = read_training_state(str(tmp_path))
    assert torch.equal(state["rng.torch"], torch.get_rng_state())
    assert resumed_config(diffusion_cfg, meta) == diffusion_cfg
    with pytest.raises(SystemExit, match="written by another trainer"):
        resumed_config(parse_gan_args(["--out", str(tmp_path), "--resume"]), meta)
