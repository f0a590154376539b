"""rnnlab serve's page in a real browser: headless Chromium (Debian's, driven by Playwright's
client through ``executable_path``) types a review, clicks, and reads the prediction.

A missing browser fails these tests (CI installs chromium in .ci/run); set RNNLAB_NO_BROWSER=1
to skip them on a machine without one. ``RNNLAB_CHROMIUM`` names another binary; with
``RNNLAB_SERVE_SCREENSHOT=PATH`` the review's screenshot is also saved there (the README's is
docs/images/serve.png).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import rnnlab

REVIEW = "the film was good and the plot was really bad"


def chromium() -> str:
    """The Chromium binary to drive (or the test fails saying how to get one)."""
    if os.environ.get("RNNLAB_NO_BROWSER"):
        pytest.skip("RNNLAB_NO_BROWSER is set: no browser on this machine")
    path = os.environ.get("RNNLAB_CHROMIUM") or shutil.which("chromium") \
        or shutil.which("chromium-browser")  # fmt: skip
    if not path:
        pytest.fail("no chromium on PATH: apt-get install -y chromium (or set RNNLAB_CHROMIUM "
                    "to a Chromium binary, or RNNLAB_NO_BROWSER=1 to skip)")  # fmt: skip
    return path


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    executable = chromium()
    with sync_playwright() as p:
        # --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start; a
        # container's /dev/shm is often too small for it
        b = p.chromium.launch(executable_path=executable, headless=True,
                              args=["--no-sandbox", "--disable-dev-shm-usage"])  # fmt: skip
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    """A fresh page; after the test, it must have raised no script error and asked nothing of
    any server but ours (the page works offline: no CDN)."""
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors: list[str] = []
    elsewhere: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("request", lambda r: None if r.url.startswith((server, "data:"))
            else elsewhere.append(r.url))  # fmt: skip
    yield page
    page.close()
    assert not errors, f"the page raised: {errors}"
    assert not elsewhere, f"the page fetched from elsewhere: {elsewhere}"


def open_model(page, server: str, name: str) -> None:
    page.goto(f"{server}/?model={name}")
    page.wait_for_selector("body[data-ready=true]", timeout=10_000)


def test_typing_a_review_shows_the_prediction_and_the_sentiment_word_by_word(page, server, runs,
                                                                             tmp_path):  # fmt: skip
    open_model(page, server, "sentiment")
    assert page.locator("#kind").inner_text() == "a text classifier (classify)"
    page.locator("#live").uncheck()  # one answer, to the click
    page.locator("#review").press_sequentially(REVIEW, delay=5)
    page.locator("#classify").click()
    page.wait_for_selector("#classify-out:not([hidden])", timeout=10_000)
    (want,) = rnnlab.load(runs["sentiment"]).predict([REVIEW])
    assert page.locator("#label").inner_text() == want.label == "neg"  # "bad" comes last
    assert page.locator("#probability").inner_text() == f"p = {want.probability:.3f}"
    tokens = page.locator("#trace .tok .word").all_inner_texts()
    assert tokens == REVIEW.split()
    # each token's bar: the class chosen after reading up to it; "pos" from "good" (a coin
    # toss before it) until "bad" is read
    chosen = page.locator("#trace .tok").evaluate_all("els => els.map(e => e.dataset.label)")
    assert chosen[3:9] == ["pos"] * 6 and chosen[9] == "neg", chosen
    heights = page.locator("#trace .tok .fill").evaluate_all("els => els.map(e => e.style.height)")
    assert heights[-1] == f"{round(100 * want.probability)}%"
    shot = page.screenshot(path=tmp_path / "serve.png", full_page=True)
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("RNNLAB_SERVE_SCREENSHOT"):
        Path(os.environ["RNNLAB_SERVE_SCREENSHOT"]).write_bytes(shot)


def test_live_typing_updates_the_prediction(page, server):
    open_model(page, server, "sentiment")
    page.locator("#review").press_sequentially("the plot was bad but good", delay=20)
    page.wait_for_function("document.querySelectorAll('#trace .tok').length === 6",
                           timeout=10_000)  # fmt: skip
    assert page.locator("#label").inner_text() == "pos"


def test_entities_attention_and_errors_on_the_page(page, server):
    open_model(page, server, "ner")
    page.locator("#tag-text").fill("Mohan was driving a Maruti")
    page.locator("#tag").click()
    page.wait_for_selector("#tagged mark", timeout=10_000)
    assert "Mohan" in page.locator("#tagged").inner_text()

    page.select_option("#model", "mt")
    page.locator("#source").fill("ein Hund rennt")
    page.locator("#translate").click()
    page.wait_for_selector("#heatmap:not([hidden])", timeout=10_000)
    painted = page.evaluate("""() => {
        const c = document.getElementById('heatmap');
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }""")
    assert painted > 1000  # cells and labels drawn

    page.select_option("#model", "shake")
    page.locator("#max-tokens").fill("9999")  # over the limit: the server's message is shown
    page.locator("#generate").click()
    page.wait_for_selector("#error:not([hidden])", timeout=10_000)
    assert "422" in page.locator("#error").inner_text()
    assert "max_tokens" in page.locator("#error").inner_text()
    page.locator("#max-tokens").fill("5")
    page.locator("#seed").fill("1")
    page.locator("#generate").click()
    page.wait_for_function("document.getElementById('generated').textContent.length > 0",
                           timeout=10_000)  # fmt: skip
    assert page.locator("#error").is_hidden()


def test_an_uploaded_image_is_captioned_with_a_map_per_word(page, server, runs, png, tmp_path):
    (tmp_path / "red.png").write_bytes(png)
    (want,) = rnnlab.load(runs["pics"]).caption_files([tmp_path / "red.png"], beam=3)
    open_model(page, server, "pics")
    page.locator("#image").set_input_files(tmp_path / "red.png")
    page.locator("#caption").click()  # the page's beam: 3
    page.wait_for_selector("#caption-attention figure", timeout=10_000)
    assert page.locator("#caption-out").inner_text() == want.text
    words = page.locator("#caption-attention figcaption").all_inner_texts()
    assert words == want.output_tokens


def test_the_api_reference_is_drawn_from_openapi_json_offline(page, server):
    page.goto(f"{server}/docs")
    page.wait_for_selector("main section h2", timeout=10_000)
    titles = page.locator("main section h2").all_inner_texts()
    assert "POST /api/models/sentiment/predict" in titles and "GET /api/models" in titles
    rows = page.locator("main section", has_text="POST /api/models/sentiment/predict").locator(
        "tr").all_inner_texts()  # fmt: skip
    assert any(r.startswith("text *") and "1..2000 characters" in r for r in rows), rows
