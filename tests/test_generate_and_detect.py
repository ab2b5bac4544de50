import os
import subprocess
import sys
import zipfile

import numpy as np
import pytest
from PIL import Image

from lab.checkpoint import save_checkpoint
from evaluation.detect import LbpCascadeDetector
from generate import main as generate_main
from helpers import TINY, random_unet, write_faces
from lab import paths

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASCADE = os.path.join(ROOT, "checkpoints", "lbpcascade_animeface.xml")  # shipped, MIT


@pytest.fixture(scope="module")
def tiny_checkpoint(tmp_path_factory):
    net = random_unet(std=0.05)
    path = str(tmp_path_factory.mktemp("ck") / "tiny")
    save_checkpoint(path, net, TINY, "cosine", 100, "v")
    return path


def test_generate_writes_hw6_format_byte_identically(tmp_path, tiny_checkpoint):
    common = ["--n", "7", "--checkpoint", tiny_checkpoint, "--steps", "3", "--seed", "5", "--no-progress"]
    assert generate_main(common + ["--out", str(tmp_path / "a"), "--batch-size", "3", "--zip", str(tmp_path / "a.zip")]) == 0
    assert generate_main(common + ["--out", str(tmp_path / "b"), "--batch-size", "7", "--zip", str(tmp_path / "b.zip")]) == 0
    assert sorted(os.listdir(tmp_path / "a"), key=lambda n: int(n[:-4])) == [f"{i}.jpg" for i in range(1, 8)]
    assert (tmp_path / "a.zip").read_bytes() == (tmp_path / "b.zip").read_bytes()
    assert zipfile.ZipFile(tmp_path / "a.zip").namelist() == [f"{i}.jpg" for i in range(1, 8)]
    with Image.open(tmp_path / "a" / "1.jpg") as im:
        assert im.size == (16, 16) and im.mode == "RGB"
    # image i comes from seed SEED+i-1: --seed 6 shifts every file by one
    assert generate_main(["--n", "2", "--checkpoint", tiny_checkpoint, "--steps", "3", "--seed", "6", "--no-progress",
                          "--out", str(tmp_path / "c")]) == 0
    assert (tmp_path / "c" / "1.jpg").read_bytes() == (tmp_path / "a" / "2.jpg").read_bytes()
    assert (tmp_path / "a" / "1.jpg").read_bytes() != (tmp_path / "a" / "2.jpg").read_bytes()


def test_out_holding_files_is_refused_unless_overwrite(tmp_path, tiny_checkpoint, capsys):
    common = ["--checkpoint", tiny_checkpoint, "--steps", "2", "--no-progress", "--out", str(tmp_path / "o")]
    assert generate_main(["--n", "5", *common]) == 0
    assert generate_main(["--n", "2", *common]) == 2
    assert "already holds 5 file(s)" in capsys.readouterr().err and len(os.listdir(tmp_path / "o")) == 5
    (tmp_path / "o" / "notes.txt").write_text("kept")
    assert generate_main(["--n", "2", "--overwrite", *common]) == 0
    assert sorted(os.listdir(tmp_path / "o")) == ["1.jpg", "2.jpg", "notes.txt"], "no stale 3.jpg … 5.jpg is left"


def test_accelerate_generate_splits_seeds_and_writes_the_same_bytes(tmp_path, tiny_checkpoint):
    common = ["--n", "7", "--checkpoint", tiny_checkpoint, "--steps", "3", "--sampler", "ddim", "--eta", "0.5",
              "--batch-size", "2", "--no-progress"]
    assert generate_main([*common, "--out", str(tmp_path / "one"), "--zip", str(tmp_path / "one.zip")]) == 0
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines",
           "1", "--mixed_precision", "no", "--dynamo_backend", "no", os.path.join(ROOT, "generate.py"), *common,
           "--out", str(tmp_path / "two"), "--zip", str(tmp_path / "two.zip")]
    res = subprocess.run(cmd, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "(2 processes)" in res.stdout
    assert sorted(os.listdir(tmp_path / "two")) == sorted(os.listdir(tmp_path / "one"))
    for name in os.listdir(tmp_path / "one"):
        assert (tmp_path / "one" / name).read_bytes() == (tmp_path / "two" / name).read_bytes(), name
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()


def test_generate_bad_arguments(tmp_path, tiny_checkpoint, capsys):
    out = ["--out", str(tmp_path / "x"), "--no-progress"]
    assert generate_main(["--checkpoint", tiny_checkpoint, "--steps", "0", *out]) == 2
    assert "steps must be a whole number from 1 to 100" in capsys.readouterr().err
    assert generate_main(["--checkpoint", tiny_checkpoint, "--sampler", "ddim", "--eta", "2", *out]) == 2
    assert "eta must be a number from 0 to 1" in capsys.readouterr().err
    assert generate_main(["--checkpoint", str(tmp_path / "missing"), *out]) == 2
    assert "No checkpoint folder" in capsys.readouterr().err
    for bad in (["--n", "0"], ["--n", "1000000"], ["--batch-size", "0"], ["--sampler", "euler"]):
        with pytest.raises(SystemExit):
            generate_main(["--checkpoint", tiny_checkpoint, *out, *bad])


def test_lbpcascade_finds_real_faces_not_noise():
    from lab.data import load_images

    det = LbpCascadeDetector(CASCADE)
    if not os.path.isdir(paths.FACES):
        pytest.skip("../shared/data is not beside the repo")
    real = load_images(paths.FACES, 64, limit=100, log=None)
    real = real.permute(0, 2, 3, 1).numpy()
    assert det.face_rate(real) >= 0.95
    noise = np.random.default_rng(0).integers(0, 256, (50, 64, 64, 3), dtype=np.uint8)
    assert det.face_rate(noise) == 0.0
    boxes = det.detect(np.ascontiguousarray(np.kron(real[0], np.ones((2, 2, 1), dtype=np.uint8))))  # 128x128
    assert boxes and all(0 <= x < 128 and 0 < w <= 128 for x, y, w, h in boxes)


def test_lbpcascade_missing_file_says_where(tmp_path):
    with pytest.raises(FileNotFoundError, match="lbpcascade_animeface.xml is not at .*download it"):
        LbpCascadeDetector(str(tmp_path / "none.xml"))
    with pytest.raises(ValueError, match="uint8 RGB"):
        LbpCascadeDetector(CASCADE).detect(np.zeros((8, 8), dtype=np.uint8))
    bad = tmp_path / "bad.xml"
    bad.write_text("<opencv_storage></opencv_storage>")
    with pytest.raises(ValueError, match="not a valid OpenCV cascade"):
        LbpCascadeDetector(str(bad))


def test_accelerate_two_cpu_processes(tmp_path):
    from test_train import TINY_FLAGS

    data = str(tmp_path / "faces")
    write_faces(data, n=16, size=16)
    out = str(tmp_path / "run")
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2", "--num_machines", "1",
           "--mixed_precision", "no", "--dynamo_backend", "no", os.path.join(ROOT, "train.py"),
           "--data", data, "--out", out, "--max-steps", "3", "--save-every", "3", *TINY_FLAGS]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    res = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    assert "2 process(es)" in res.stdout
    import json

    with open(os.path.join(out, "config.json")) as f:
        cfg = json.load(f)
    assert cfg["steps_trained"] == 3 and cfg["images_seen"] == 3 * 4 * 2


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_ctrl_c_saves_before_exiting(tmp_path, signame):
    import signal
    import time

    from test_train import TINY_FLAGS

    data = str(tmp_path / "faces")
    write_faces(data, n=16, size=16)
    out = str(tmp_path / "run")
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "train.py"), "--data", data, "--out", out,
                             "--max-steps", "100000", "--save-every", "100000", *TINY_FLAGS], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))  # as a background job
    log = os.path.join(out, "log.jsonl")
    deadline = time.time() + 120
    def rows() -> int:
        if not os.path.exists(log):
            return 0
        with open(log) as f:
            return len(f.readlines())

    while time.time() < deadline and rows() < 3:
        time.sleep(0.2)
    proc.send_signal(getattr(signal, signame))
    _, err = proc.communicate(timeout=60)
    assert "saved; continue with" in err, err[-2000:]
    import json

    from training.plumbing import read_training_state

    steps = read_training_state(out)[1]["step"]
    with open(os.path.join(out, "config.json")) as f:
        assert steps >= 3 and json.load(f)["steps_trained"] == steps
