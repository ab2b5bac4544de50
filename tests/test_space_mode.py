"""Public (Space) mode's pieces, without a server: the cores torch may use, the limits, the deadline, the
error wrapper, the response-file sweeper and the Denoise frame bound."""
import os
import time

import pytest

from demo import files, limits
from lab import cores


def test_granted_cores_follow_cpu_cores_then_the_machine(monkeypatch):
    monkeypatch.setenv("CPU_CORES", "2")
    assert cores.granted_cores() == 2
    monkeypatch.setenv("CPU_CORES", "bogus")
    monkeypatch.setattr(cores, "_cgroup_quota", lambda: 3)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: set(range(16)))
    monkeypatch.setattr(os, "cpu_count", lambda: 16)
    assert cores.granted_cores() == 3, "a 2-core Space can report 16 CPUs: the cgroup quota wins"
    monkeypatch.setattr(cores, "_cgroup_quota", lambda: None)
    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1})
    assert cores.granted_cores() == 2


def test_cgroup_quota_is_read_from_cpu_max(monkeypatch):
    reads = {"/sys/fs/cgroup/cpu.max": "150000 100000"}
    monkeypatch.setattr(cores, "_read", lambda path: reads.get(path))
    assert cores._cgroup_quota() == 2
    reads["/sys/fs/cgroup/cpu.max"] = "max 100000"
    assert cores._cgroup_quota() is None


def test_public_limits_refuse_before_any_work():
    public, local = limits.Limits.for_mode(True), limits.Limits.for_mode(False)
    assert not public.ddpm_by_default and local.ddpm_by_default
    public.check_cost(1000, 2, "this batch")  # the HW6 zip at the default 2-step student fits, five times over
    public.check_cost(1000, 10, "this batch")  # … and the teacher's at DPM-Solver++ 10 (about a minute here)
    with pytest.raises(ValueError, match="1000 images × 20 network evaluations = 20,000, above this machine's limit "
                                         "of 10,000 per run: ask for fewer images or steps"):
        public.check_cost(1000, 20, "this batch")  # the teacher's at 20 steps would hold the class's one slot 2 min
    local.check_cost(1000, 20, "this batch")
    with pytest.raises(ValueError, match="DDPM .* limited to 4 images per run here; this batch asked for 8"):
        public.check_cost(8, 1000, "this batch")
    with pytest.raises(ValueError, match="1000 images × 100 network evaluations = 100,000, above"):
        public.check_cost(1000, 100, "this batch")
    local.check_cost(64, 1000, "this request")


def test_deadline_stops_with_a_sentence():
    d = limits.Deadline(0.05)
    d.check()
    time.sleep(0.1)
    with pytest.raises(ValueError, match="stopped after 0 s, the time limit per job"):
        d.check()


def test_unexpected_errors_become_one_short_sentence(caplog):
    import gradio as gr

    from demo.common import UNCHANGED
    from demo.ui import as_gr_error

    def broken(x):
        return {}[x]

    with pytest.raises(gr.Error, match=r"Something went wrong on the server \(KeyError\); .* still running"):
        as_gr_error(broken)(1)
    assert "Traceback" in caplog.text or "KeyError" in caplog.text

    def stream(x):
        yield UNCHANGED, "working"
        raise ValueError("steps must be a whole number from 1 to 1000, got 0")

    gen = as_gr_error(stream)(0)
    first = next(gen)
    assert first[1] == "working" and first[0] == gr.skip()
    with pytest.raises(gr.Error, match="steps must be a whole number"):
        next(gen)


def test_sweeper_deletes_only_what_outlived_the_ttl(tmp_path):
    old, new, reused = tmp_path / "old", tmp_path / "new.zip", tmp_path / "0123abcd"
    old.mkdir()
    (old / "a.gif").write_bytes(b"x")
    new.write_bytes(b"x")
    reused.mkdir()
    (reused / "image.webp").write_bytes(b"x")
    past = time.time() - 100
    for path in (old / "a.gif", old, reused):
        os.utime(path, (past, past))
    # Gradio keeps an output under the hash of its bytes and rewrites (or touches) the file when the same image
    # is served again: the folder stays old, the file is fresh, and the page is about to fetch it
    assert files.sweep(50, str(tmp_path)) == 1
    assert sorted(os.listdir(tmp_path)) == ["0123abcd", "new.zip"]


def test_a_response_still_writes_after_the_sweeper_took_its_folder(tmp_path):
    folder = tmp_path / "playground-x"
    folder.mkdir()
    (folder / "views.png").write_bytes(b"x")  # sent already; the rest is still being computed
    past = time.time() - 100
    os.utime(folder / "views.png", (past, past))
    os.utime(folder, (past, past))
    assert files.sweep(50, str(tmp_path)) == 1 and not folder.exists()
    with open(files.writable(str(folder / "fit.png")), "wb") as f:
        f.write(b"y")
    assert (folder / "fit.png").read_bytes() == b"y"


def test_a_cached_image_served_again_is_never_read_short(tmp_path):
    """Gradio writes an output image that is already cached again in place, which empties it for a moment: a
    class fetching the same seeds got a body cut short. After cache_images_atomically, a reader racing a writer
    of the same image reads it whole every time (Gradio's own write: thousands of short reads in this loop)."""
    import threading

    import numpy as np
    from gradio import processing_utils as pu
    from PIL import Image

    from demo.ui import cache_images_atomically

    cache_images_atomically()
    image = Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), dtype=np.uint8))
    path = pu.save_pil_to_cache(image, str(tmp_path), format="png")
    size, inode = os.path.getsize(path), os.stat(path).st_ino
    assert os.path.basename(path) == "image.png" and size > 0
    stop, short = threading.Event(), []

    def writer():
        while not stop.is_set():
            assert pu.save_pil_to_cache(image, str(tmp_path), format="png") == path

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        for _ in range(5000):
            with open(path, "rb") as f:
                if len(f.read()) != size:
                    short.append(1)
    finally:
        stop.set()
        thread.join()
    assert not short and os.stat(path).st_ino == inode  # the same bytes: touched, never rewritten
    other = Image.fromarray(np.zeros((64, 64, 3), np.uint8))
    assert pu.save_pil_to_cache(other, str(tmp_path), format="png") != path
