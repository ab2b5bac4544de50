"""Time to the first image on screen: start `app.py`, open it in headless Chromium, click Generate at its
default settings and wait until the gallery shows an image. A fresh page for every run; the first run is
the first request the server sees.

    python bench/first_image.py [--runs 5] [--chromium /usr/bin/chromium]
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    args = p.parse_args()
    from playwright.sync_api import expect, sync_playwright

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False"}
    t_start = time.perf_counter()
    app = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/"
    try:
        while True:
            try:
                urllib.request.urlopen(url, timeout=2)
                break
            except OSError:
                if app.poll() is not None:
                    sys.exit("app.py exited before serving")
                time.sleep(0.2)
        print(f"app serving after {time.perf_counter() - t_start:.1f} s (imports and model load)")
        times = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for run in range(args.runs):
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url)
                expect(page.locator("#gen-run")).to_be_visible()
                t0 = time.perf_counter()
                page.locator("#gen-run").click()
                # the gallery already shows seeds 0-7 on load: wait for this click's result (its summary line)
                expect(page.locator("#gen-info")).to_contain_text("network evaluations", timeout=60_000)
                expect(page.locator("#gen-gallery img").first).to_be_visible(timeout=60_000)
                times.append(time.perf_counter() - t0)
                info = page.locator("#gen-info").inner_text()
                print(f"run {run + 1}: {times[-1]:.2f} s from click to first image ({info})")
                page.close()
            browser.close()
        print(f"first request {times[0]:.2f} s; median of all {statistics.median(times):.2f} s; "
              f"min {min(times):.2f} s")
    finally:
        app.terminate()
        app.wait(timeout=30)


if __name__ == "__main__":
    main()
