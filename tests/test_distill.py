import json
import os
from contextlib import contextmanager

import pytest
import torch
from safetensors.torch import load_file

from diffusion.samplers import ddim, eps_model, sample
from diffusion.schedules import make_schedule
from distill import (ddim_step, distill, ect_earlier, edm_sigma, parse_args, progressive_pairs, progressive_target,
                     x0_of, _ab)
from helpers import random_unet, tiny_run
from lab.checkpoint import load_checkpoint


@pytest.fixture(scope="module")
def teacher_run(tmp_path_factory):
    data, run, _ = tiny_run(tmp_path_factory.mktemp("teacher"), steps=2)
    return data, run


def flags(data, teacher, out, *extra):
    return ["--data", data, "--teacher", teacher, "--out", out, "--batch-size", "4", "--log-every", "1",
            "--sample-seeds", "4", "--no-progress", "--threads", "1", "--moments-dtype", "float32", *extra]


def test_progressive_target_makes_one_student_step_land_where_two_teacher_steps_land():
    schedule, net = make_schedule("cosine", 50), random_unet()
    torch.manual_seed(0)
    x = torch.randn(3, 3, 16, 16)
    for t, t_mid, t_next in progressive_pairs(schedule, 4).tolist():
        t_, m_, n_ = (torch.full((3,), v) for v in (t, t_mid, t_next))
        target = progressive_target(net, schedule, x, t_, m_, n_)
        one = ddim_step(x, target, _ab(schedule, t_), _ab(schedule, n_))
        with torch.no_grad():  # the teacher's two steps, taken by the app's own DDIM sampler over that grid
            ab, ab_mid = _ab(schedule, t_), _ab(schedule, m_)
            mid = ddim_step(x, x0_of(net, x, t_, ab).clamp(-1, 1), ab, ab_mid)
            two = ddim_step(mid, x0_of(net, mid, m_, ab_mid).clamp(-1, 1), ab_mid, _ab(schedule, n_))
        assert torch.allclose(one, two, atol=1e-4), (t, t_mid, t_next)


def test_the_teachers_two_steps_are_the_samplers_ddim_steps():
    schedule, net = make_schedule("cosine", 50), random_unet()
    noise = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        want = sample(ddim(eps_model(net, schedule, "v"), schedule, noise, steps=2))
    pairs = progressive_pairs(schedule, 1)  # one student step = the whole 2-step teacher run
    t, m, n = (torch.full((2,), int(v)) for v in pairs[0])
    assert int(n[0]) == -1
    target = progressive_target(net, schedule, noise, t, m, n)
    assert (target - want).abs().max() < 1e-3  # float32 here, float64 coefficients there


def test_grids_nest_and_ect_gaps_shrink_by_round():
    schedule = make_schedule("cosine", 1000)
    rows = progressive_pairs(schedule, 4)
    assert rows[:, 0].tolist() == [999, 749, 499, 249] and rows[-1, 2] == -1
    assert (rows[:, 0] > rows[:, 1]).all() and (rows[:, 1] > rows[:, 2]).all()
    t = torch.arange(1, 1000)
    sigma = edm_sigma(schedule)
    gaps = []
    for k in range(4):
        r = ect_earlier(schedule, t, k)
        assert (r < t).all() and (r >= -1).all()
        gaps.append(float((sigma[t] - torch.where(r >= 0, sigma[r.clamp(min=0)], 0.0)).median()))
    assert all(a > b for a, b in zip(gaps, gaps[1:])), gaps


@pytest.mark.parametrize("method", ["progressive", "ect"])
def test_distill_resumes_exactly_and_writes_self_describing_rounds(tmp_path, teacher_run, method):
    data, teacher = teacher_run
    extra = ["--method", method, "--start-steps", "8", "--target-steps", "2", "--rounds", "2", "--round-steps", "2",
             "--save-every", "1", "--sample-every", "2"]
    straight, split = str(tmp_path / "straight"), str(tmp_path / "split")
    distill(parse_args(flags(data, teacher, straight, *extra)))
    cfg = parse_args(flags(data, teacher, split, *extra))
    cfg.round_steps = 2
    import distill as module

    calls = {"n": 0}
    original = module._progressive_loss if method == "progressive" else module._ect_loss

    def stop_after_three(*a, **k):  # the run is killed mid-round 2: the next call raises as SIGTERM would
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return original(*a, **k)

    name = "_progressive_loss" if method == "progressive" else "_ect_loss"
    setattr(module, name, stop_after_three)
    try:
        assert distill(cfg) == 3
    finally:
        setattr(module, name, original)
    distill(parse_args(flags(data, teacher, split, "--resume")))
    a, b = load_file(os.path.join(straight, "model.safetensors")), load_file(os.path.join(split, "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a), "a resumed student differs"
    cfg_json = json.load(open(os.path.join(split, "config.json")))
    rounds = 2
    assert cfg_json["steps_trained"] == 2 * rounds
    assert cfg_json["distillation"]["method"] == method and cfg_json["distillation"]["teacher"] == teacher
    assert cfg_json["sampler"] == {"name": "ddim", "steps": 2, "eta": 0.0 if method == "progressive" else 1.0,
                                   "allowed_steps": [2] if method == "progressive" else [1, 2, 4]}
    kept = sorted(os.listdir(os.path.join(split, "rounds")))
    assert kept == (["0-4-steps", "1-2-steps"] if method == "progressive" else ["0-2-steps", "1-2-steps"])
    student = load_checkpoint(os.path.join(split, "rounds", kept[0]))
    assert student.prediction == "v" and student.config["distillation"]["round"] == 1
    assert [json.loads(r)["step"] for r in open(os.path.join(split, "log.jsonl"))] == [1, 2, 3, 4]
    assert os.path.exists(os.path.join(split, "samples", "step_000004.png"))
    t0 = load_file(os.path.join(teacher, "model.safetensors"))
    assert any(not torch.equal(t0[k], b[k]) for k in t0), "the student never moved from its teacher"


def test_bad_flags_say_what_is_allowed(tmp_path, teacher_run, capsys):
    for bad in (["--method", "gan"], ["--start-steps", "48"], ["--target-steps", "64"], ["--round-steps", "0"],
                ["--diffaugment", "rotate"], ["--adv-weight", "-1"]):
        with pytest.raises(SystemExit):
            parse_args(bad)
    assert "powers of two" in capsys.readouterr().err
    gan = tmp_path / "gan"
    gan.mkdir()
    (gan / "config.json").write_text("{}")
    with pytest.raises(SystemExit, match="no training state"):
        distill(parse_args(flags(teacher_run[0], teacher_run[1], str(tmp_path / "none"), "--resume")))


def test_generate_py_samples_a_student_as_it_was_made_and_refuses_the_rest(tmp_path, capsys):
    from generate import main as generate_main
    from helpers import TINY
    from lab.checkpoint import save_checkpoint

    ck = str(tmp_path / "student")
    save_checkpoint(ck, random_unet(std=0.05), TINY, "cosine", 50, "v", extra={
        "distillation": {"method": "progressive"}, "sampler": {"name": "ddim", "steps": 2, "eta": 0.0}})
    assert generate_main(["--checkpoint", ck, "--n", "3", "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    assert sorted(os.listdir(tmp_path / "out")) == ["1.jpg", "2.jpg", "3.jpg"]
    assert generate_main(["--checkpoint", ck, "--n", "3", "--out", str(tmp_path / "other"), "--no-progress",
                          "--sampler", "dpm-solver"]) == 2
    assert "this distilled student takes DDIM at 2 steps only, not DPM-Solver++" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "other") or not os.listdir(tmp_path / "other")


def test_ddim_run_is_the_apps_ddim_sampler_with_gradients():
    from training.adversarial import ddim_run

    schedule, net = make_schedule("cosine", 50), random_unet(std=0.05)
    noise = torch.randn(2, 3, 16, 16)
    with torch.no_grad():
        want = sample(ddim(eps_model(net, schedule, "v"), schedule, noise, steps=2))
    got = ddim_run(net, schedule, noise, 2)
    assert (got - want).abs().max() < 1e-3  # the sampler divides by √ᾱ ≈ 0.006 at t = T-1: float32 rounding
    got.pow(2).mean().backward()  # through both steps: every layer of the student gets a gradient
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in net.parameters() if p.requires_grad)


@contextmanager
def interrupted_at(call: int):
    """The adversarial round's `call`-th step raises KeyboardInterrupt (a Ctrl-C mid-run), then all is as before."""
    from training import adversarial

    original, calls = adversarial.AdversarialRound.step, {"n": 0}

    def step(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == call:
            raise KeyboardInterrupt
        return original(self, *a, **k)

    adversarial.AdversarialRound.step = step
    try:
        yield
    finally:
        adversarial.AdversarialRound.step = original


def test_adversarial_round_resumes_exactly_with_its_discriminator(tmp_path, teacher_run):
    """--method adversarial: a student and a discriminator trained together; killed mid-run and resumed, both
    end as in one straight run; the student records its lineage and the steps it takes."""
    import distill as module

    data, teacher = teacher_run
    extra = ["--method", "adversarial", "--target-steps", "2", "--round-steps", "4", "--save-every", "1",
             "--sample-every", "4", "--r1-every", "2", "--d-channels", "16", "--lr", "1e-3"]
    straight, split = str(tmp_path / "straight"), str(tmp_path / "split")
    distill(parse_args(flags(data, teacher, straight, *extra)))
    with interrupted_at(3):
        assert distill(parse_args(flags(data, teacher, split, *extra))) == 2
    distill(parse_args(flags(data, teacher, split, "--resume")))
    for name in ("model.safetensors", os.path.join("training_state", "state.safetensors")):
        a, b = load_file(os.path.join(straight, name)), load_file(os.path.join(split, name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a if not k.startswith("rng")), name
    state = load_file(os.path.join(split, "training_state", "state.safetensors"))
    assert any(k.startswith("disc.") for k in state) and any(k.startswith("dopt.") for k in state)
    cfg_json = json.load(open(os.path.join(split, "config.json")))
    assert cfg_json["distillation"]["method"] == "adversarial" and cfg_json["distillation"]["teacher"] == teacher
    assert cfg_json["sampler"] == {"name": "ddim", "steps": 2, "eta": 0.0, "allowed_steps": [2]}
    rows = [json.loads(r) for r in open(os.path.join(split, "log.jsonl"))]
    assert [r["step"] for r in rows] == [1, 2, 3, 4] and all("anchor_mse" in r and "loss_d" in r for r in rows)
    t0 = load_file(os.path.join(teacher, "model.safetensors"))
    b = load_file(os.path.join(split, "model.safetensors"))
    assert any(not torch.equal(t0[k], b[k]) for k in t0), "the student never moved"
    assert module.METHODS[-1] == "adversarial"


def test_adversarial_round_refuses_a_start_made_for_other_steps(tmp_path, teacher_run):
    from helpers import TINY
    from lab.checkpoint import save_checkpoint

    start = str(tmp_path / "four-step")
    save_checkpoint(start, random_unet(std=0.05), TINY, "cosine", 50, "v", extra={
        "distillation": {"method": "progressive", "teacher": "t"}, "sampler": {"name": "ddim", "steps": 4}})
    with pytest.raises(SystemExit, match="made for 4 steps: pass --target-steps 4"):
        distill(parse_args(flags(teacher_run[0], start, str(tmp_path / "adv"), "--method", "adversarial")))


def test_cpu_hours_follow_the_threads_a_resumed_run_changed(tmp_path):
    from helpers import bench_script

    students = bench_script("students")
    run = tmp_path / "run"
    (run / "rounds" / "0-4-steps").mkdir(parents=True)
    rows = [{"step": 10, "steps_per_s": 0.1}, {"step": 20, "steps_per_s": 1.0}, {"step": 30, "steps_per_s": 1.0,
                                                                                 "threads": 4}]
    (run / "log.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    student = str(run / "rounds" / "0-4-steps")
    # 100 s on 1 thread, then 10 s on 2 (from step 11), then 10 s on the 4 the log itself records
    assert students.cpu_hours(student, 30, students.thread_plan("1@0,2@11")) * 3600 == pytest.approx(100 + 20 + 40)
    assert students.cpu_hours(student, 20, 1) * 3600 == pytest.approx(110)
    with pytest.raises(ValueError, match="THREADS@STEP"):
        students.thread_plan("two")


def test_the_discriminator_warms_up_alone_before_the_student_moves(tmp_path, teacher_run):
    """--d-warmup N: the first N steps of the adversarial round train only the discriminator (a fresh one finds
    nothing for thousands of image views); the student is the start until then, and moves after."""

    data, teacher = teacher_run
    out = str(tmp_path / "warm")
    extra = ["--method", "adversarial", "--target-steps", "2", "--round-steps", "4", "--d-warmup", "2",
             "--save-every", "1", "--sample-every", "4", "--d-channels", "16", "--lr", "1e-3"]
    with interrupted_at(3):  # Ctrl-C in the step after the warm-up: the save holds the warm-up's end
        distill(parse_args(flags(data, teacher, out, *extra)))
    start, state = load_file(os.path.join(teacher, "model.safetensors")), load_file(
        os.path.join(out, "training_state", "state.safetensors"))
    assert all(torch.equal(start[k], state["model." + k]) for k in start), "the student moved during the warm-up"
    distill(parse_args(flags(data, teacher, out, "--resume")))
    moved = load_file(os.path.join(out, "model.safetensors"))
    assert any(not torch.equal(start[k], moved[k]) for k in start), "the student never moved after the warm-up"
    rows = [json.loads(r) for r in open(os.path.join(out, "log.jsonl"))]
    assert [r.get("warmup", False) for r in rows] == [True, True, False, False]
    assert [r["lr"] for r in rows] == pytest.approx([1e-3, 1e-3, 1e-3, 5e-4])  # falls over the student's steps
    assert all("loss_d" in r and ("loss" in r) == ("anchor_mse" in r) == (not r.get("warmup")) for r in rows)
    assert os.path.isfile(os.path.join(out, "loss.png"))
    with pytest.raises(SystemExit):
        parse_args(flags(data, teacher, out, "--method", "adversarial", "--round-steps", "4", "--d-warmup", "4"))
