"""Time to the first image on screen: start `app.py`, open it in headless Chromium, click Generate at its
default settings and wait until the gallery shows an image. A fresh page for every run; the first run is
the first request the server sees.

    python bench/first_image.py [--runs 5] [--chromium /usr/bin/chromium]     # Generate streams seed 0's face first
    python bench/first_image.py --tab playground      # the 2-D playground's default view (a shipped model)
    python bench/first_image.py --query checkpoint=anime-64-fast   # Generate on another checkpoint, by its link
"""
from __future__ import annotations

import argparse
import statistics
import time

from demo.serve import start_app

# tab → (its link, run button, the element that says this click's result is in, its text, the first picture)
# (Generate keys on its run's own summary, "8 image(s), seeds …": the first view's caption names steps too)
TABS = {"generate": ("", "#gen-run", "#gen-info", "image(s), seeds", "#gen-gallery img"),
        "playground": ("?tab=playground", "#pg-run", "#pg-status", "sliced Wasserstein", "#pg-views img")}


FIRST_PICTURE = """([button, picture]) => new Promise(resolve => {
  const shown = () => [...document.querySelectorAll(picture)];
  const before = shown().map(i => i.src).join("|");
  const t0 = performance.now();
  document.querySelector(button).click();
  const poll = () => {
    const now = shown();
    if (now.length && now.map(i => i.src).join("|") !== before && now[0].complete && now[0].naturalWidth > 0)
      resolve(performance.now() - t0);
    else requestAnimationFrame(poll);
  };
  requestAnimationFrame(poll);
})"""


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=5)
    p.add_argument("--chromium", default="/usr/bin/chromium")
    p.add_argument("--tab", choices=tuple(TABS), default="generate")
    p.add_argument("--query", default="", help="link parameters for the page, e.g. checkpoint=anime-64-fast")
    args = p.parse_args()
    from playwright.sync_api import expect, sync_playwright

    t_start = time.perf_counter()
    app, url = start_app()
    try:
        print(f"app serving after {time.perf_counter() - t_start:.1f} s (imports and model load)")
        times = []
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=args.chromium, headless=True,
                                         args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
            for run in range(args.runs):
                link, run_button, result, text, picture = TABS[args.tab]
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                page.goto(url + (link + ("&" if link else "?") + args.query if args.query else link))
                expect(page.locator(run_button)).to_be_visible()
                if args.query:  # the link's values arrive after the page: a click before them runs the defaults
                    page.wait_for_timeout(2000)
                t0 = time.perf_counter()
                # the first new picture, timed inside the page: the click, then every frame until the pictures
                # differ from what was there (Generate shows seeds 0-7 on load) and the first is decoded
                if args.tab == "generate":
                    first = page.evaluate(FIRST_PICTURE, [run_button, picture]) / 1000
                else:
                    page.locator(run_button).click()
                # then this click's whole result (its summary)
                expect(page.locator(result)).to_contain_text(text, timeout=60_000)
                expect(page.locator(picture).first).to_be_visible(timeout=60_000)
                times.append(first if args.tab == "generate" else time.perf_counter() - t0)
                first = times[-1]
                info = page.locator(result).inner_text()
                print(f"run {run + 1}: {first:.2f} s from click to first image, {time.perf_counter() - t0:.2f} s to "
                      f"the whole result ({info})")
                page.close()
            browser.close()
        print(f"first request {times[0]:.2f} s; median of all {statistics.median(times):.2f} s; "
              f"min {min(times):.2f} s")
    finally:
        app.terminate()
        app.wait(timeout=30)


if __name__ == "__main__":
    main()
