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
                      "--no-progress", "--log-every", "1", "--threads", "1"]))  # bit-exact needs the same threads
    a, b = load_file(os.path.join(straight, "model.safetensors")), load_file(os.path.join(split, "model.safetensors"))
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a), "resumed EMA weights differ"
    sa = load_file(os.path.join(straight, "training_state", "state.safetensors"))
    sb = load_file(os.path.join(split, "training_state", "state.safetensors"))
    assert all((sa[k] == sb[k]).all() for k in sa if k.startswith(("model.", "opt.")))
    with open(os.path.join(split, "config.json")) as f:
        cfg = json.load(f)
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

    from training.plumbing import next_batch

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

    from training.plumbing import read_training_state, resumed_config, write_training_state
    from train_gan import parse_args as parse_gan_args

    diffusion_cfg = parse_args(["--out", str(tmp_path)])
    write_training_state(str(tmp_path), {"rng.torch": torch.get_rng_state()},
                         {"step": 0, "pos": 0, "config": dataclasses.asdict(diffusion_cfg)})
    state, meta = read_training_state(str(tmp_path))
    assert torch.equal(state["rng.torch"], torch.get_rng_state())
    assert resumed_config(diffusion_cfg, meta) == diffusion_cfg
    with pytest.raises(SystemExit, match="written by another trainer"):
        resumed_config(parse_gan_args(["--out", str(tmp_path), "--resume"]), meta)


def test_state_is_one_atomic_file_and_the_two_file_format_still_resumes(tmp_path, faces):
    """An earlier run's state (state.json beside state.safetensors, EMA in model.safetensors) resumes exactly."""
    import torch
    from safetensors.torch import save_file

    from training.plumbing import read_training_state

    straight, legacy = str(tmp_path / "straight"), str(tmp_path / "legacy")
    train(parse_args(["--data", faces, "--out", straight, "--max-steps", "4", "--save-every", "4", *TINY_FLAGS]))
    train(parse_args(["--data", faces, "--out", legacy, "--max-steps", "2", "--save-every", "2", *TINY_FLAGS]))
    assert os.listdir(os.path.join(legacy, "training_state")) == ["state.safetensors"]
    tensors, meta = read_training_state(legacy)
    assert meta["step"] == 2 and any(k.startswith("ema.") for k in tensors)
    # rewrite it as the earlier format wrote it
    save_file({k: v.contiguous() for k, v in tensors.items() if not k.startswith("ema.")},
              os.path.join(legacy, "training_state", "state.safetensors"))
    with open(os.path.join(legacy, "training_state", "state.json"), "w") as f:
        json.dump(meta, f)
    train(parse_args(["--out", legacy, "--resume", "--max-steps", "4", "--save-every", "4", "--no-progress",
                      "--threads", "1"]))
    a, b = load_file(os.path.join(straight, "model.safetensors")), load_file(os.path.join(legacy, "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a), "the legacy state did not resume exactly"
    assert os.listdir(os.path.join(legacy, "training_state")) == ["state.safetensors"], "state.json superseded"


def test_a_failed_state_write_leaves_the_previous_state(tmp_path, monkeypatch):
    import torch

    from training import plumbing

    plumbing.write_training_state(str(tmp_path), {"x": torch.zeros(2)}, {"step": 1})

    def crash(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        plumbing.write_training_state(str(tmp_path), {"x": torch.ones(2)}, {"step": 2})
    monkeypatch.undo()
    tensors, meta = plumbing.read_training_state(str(tmp_path))
    assert meta["step"] == 1 and float(tensors["x"].sum()) == 0.0


def test_trainers_leave_the_heldout_split_out_by_default(tmp_path):
    from lab.data import is_heldout

    data = str(tmp_path / "faces")
    _write_faces(data, n=56, size=16)  # 49.jpg and 55.jpg fall in the held-out split
    held = [f"{i}.jpg" for i in range(56) if is_heldout(f"{i}.jpg")]
    assert held == ["49.jpg", "55.jpg"]
    for flags, images, split in (([], 54, "train"), (["--no-exclude-heldout"], 56, "all")):
        out = str(tmp_path / split)
        train(parse_args(["--data", data, "--out", out, "--max-steps", "1", "--save-every", "1", *TINY_FLAGS, *flags]))
        with open(os.path.join(out, "config.json")) as f:
            cfg = json.load(f)
        assert cfg["data"]["images"] == images and cfg["data"]["split"] == split


def test_training_uses_the_schedules_own_forward_process(tmp_path, faces, monkeypatch):
    from diffusion.schedules import Schedule

    calls = {"q_sample": 0, "v_target": 0}
    for name in calls:
        original = getattr(Schedule, name)

        def counted(self, *a, _name=name, _original=original, **k):
            calls[_name] += 1
            return _original(self, *a, **k)

        monkeypatch.setattr(Schedule, name, counted)
    train(parse_args(["--data", faces, "--out", str(tmp_path / "o"), "--max-steps", "3", "--save-every", "3",
                      *TINY_FLAGS]))
    assert calls == {"q_sample": 3, "v_target": 3}


def test_bfloat16_moments_halve_the_optimizer_state_and_still_resume(tmp_path, faces):
    """--moments-dtype bfloat16 stores AdamW's moments at half size (the step count stays exact); the run
    resumes from them, close to an uninterrupted run but not bit for bit."""
    import torch

    straight, split = str(tmp_path / "straight"), str(tmp_path / "split")
    train(parse_args(["--data", faces, "--out", straight, "--max-steps", "6", "--save-every", "6", *TINY_FLAGS]))
    train(parse_args(["--data", faces, "--out", split, "--max-steps", "3", "--save-every", "3",
                      "--moments-dtype", "bfloat16", *TINY_FLAGS]))
    state = load_file(os.path.join(split, "training_state", "state.safetensors"))
    moments = {k: v for k, v in state.items() if k.startswith("opt.") and k.endswith(("exp_avg", "exp_avg_sq"))}
    assert moments and all(v.dtype == torch.bfloat16 for v in moments.values())
    assert all(v.dtype == torch.float32 for k, v in state.items() if k.startswith(("model.", "ema.")))
    steps = [v for k, v in state.items() if k.startswith("opt.") and k.endswith(".step")]
    assert steps and all(v.dtype == torch.float32 and float(v) == 3 for v in steps)
    train(parse_args(["--out", split, "--resume", "--max-steps", "6", "--save-every", "3", "--no-progress",
                      "--moments-dtype", "bfloat16"]))
    a, b = load_file(os.path.join(straight, "model.safetensors")), load_file(os.path.join(split, "model.safetensors"))
    diffs = [float((a[k] - b[k]).abs().max()) for k in a if a[k].is_floating_point()]
    scale = max(float(a[k].abs().max()) for k in a if a[k].is_floating_point())
    assert 0 < max(diffs) < 1e-2 * scale, "bf16 moments should resume close to, not exactly as, the fp32 run"
    with pytest.raises(SystemExit):
        parse_args(["--moments-dtype", "float16"])


def test_lr_schedule_warms_up_holds_and_cools_down_linearly():
    from training.plumbing import lr_at

    assert lr_at(0, 1.0, 4) == 0.25 and lr_at(3, 1.0, 4) == 1.0  # the update after `step` updates
    assert [lr_at(s, 1.0, 4, decay_start=10, decay_steps=4) for s in (9, 10, 11, 12, 13, 50)] == \
        [1.0, 0.75, 0.5, 0.25, 0.0, 0.0]
    assert lr_at(11, 1.0, 4, decay_start=10, decay_steps=4, lr_min=0.2) == pytest.approx(0.6)
    assert lr_at(10_000, 1.0, 4) == 1.0  # decay_steps 0: constant
    with pytest.raises(ValueError, match="lr_min between 0 and lr"):
        lr_at(0, 1.0, 4, decay_steps=5, lr_min=2.0)
    with pytest.raises(SystemExit):
        parse_args(["--decay-steps", "-1"])


def test_a_cooldown_can_be_started_at_resume_and_is_then_kept(tmp_path, faces):
    """A constant-lr run resumed with --decay-start/--decay-steps cools down; a later resume without them keeps it."""
    out = str(tmp_path / "run")
    train(parse_args(["--data", faces, "--out", out, "--max-steps", "2", "--save-every", "2", *TINY_FLAGS]))
    train(parse_args(["--out", out, "--resume", "--decay-start", "2", "--decay-steps", "4", "--max-steps", "4",
                      "--save-every", "2", "--log-every", "1", "--no-progress", "--threads", "1"]))
    train(parse_args(["--out", out, "--resume", "--max-steps", "6", "--save-every", "2", "--log-every", "1",
                      "--no-progress", "--threads", "1"]))
    lrs = [json.loads(r)["lr"] for r in open(os.path.join(out, "log.jsonl"))]
    assert lrs == pytest.approx([5e-4 / 2, 5e-4, 5e-4 * 0.75, 5e-4 * 0.5, 5e-4 * 0.25, 0.0])
