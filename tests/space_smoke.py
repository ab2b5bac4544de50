"""The app started exactly as a Hugging Face Space starts it, checked from outside as a class would use it.

    python tests/space_smoke.py            # with the interpreter of an environment made of requirements.txt

A copy of the repository's tracked files with no ../shared beside it; `python app.py` with no flags and
GRADIO_SERVER_NAME=0.0.0.0, GRADIO_SERVER_PORT, SYSTEM=spaces, SPACE_ID, CPU_CORES=2 and a short CACHE_TTL.
Then, through gradio_client: every api_name answers; public limits hold; hostile uploads get one sentence
each and the app keeps serving with bounded memory; a cancelled Batch leaves the CPU idle within 2 s and the
next request runs at once; files made for responses are gone after the cache TTL. Plain asserts, no pytest,
so it runs where only the app's requirements are installed (.ci/run does that; tests/test_space.py runs it
under pytest too).
"""
from __future__ import annotations

import io
import os
import shutil
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TTL = 6


def copy_tracked(dest: str) -> None:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for path in filter(None, out.split("\0")):
        src = os.path.join(ROOT, path)
        if os.path.isfile(src):
            os.makedirs(os.path.dirname(os.path.join(dest, path)) or dest, exist_ok=True)
            shutil.copy2(src, os.path.join(dest, path))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def huge_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    comp = zlib.compressobj(9)
    row = b"\x00" * (width + 1)
    data = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", data) + chunk(b"IEND", b""))


def expect_error(client, args, api: str, text: str) -> None:
    from gradio_client.exceptions import AppError

    try:
        client.predict(*args, api_name=api)
    except AppError as e:
        assert text in str(e), f"{api}: expected {text!r}, got {e}"
        return
    raise AssertionError(f"{api} accepted {args!r}")


def cpu_seconds(proc) -> float:
    t = proc.cpu_times()
    return t.user + t.system + sum(c.cpu_times().user + c.cpu_times().system for c in proc.children(recursive=True))


def main() -> int:
    import psutil
    from gradio_client import Client, handle_file

    work = tempfile.mkdtemp(prefix="space-smoke-")
    clone, gradio_tmp = os.path.join(work, "app"), os.path.join(work, "gradio")
    copy_tracked(clone)
    assert not os.path.exists(os.path.join(work, "shared")), "no ../shared beside the clone"
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ANIME_", "LBPCASCADE", "AFD_", "GRADIO_"))}
    env.update(GRADIO_SERVER_NAME="0.0.0.0", GRADIO_SERVER_PORT=str(port), SYSTEM="spaces", SPACE_ID="lab/smoke",
               CPU_CORES="2", CACHE_TTL=str(TTL), GRADIO_TEMP_DIR=gradio_tmp, GRADIO_ANALYTICS_ENABLED="False",
               HOME=work)
    log = open(os.path.join(work, "app.log"), "w+")
    server = subprocess.Popen([sys.executable, "app.py"], cwd=clone, env=env, stdout=log, stderr=subprocess.STDOUT)
    proc = psutil.Process(server.pid)
    try:
        deadline = time.time() + 180
        while not any(c.laddr.port == port and c.laddr.ip == "0.0.0.0" and c.status == "LISTEN"
                      for c in proc.net_connections()):
            if server.poll() is not None or time.time() > deadline:
                log.seek(0)
                raise AssertionError(f"the app did not listen on 0.0.0.0:{port}:\n{log.read()[-3000:]}")
            time.sleep(0.5)
        client = Client(f"http://127.0.0.1:{port}/", verbose=False)
        print(f"listening on 0.0.0.0:{port} from GRADIO_SERVER_NAME/PORT, without ../shared")

        # every tab answers
        gallery, info, seed = client.predict(0, 2, "DPM-Solver++", 5, 0.0, "anime-64", False, 1.0, api_name="/generate")
        assert len(gallery) == 2 and "seeds 0–1" in info
        fgrid, fplot, finfo = client.predict("Generated face", 0, None, "0,500,999", 1000, 10, "trailing", "anime-64",
                                             api_name="/forward")
        assert fgrid and fplot and "generated from seed 0" in finfo
        expect_error(client, ("Training face", 0, None, "0,999", 1000, 10, "trailing", "anime-64"), "/forward",
                     "not in the list of choices")  # no ../shared on a Space: not offered
        live, status, gif, fig, scrub = client.predict(0, 2, "DDIM", 4, 0.0, "anime-64", api_name="/denoise")
        assert gif and fig and "done" in status
        grid, table, plot, quality = client.predict(0, "2,4", "0,1", False, "anime-64", api_name="/compare")
        assert grid and plot and "| eta" in table
        a, b, g = client.predict(0, 1, 3, 4, "anime-64", 1.0, api_name="/interpolate")
        assert a and b and g.endswith(".gif")
        shown, summary = client.predict(None, 0, 2, "lbpcascade (OpenCV)", "anime-64", api_name="/detect")
        assert "AFD rate" in summary and len(shown) == 2
        zip_path, bsum, preview = client.predict(3, 0, "DPM-Solver++", 4, 0.0, "anime-64", False, "Best available",
                                                 1.0, api_name="/batch")
        with zipfile.ZipFile(zip_path) as zf:
            assert zf.namelist() == ["1.jpg", "2.jpg", "3.jpg"]
        vgrid, vtable = client.predict(2, 0, 4, False, "lbpcascade (OpenCV)", api_name="/versus")
        assert "StyleGAN" in vtable and "DDPM" not in vtable.split("\n\n")[0]
        print("every api_name answered")

        # public limits
        expect_error(client, (0, 8, "DDPM", 10, 0.0, "anime-64", False, 1.0), "/generate", "DDPM (1000 steps per image) is limited to 4")
        expect_error(client, (0, "100,200,300,400", "0,0.5,1", True, "anime-64"), "/compare", "the limit here is")
        print("public limits hold")

        # hostile uploads: one sentence each, memory bounded, still serving
        rss0 = proc.memory_info().rss
        bombs = os.path.join(work, "bombs.zip")
        with zipfile.ZipFile(bombs, "w", zipfile.ZIP_DEFLATED) as zf:
            for i in range(4):
                zf.writestr(f"{i}.png", huge_png(12000, 12000))
        big = os.path.join(work, "big.png")
        with open(big, "wb") as f:
            f.write(huge_png(20000, 20000))
        crc = os.path.join(work, "crc.zip")
        buf = io.BytesIO()
        from PIL import Image

        Image.new("RGB", (64, 64), (200, 100, 50)).save(buf, "PNG")
        with zipfile.ZipFile(crc, "w", zipfile.ZIP_STORED) as zf:
            zf.writestr("a.png", buf.getvalue())
        with open(crc, "rb") as f:
            raw = bytearray(f.read())
        raw[raw.find(buf.getvalue()[60:80])] ^= 0xFF
        with open(crc, "wb") as f:
            f.write(bytes(raw))
        text = os.path.join(work, "notes.jpg")
        with open(text, "w") as f:
            f.write("not an image")
        t0 = time.time()
        for path, message in ((bombs, "is 12000x12000 pixels; images may have at most"),
                              (big, "megapixels; images may have at most"),
                              (crc, "cannot be read from its zip"), (text, "is not a readable image")):
            expect_error(client, ([handle_file(path)], 0, 1, "lbpcascade (OpenCV)", "anime-64"), "/detect", message)
        grown = (proc.memory_info().rss - rss0) / 2**20
        assert grown < 300, f"the app grew by {grown:.0f} MB on hostile uploads"
        assert time.time() - t0 < 30, "hostile uploads held the app too long"
        print(f"hostile uploads refused in {time.time() - t0:.1f} s, RSS +{grown:.0f} MB")

        # a cancelled Batch stops: CPU idle within 2 s, and the next request runs at once
        job = client.submit(1000, 0, "DPM-Solver++", 10, 0.0, "anime-64", False, "Best available", 1.0,
                            api_name="/batch")
        time.sleep(4)
        assert not job.done(), "the batch finished too soon to test cancelling"
        job.cancel()
        time.sleep(2)
        c0 = cpu_seconds(proc)
        time.sleep(2)
        busy = (cpu_seconds(proc) - c0) / 2
        assert busy < 0.3, f"after cancel the app still uses {busy:.2f} cores"
        t0 = time.time()
        client.predict(5, 1, "DPM-Solver++", 5, 0.0, "anime-64", False, 1.0, api_name="/generate")
        assert time.time() - t0 < 10, "the next request waited behind the cancelled batch"
        print(f"cancelled batch: {busy:.2f} cores 2-4 s after cancel; next request in {time.time() - t0:.1f} s")

        # files made for responses are gone after the TTL
        made = [os.path.join(dp, f) for root in (gradio_tmp,) for dp, _, fs in os.walk(root) for f in fs]
        assert made, "expected response files in the cache"
        time.sleep(TTL + TTL / 2 + 3)
        left = [p for p in made if os.path.exists(p)]
        assert not left, f"{len(left)} response files outlived the cache TTL of {TTL} s: {left[:3]}"
        print(f"{len(made)} response files deleted after the {TTL} s TTL")
        assert server.poll() is None, "the app stopped"
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.seek(0)
        tail = log.read()[-2000:]
        shutil.rmtree(work, ignore_errors=True)
    if "Traceback" in tail and "handler failed" not in tail:
        print(tail)
    print("space smoke test passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
