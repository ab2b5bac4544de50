"""The app as a visitor meets it: `python app.py` on a free local port, called through gradio_client (every
api_name, bad inputs, and the next request still served) and driven in headless Chromium (every tab).

The browser test needs Debian's chromium (.ci/run installs it); outside CI it is skipped where absent.
SCREENSHOT_DIR=docs saves a screenshot of every tab there (the README's pictures).
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
import zipfile

import numpy as np
import pytest
from PIL import Image

from test_app_generate import needs_default

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = needs_default


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def app_url(tmp_path_factory):
    port = free_port()
    env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False",
           "GRADIO_TEMP_DIR": str(tmp_path_factory.mktemp("gradio"))}
    log = open(tmp_path_factory.mktemp("log") / "app.log", "w+")
    proc = subprocess.Popen([sys.executable, "app.py", "--port", str(port)], cwd=ROOT, env=env, stdout=log,
                            stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.time() + 120
    while True:
        try:
            urllib.request.urlopen(url, timeout=2)
            break
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                log.seek(0)
                pytest.fail(f"app did not start: {log.read()[-3000:]}")
            time.sleep(0.5)
    yield url
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def client(app_url):
    from gradio_client import Client

    return Client(app_url, verbose=False, analytics_enabled=False)


def test_every_api_name_through_gradio_client(client, tmp_path):
    from gradio_client import handle_file

    gallery, info, seed = client.predict(5, 2, "DDIM", 3, 0.0, "anime-64", False, 1.0, api_name="/generate")
    assert seed == 5 and len(gallery) == 2 and "seeds 5–6" in info
    assert Image.open(gallery[0]["image"]).size == (64, 64)

    live, status, gif, fig, scrub = client.predict(0, 2, "DDIM", 3, 0.0, "anime-64", api_name="/denoise")
    assert "done" in status and gif.endswith(".gif") and os.path.isfile(fig)

    grid, table, plot, quality = client.predict(0, "2,3", "0,1", False, "anime-64", api_name="/compare")
    assert Image.open(grid).size == (90 + 2 * 196 - 4, 24 + 2 * 196 - 4) and "| 0 |" in table
    assert quality and Image.open(quality).size[0] > 300  # the shipped checkpoint's quality-vs-steps plot

    slerp, lerp, gif = client.predict(0, 1, 3, 2, "anime-64", 1.0, api_name="/interpolate")
    assert Image.open(slerp).size[0] > Image.open(slerp).size[1] and gif.endswith(".gif")

    face = tmp_path / "face.png"
    Image.fromarray(np.full((64, 64, 3), 200, np.uint8)).save(face)
    shown, afd = client.predict([handle_file(str(face))], 0, 1, "lbpcascade (OpenCV)", "anime-64", api_name="/detect")
    assert len(shown) == 1 and "AFD rate: 0/1" in afd

    zip_path, binfo, preview = client.predict(3, 0, "DPM-Solver++", 2, 0.0, "anime-64", False, "Best available", 1.0,
                                              api_name="/batch")
    assert zipfile.ZipFile(zip_path).namelist() == ["1.jpg", "2.jpg", "3.jpg"] and len(preview) == 3

    if os.path.isfile(os.path.join(ROOT, "checkpoints", "stylegan-64", "model.safetensors")):
        grid, table = client.predict(2, 0, 3, False, "lbpcascade (OpenCV)", api_name="/versus")
        assert os.path.isfile(grid) and "| DDIM 3 |" in table and "| StyleGAN |" in table
        gallery, info, _ = client.predict(0, 2, "DDIM", 3, 0.0, "stylegan-64", False, 0.7, api_name="/generate")
        assert len(gallery) == 2 and "StyleGAN" in info


def test_every_endpoint_answers_at_its_defaults(client):
    """client.predict(api_name=...) with no arguments works as the UI's default values do."""
    api = client.view_api(print_info=False, return_format="dict")
    required = {name: [p["parameter_name"] for p in ep["parameters"] if not p["parameter_has_default"]]
                for name, ep in api["named_endpoints"].items()}
    assert {"/generate", "/detect", "/batch"} <= set(required) and not any(required.values()), required
    shown, afd = client.predict(api_name="/detect")  # nothing uploaded: 16 generated faces
    assert len(shown) == 16 and "AFD rate" in afd


def test_bad_inputs_are_errors_and_the_app_keeps_serving(client, tmp_path):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    text = tmp_path / "notes.png"
    text.write_text("not an image")
    # every message names its parameter and what is allowed (our checks, not Gradio's unnamed range errors)
    for args, api, match in [
        ((0, 1, "DDIM", 0, 0.0, "anime-64", False, 1.0), "/generate", "steps must be a whole number from 1 to 1000"),
        ((0, 1, "DDIM", 10**6, 0.0, "anime-64", False, 1.0), "/generate", "steps must be a whole number from 1 to"),
        ((0, 1, "DDIM", 2.5, 0.0, "anime-64", False, 1.0), "/generate", "steps must be a whole number .* got 2.5"),
        ((0, 1, "DDIM", 10, 2.0, "anime-64", False, 1.0), "/generate", "eta must be a number from 0 to 1"),
        ((0, 10**6, "DDIM", 10, 0.0, "anime-64", False, 1.0), "/generate", "number of images must be a whole number"),
        ((0, 1, "DDIM", 2.5, 0.0, "anime-64"), "/denoise", "steps must be a whole number .* got 2.5"),
        ((-5, 1, "DDIM", 10, 0.0, "anime-64", False, 1.0), "/generate", "seed must be a whole number from 0 to"),
        ((0, 1, "DDIM", 10, 0.0, "nope", False, 1.0), "/generate", r"not in the list of choices: \["),
        ((0, 1, "DDIM", 10, 0.0, "stylegan-64", False, 3.0), "/generate", "truncation psi must be a number from 0"),
        ((10**6, 0, "DPM-Solver++", 20, 0.0, "anime-64", False, "Best available", 1.0), "/batch",
         "number of images must be a whole number from 1 to 1000"),
        ((0, "0,5", "0", False, "anime-64"), "/compare", "steps must be a whole number from 1 to 1000"),
        (([handle_file(str(text))], 0, 1, "lbpcascade (OpenCV)", "anime-64"), "/detect",
         "notes.png is not a readable image"),
    ]:
        with pytest.raises(AppError, match=match):
            client.predict(*args, api_name=api)
    _, info, _ = client.predict(1, 1, "DDIM", 2, 0.0, "anime-64", False, 1.0, api_name="/generate")
    assert "seeds 1–1" in info


def raw_call(url: str, api: str, data_json: str, language: str = "en-US") -> str:
    """POST a request body as raw JSON text (NaN and Infinity, which no JSON library sends) and read the
    event stream of its result."""
    import json

    req = urllib.request.Request(f"{url}gradio_api/call/{api}", data=f'{{"data": {data_json}}}'.encode(),
                                 headers={"Content-Type": "application/json", "Accept-Language": language})
    event_id = json.load(urllib.request.urlopen(req, timeout=30))["event_id"]
    with urllib.request.urlopen(f"{url}gradio_api/call/{api}/{event_id}", timeout=60) as r:
        return r.read().decode()


def test_nan_and_infinity_sent_as_raw_json_get_a_sentence(app_url):
    for bad in ("NaN", "Infinity", "-Infinity"):
        body = raw_call(app_url, "generate", f'[{bad}, 1, "DDIM", 2, 0.0, "anime-64", false, 1.0]')
        assert "event: error" in body and "seed must be a whole number from 0 to" in body, body[-500:]
    body = raw_call(app_url, "generate", '[0, 1, "DDIM", NaN, 0.0, "anime-64", false, 1.0]')
    assert "steps must be a whole number from 1 to 1000, got nan" in body, body[-500:]
    # a Chinese browser gets the message in Chinese
    body = raw_call(app_url, "generate", '[0, 1, "DDIM", 0, 0.0, "anime-64", false, 1.0]', "zh-TW,zh;q=0.9")
    import json

    data = [json.loads(line[len("data: "):]) for line in body.splitlines() if line.startswith("data: ")]
    assert "步數必須是 1 到 1000 之間的整數，收到的是 0" in json.dumps(data, ensure_ascii=False), body[-500:]
    # … and so is the summary of a run that works
    body = raw_call(app_url, "generate", '[0, 1, "DDIM", 2, 0.0, "anime-64", false, 1.0]', "zh-TW,zh;q=0.9")
    data = [json.loads(line[len("data: "):]) for line in body.splitlines() if line.startswith("data: ")]
    assert "1 張圖，種子 0–0，DDIM 2 次網路運算" in data[-1][1], body[-500:]


@pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_every_tab_in_headless_chromium(app_url):
    from playwright.sync_api import expect, sync_playwright

    shots = os.environ.get("SCREENSHOT_DIR")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                                           "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app_url)

        def tab(name):
            page.get_by_role("tab", name=name).click()

        def fill(elem_id, value):
            box = page.locator(f"#{elem_id} input[type=number], #{elem_id} textarea, #{elem_id} input[type=text]").first
            box.fill(str(value))
            box.press("Enter" if elem_id != "cmp-steps" else "Tab")

        def loaded(where, selector):  # every image of a gallery decoded (not just its <img> element present)
            where.wait_for_function(
                "s => { const a = [...document.querySelectorAll(s)]; "
                "return a.length > 0 && a.every(i => i.complete && i.naturalWidth > 0); }", arg=selector,
                timeout=30_000)

        def shot(name):
            if shots:
                os.makedirs(shots, exist_ok=True)
                page.screenshot(path=os.path.join(shots, f"app_{name}.png"), full_page=True)

        # Generate shows faces on first load, without a click; then, at its defaults, the time from a click to
        # its result on screen
        expect(page.locator("#gen-gallery img")).to_have_count(8, timeout=30_000)
        t0 = time.perf_counter()
        page.locator("#gen-run").click()
        expect(page.locator("#gen-info")).to_contain_text("image(s), seeds", timeout=60_000)
        expect(page.locator("#gen-gallery img").first).to_be_visible(timeout=60_000)
        print(f"\ntime to first image (default Generate settings): {time.perf_counter() - t0:.2f} s")
        expect(page.locator("#gen-gallery img")).to_have_count(8)
        loaded(page, "#gen-gallery img")
        expect(page.locator("#gen-info")).to_contain_text("network evaluations")
        shot("generate")

        tab("Forward process")  # at its defaults
        page.locator("#fw-run").click()
        expect(page.locator("#fw-info")).to_contain_text("the same in every cell", timeout=60_000)
        expect(page.locator("#fw-grid img")).to_be_visible()
        expect(page.locator("#fw-plot img")).to_be_visible()
        shot("forward")

        tab("Denoising")
        fill("den-steps", 20)
        page.locator("#den-run").click()
        expect(page.locator("#den-status")).to_contain_text("done", timeout=120_000)
        expect(page.locator("#den-fig img")).to_be_visible()
        expect(page.locator("#den-gif a").first).to_be_visible()
        shot("denoising")

        tab("DDIM compare")
        fill("cmp-steps", "5,10,20")
        page.locator("#cmp-ddpm input[type=checkbox]").uncheck()
        page.locator("#cmp-run").click()
        expect(page.locator("#cmp-plot img")).to_be_visible(timeout=120_000)
        expect(page.locator("#cmp-grid img")).to_be_visible()
        shot("compare")

        tab("Interpolation")
        page.locator("#itp-run").click()
        expect(page.locator("#itp-slerp img")).to_be_visible(timeout=120_000)
        expect(page.locator("#itp-gif a").first).to_be_visible()
        shot("interpolation")

        tab("Detect (AFD)")
        fill("afd-num", 8)
        page.locator("#afd-run").click()
        expect(page.locator("#afd-info")).to_contain_text("AFD rate", timeout=120_000)
        expect(page.locator("#afd-gallery img")).to_have_count(8)
        loaded(page, "#afd-gallery img")
        shot("detect")

        tab("Batch")
        fill("batch-num", 24)
        page.locator("#batch-run").click()
        expect(page.locator("#batch-info")).to_contain_text("AFD rate", timeout=300_000)
        expect(page.locator("#batch-zip a").first).to_have_attribute("download", "faces_24.zip")
        expect(page.locator("#batch-preview img")).to_have_count(16)
        loaded(page, "#batch-preview img")
        shot("batch")

        # a browser set to Traditional Chinese sees the app in it (and English stays English)
        zh = browser.new_context(locale="zh-TW", viewport={"width": 1280, "height": 800}).new_page()
        zh.goto(app_url)
        expect(zh.get_by_role("tab", name="去噪過程")).to_be_visible(timeout=30_000)
        expect(zh.get_by_role("tab", name="前向過程")).to_be_visible()
        expect(zh.locator("#gen-run")).to_have_text("生成")
        zh.locator("#gen-run").click()
        expect(zh.locator("#gen-info")).to_contain_text("張圖，種子 0–7", timeout=60_000)  # the run's summary too
        expect(zh.locator("#checkpoint input").first).to_have_value(re.compile("雙樣本分數|^anime-64$"))
        zh.get_by_role("tab", name="前向過程").click()  # explanations and choices too (the value sent stays English)
        expect(zh.get_by_text("前向過程以封閉形式加入高斯雜訊")).to_be_visible()
        expect(zh.get_by_text("生成的人臉", exact=True)).to_be_visible()
        zh.get_by_role("tab", name="生成").click()
        if shots:
            zh.wait_for_timeout(1500)  # the gallery's fade-out while it updates
            zh.screenshot(path=os.path.join(shots, "app_generate_zh-TW.png"), full_page=True)
        zh.close()

        # a phone (390x844): the gallery shows all its images inside the screen, and a table keeps its rows on
        # one line each (it scrolls sideways instead of wrapping a digit per line)
        phone = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                    has_touch=True).new_page()
        phone.goto(app_url)
        expect(phone.locator("#gen-gallery img")).to_have_count(8, timeout=30_000)
        loaded(phone, "#gen-gallery img")
        for img in phone.locator("#gen-gallery img").all():
            box = img.bounding_box()
            assert box and box["width"] >= 40 and box["x"] >= 0 and box["x"] + box["width"] <= 391, box
        if shots:
            phone.screenshot(path=os.path.join(shots, "app_phone_generate.png"), full_page=True)
        phone.goto(app_url + "?tab=compare&steps=2,3,4,5,6&etas=0,0.5,1&ddpm=false")
        phone.locator("#cmp-run").click()
        expect(phone.locator("#cmp-table td").first).to_be_visible(timeout=120_000)
        heights = [c.bounding_box()["height"] for c in phone.locator("#cmp-table td").all()]
        assert len(heights) == 3 * 7 and max(heights) < 48, heights  # eta, 5 steps, the default student
        expect(phone.locator("#cmp-grid img")).to_be_visible()
        grid = phone.locator("#cmp-grid img").bounding_box()
        assert grid["width"] <= 391
        icons = phone.locator("#cmp-grid .icon-button-wrapper").first.bounding_box()  # not over the step labels
        assert icons is None or icons["y"] + icons["height"] <= grid["y"] + 1, (icons, grid)
        if shots:
            phone.locator("#cmp-table").scroll_into_view_if_needed()
            phone.wait_for_timeout(1000)  # the scroll settles before the picture
            phone.screenshot(path=os.path.join(shots, "app_phone_compare.png"))
        phone.close()
        expect(page.get_by_role("tab", name="Denoising")).to_be_visible()

        # the projector view: light theme, large type, the main output on screen without scrolling at 1280x800
        wall = browser.new_context(viewport={"width": 1280, "height": 800}, color_scheme="dark").new_page()
        wall.goto(app_url + "?present=1")
        expect(wall.locator("body.present")).to_have_count(1, timeout=30_000)
        expect(wall.locator("#gen-gallery img")).to_have_count(8, timeout=30_000)
        box = wall.locator("#gen-gallery").bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= 800, box
        assert wall.evaluate("document.body.classList.contains('dark')") is False
        if shots:
            wall.screenshot(path=os.path.join(shots, "app_present.png"))
        wall.close()

        # a link reproduces a view: the tab opens with the inputs set; bad values fall back with a notice
        page.goto(app_url + "?tab=denoise&seed=7&sampler=DDPM&steps=33&eta=0.5&num_images=99")
        expect(page.get_by_role("tab", name="Denoising")).to_have_attribute("aria-selected", "true", timeout=30_000)
        expect(page.locator("#den-steps input[type=number]")).to_have_value("33")
        expect(page.locator("#link-notice")).to_contain_text("num_images must be a whole number from 1 to 8")
        page.locator("#denoise-link-make").click()
        expect(page.locator("#denoise-link textarea, #denoise-link input").first).to_have_value(
            re.compile(r"\?tab=denoise&seed=7&num_images=5&sampler=DDPM&steps=33&eta=0.5&checkpoint=anime-64"))

        if os.path.isfile(os.path.join(ROOT, "checkpoints", "stylegan-64", "model.safetensors")):
            page.goto(app_url)
            tab("Diffusion vs GAN")
            page.locator("#vs-ddpm input[type=checkbox]").uncheck()  # DDPM's 1000 steps are for the classroom
            page.locator("#vs-run").click()
            expect(page.locator("#vs-table")).to_contain_text("StyleGAN", timeout=120_000)
            expect(page.locator("#vs-grid img")).to_be_visible()
            shot("versus")
        browser.close()


@pytest.mark.skipif(not os.path.exists(CHROMIUM) and not os.environ.get("CI"),
                    reason="Debian's chromium is not installed (.ci/run installs it)")
def test_the_playground_in_headless_chromium(app_url, client):
    """The 2-D playground at its defaults on a desktop, and a typed word trained live on a phone in 繁體中文."""
    from playwright.sync_api import expect, sync_playwright

    views, fit, gif, summary = client.predict(api_name="/playground")  # the API at its defaults
    assert os.path.isfile(views) and os.path.isfile(fit) and "sliced Wasserstein" in summary
    shots = os.environ.get("SCREENSHOT_DIR")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True,
                                     args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.goto(app_url + "?tab=playground")
        page.locator("#pg-run").click()
        expect(page.locator("#pg-status")).to_contain_text("sliced Wasserstein", timeout=60_000)
        for elem in ("#pg-views img", "#pg-fit img", "#pg-gif img"):
            expect(page.locator(elem)).to_be_visible(timeout=60_000)
        if shots:
            page.screenshot(path=os.path.join(shots, "app_playground.png"), full_page=True)
        phone = browser.new_context(locale="zh-TW", viewport={"width": 390, "height": 844}, is_mobile=True,
                                    has_touch=True).new_page()
        phone.goto(app_url + "?tab=playground&data=word&word=%E6%93%B4%E6%95%A3&train=true&sampler=DPM-Solver%2B%2B")
        expect(phone.get_by_role("tab", name="2D 遊樂場")).to_be_visible(timeout=30_000)
        phone.locator("#pg-run").click()
        expect(phone.locator("#pg-status")).to_contain_text("剛剛訓練", timeout=120_000)
        expect(phone.locator("#pg-views img")).to_be_visible()
        box = phone.locator("#pg-views img").bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 391, box
        if shots:
            phone.locator("#pg-views").scroll_into_view_if_needed()
            phone.screenshot(path=os.path.join(shots, "app_phone_playground_zh-TW.png"))
        browser.close()
