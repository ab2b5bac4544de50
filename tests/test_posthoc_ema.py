"""bench/posthoc_ema.py: a longer EMA of a run computed afterwards from snapshots of its raw weights."""
import os

import pytest
import torch
from safetensors.torch import save_file

from helpers import bench_script

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_module():
    return bench_script("posthoc_ema")


def test_average_matches_a_per_step_ema_of_piecewise_linear_weights(tmp_path):
    """Weights that move linearly between snapshots: the closed-form interval update equals the per-step EMA."""
    posthoc = load_module()
    (tmp_path / "snapshots").mkdir()
    start = {"w": torch.zeros(3), "count": torch.tensor(7)}
    for step, value in ((10, 1.0), (20, 1.0), (30, 3.0)):
        save_file({"w": torch.full((3,), value), "count": torch.tensor(step)},
                  str(tmp_path / "snapshots" / f"step_{step:06d}.safetensors"))
    snaps = posthoc.snapshots(str(tmp_path))
    assert [s for s, _ in snaps] == [10, 20, 30]
    d = 0.9
    out = posthoc.average(start, 0, snaps[:2], d, {"w": torch.ones(3), "count": torch.tensor(0)})
    assert torch.allclose(out["w"], torch.full((3,), 1 - d ** 20)) and int(out["count"]) == 20
    # per step: weights 1 for steps 1..20, then rising linearly to 3 at step 30
    ema = 0.0
    for t in range(1, 31):
        ema = d * ema + (1 - d) * (1.0 if t <= 20 else 1.0 + 2.0 * (t - 20) / 10)
    out = posthoc.average(start, 0, snaps, d, {"w": torch.ones(3), "count": torch.tensor(0)})
    assert abs(float(out["w"][0]) - ema) < 1e-6 and out["w"].dtype == torch.float32
    with pytest.raises(ValueError, match="decay must be between 0 and 1"):
        posthoc.average(start, 0, snaps, 1.0)


def test_train_keeps_snapshots_and_posthoc_writes_loadable_checkpoints(tmp_path):
    from safetensors.torch import load_file

    from helpers import tiny_run
    from lab.checkpoint import load_checkpoint
    from train import parse_args, train

    _, run, start = tiny_run(tmp_path, 2)
    train(parse_args(["--out", run, "--resume", "--max-steps", "6", "--save-every", "2", "--snapshots",
                      "--no-progress"]))
    snaps = sorted(os.listdir(os.path.join(run, "snapshots")))
    assert snaps == ["step_000004.safetensors", "step_000006.safetensors"]
    state = load_file(os.path.join(run, "training_state", "state.safetensors"))
    last = load_file(os.path.join(run, "snapshots", snaps[-1]))
    assert all(torch.equal(v, state["model." + k]) for k, v in last.items())
    posthoc = load_module()
    assert posthoc.main(["--run", run, "--start", start, "--decays", "0.5"]) == 0
    model = load_checkpoint(run + "-ema0.5")
    assert model.config["steps_trained"] == 6 and "post-hoc EMA 0.5" in model.config["weights"]
    with pytest.raises(SystemExit, match="no snapshots after step 6"):
        posthoc.main(["--run", run, "--start", os.path.join(run, "training_state", "state.safetensors")])
