"""Shipping a run: scripts/ship_run.py turns a run's training state into a checkpoint the app loads, and
bench/before_after.py draws the README's before/after figure of two checkpoints."""
import json
import os
import subprocess
import sys

import pytest
import torch
from safetensors.torch import load_file

from helpers import TINY_GAN_FLAGS, bench_script, tiny_run, write_faces
from train import parse_args, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ship_run = bench_script("ship_run", "scripts")

def test_ship_writes_the_states_ema_and_history_up_to_its_step(tmp_path):
    from lab.checkpoint import load_checkpoint

    _, run, kept = tiny_run(tmp_path, 4)
    dest = str(tmp_path / "checkpoints" / "tiny")
    os.makedirs(os.path.join(dest, "samples"))
    (tmp_path / "checkpoints" / "tiny" / "samples" / "step_000100.png").write_bytes(b"old")
    assert ship_run.main(["--run", run, "--to", dest, "--state", kept]) == 0
    weights, state = load_file(os.path.join(dest, "model.safetensors")), load_file(kept)
    assert weights.keys() == {k[4:] for k in state if k.startswith("ema.")}
    assert all(torch.equal(weights[k], state["ema." + k]) for k in weights)
    config = json.load(open(os.path.join(dest, "config.json")))
    assert config["steps_trained"] == 4 and config["shipped_from"] == {"run": run, "step": 4}
    assert sorted(os.listdir(os.path.join(dest, "samples"))) == ["step_000002.png", "step_000004.png"]
    assert [json.loads(r)["step"] for r in open(os.path.join(dest, "log.jsonl"))] == [1, 2, 3, 4]
    assert os.path.isfile(os.path.join(dest, "loss.png"))
    assert load_checkpoint(dest).config["steps_trained"] == 4
    # a state that does not match the run's config.json is refused, naming both steps
    train(parse_args(["--out", run, "--resume", "--max-steps", "6", "--save-every", "2", "--no-progress"]))
    with pytest.raises(SystemExit, match="is from step 6 but the state from step 4"):
        ship_run.ship(run, dest, kept)
    with pytest.raises(SystemExit, match="no training state at"):
        ship_run.ship(run, dest, str(tmp_path / "none.safetensors"))


def test_a_gan_run_ships_with_its_own_loss_curve(tmp_path):
    from lab.checkpoint import LoadedGAN, load_checkpoint
    from train_gan import parse_args as gan_args, train as train_gan

    write_faces(str(tmp_path / "faces"), n=8, size=16)
    run, dest = str(tmp_path / "run"), str(tmp_path / "ship")
    train_gan(gan_args(["--data", str(tmp_path / "faces"), "--out", run, "--max-steps", "2", "--save-every", "2",
                        *TINY_GAN_FLAGS]))
    assert ship_run.main(["--run", run, "--to", dest]) == 0
    assert isinstance(load_checkpoint(dest), LoadedGAN) and os.path.getsize(os.path.join(dest, "loss.png")) > 1000


def test_before_after_draws_both_grids_with_their_scores(tmp_path):
    from PIL import Image

    for name, steps in (("old", 100), ("new", 200)):
        folder = tmp_path / name
        (folder / "report").mkdir(parents=True)
        Image.new("RGB", (66, 66), (200, 100, 50)).save(folder / "report" / "grid.png")
        (folder / "config.json").write_text(json.dumps({"steps_trained": steps, "images_seen": steps * 32}))
        (folder / "log.jsonl").write_text("".join(json.dumps({"step": s, "loss": 1 / s}) + "\n"
                                                  for s in range(1900, 2100, 20)))
    (tmp_path / "new" / "report" / "two_sample.json").write_text(json.dumps({"two_sample": {"mean": 0.7,
                                                                                           "scores": [0.7] * 3}}))
    out = tmp_path / "ba.png"
    subprocess.run([sys.executable, os.path.join(ROOT, "bench", "before_after.py"), "--before", str(tmp_path / "old"),
                    "--after", str(tmp_path / "new"), "--out", str(out)], check=True, capture_output=True)
    assert Image.open(out).size[0] > 600
    before_after = bench_script("before_after")

    assert before_after.title(str(tmp_path / "new")) == ("200 steps, 6k images seen\n"
                                                         "two-sample 0.700 over 3 seeds (0.5 = like real)")
