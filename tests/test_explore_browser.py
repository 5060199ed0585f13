"""The explorer in a real browser: Debian's Chromium driven by Playwright, against
`python -m trainers.explore` on a free loopback port.

Screenshots of each panel go to $BIGAN_TF_SCREENSHOTS when set, else under the test's
temporary folder; $BIGAN_TF_EXPLORE_MODEL explores that MNIST run instead of the test's
one-epoch run (results/explore/ holds the screenshots of a 3-epoch MNIST BiGAN, made so). CI installs
Chromium (apt) and Playwright (pip) and sets CI=true: there a missing browser fails
the test instead of skipping it.
"""

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest
from PIL import Image

from conftest import REPO_ROOT, train_small_run

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def _browser_or_skip():
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = 'Playwright is not installed (pip install -e ".[browser]")'
    if CHROMIUM is None:
        reason = "Chromium is not installed (apt-get install chromium)"
    if reason and os.environ.get("CI"):
        pytest.fail(f"The browser test must run in CI: {reason}.")
    if reason:
        pytest.skip(reason)


@pytest.fixture(scope="module")
def server(small_mnist, mnist_dir, tmp_path_factory):
    _browser_or_skip()
    run = os.environ.get("BIGAN_TF_EXPLORE_MODEL")
    if not run:
        run = str(tmp_path_factory.mktemp("browser") / "run")
        train_small_run(small_mnist, run)
    log = tmp_path_factory.mktemp("log") / "server.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "trainers.explore",
            f"--model={run}",
            "--port=0",
            "--dataset=mnist",
            f"--data_dir={mnist_dir}",
            "--num_reference=300",
        ],
        cwd=REPO_ROOT,
        stdout=open(log, "w"),
        stderr=subprocess.STDOUT,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "CUDA_VISIBLE_DEVICES": ""},
    )
    url, deadline = None, time.time() + 300
    while url is None and time.time() < deadline:
        text = log.read_text() if log.exists() else ""
        for line in text.splitlines():
            if line.startswith("Exploring ") and " at http://" in line:
                url = line.split(" at ")[1].split(" ")[0]
        assert process.poll() is None, text[-3000:]
        time.sleep(0.2)
    assert url and url.startswith("http://127.0.0.1:"), log.read_text()[-3000:]
    yield url
    process.send_signal(2)  # Ctrl-C: a clean stop
    assert process.wait(timeout=60) == 0, log.read_text()[-3000:]
    assert "Stopped." in log.read_text()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    folder = os.environ.get("BIGAN_TF_SCREENSHOTS") or str(tmp_path_factory.mktemp("shots"))
    os.makedirs(folder, exist_ok=True)
    return folder


def _png(path, array):
    Image.fromarray(array).save(path)
    return str(path)


def test_the_page_in_chromium(server, shots, tmp_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1200, "height": 900})
        page.goto(server)
        # The samples grid appears by itself, labelled with its seed.
        page.wait_for_selector("#samples-out img", timeout=60000)
        assert "seed 0" in page.inner_text("#samples-out figcaption")
        assert "Model " in page.inner_text("#model-info")
        page.locator("#panel-samples").screenshot(path=f"{shots}/samples.png")
        first = page.get_attribute("#samples-out img", "src")
        page.click("#samples-new")
        page.wait_for_function(
            "src => document.querySelector('#samples-out img') && "
            "document.querySelector('#samples-out img').src !== src",
            arg=first,
            timeout=60000,
        )
        # Conditional panels are hidden with their reason.
        assert "not class-conditional" in page.inner_text("#panel-class_sweep")
        # An upload: its reconstruction and both neighbour sets.
        digit = (np.random.RandomState(0).rand(28, 28) * 255).astype(np.uint8)
        page.set_input_files("#encode-file", _png(tmp_path / "digit.png", digit))
        page.click("#encode-upload")
        page.wait_for_selector("#encode-out figure:nth-of-type(3) img", timeout=60000)
        text = page.inner_text("#encode-out")
        assert "reconstruction G(E(x))" in text and "raw pixels" in text
        page.locator("#panel-encode").screenshot(path=f"{shots}/encode.png")
        # A bad upload is a message; the next good request still works.
        (tmp_path / "notes.txt").write_text("not an image")
        page.set_input_files("#encode-file", str(tmp_path / "notes.txt"))
        page.click("#encode-upload")
        page.wait_for_selector("#encode-out .error", timeout=60000)
        assert "not an image" in page.inner_text("#encode-out .error")
        page.fill("#encode-index", "3")
        page.click("#encode-pick")
        page.wait_for_selector("#encode-out figure img", timeout=60000)
        assert "held-out image 3" in page.inner_text("#encode-out")
        # A list of uploads: the grid and a CSV of their codes to download.
        second = _png(tmp_path / "second.png", digit[::-1].copy())
        page.set_input_files("#list-files", [str(tmp_path / "digit.png"), second])
        page.click("#list-encode")
        page.wait_for_selector("#list-out a[download$='.csv']", timeout=60000)
        assert "2 images: digit.png, second.png" in page.inner_text("#list-out")
        # Interpolation with its slider, a sweep and an analogy.
        page.click("#interp-indices")
        page.wait_for_selector("#interp-out img", timeout=60000)
        page.fill("#interp-slider", "5")
        page.dispatch_event("#interp-slider", "input")
        assert "frame 6 of 10" in page.inner_text("#interp-frame")
        page.locator("#panel-interpolate").screenshot(path=f"{shots}/interpolate.png")
        page.click("#style-show")
        page.wait_for_selector("#style-out img", timeout=60000)
        page.locator("#panel-style_sweep").screenshot(path=f"{shots}/style_sweep.png")
        page.fill("#analogy-indices", "1,2,3")
        page.click("#analogy-show")
        page.wait_for_selector("#analogy-out img", timeout=60000)
        page.locator("#panel-analogy").screenshot(path=f"{shots}/analogy.png")
        # The run's training.gif, animated in the page.
        page.click("#training-show")
        page.wait_for_selector("#training-out img[src^='data:image/gif']", timeout=60000)
        page.locator("#panel-training").screenshot(path=f"{shots}/training.png")
        # No attribute file: the sliders' panel says why it is hidden.
        assert "Not available" in page.inner_text("#panel-attributes")
        page.screenshot(path=f"{shots}/page.png", full_page=True)
        browser.close()
    for name in ("samples", "encode", "interpolate", "style_sweep", "analogy", "training", "page"):
        with Image.open(f"{shots}/{name}.png") as image:
            assert image.width > 200 and image.height > 100
