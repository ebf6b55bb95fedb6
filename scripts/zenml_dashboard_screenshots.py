"""Screenshots of the ZenML dashboard for docs/remote.md, from a real run.

Starts a local ZenML server (`zenml login --local`, in a temporary ZENML_CONFIG_PATH), runs
`embedtune finetune --pipeline` on 40 pairs of the committed test fixture against it, opens the
run in headless Chromium (/usr/bin/chromium, `make chromium`) and saves two PNGs:

- docs/images/zenml-run-dag.png: the run page with its step graph;
- docs/images/zenml-report-visualization.png: the `evaluation_report` artifact's HTML report
  in the dashboard's Visualization tab.

The local server needs no login (it runs without authentication); on a first visit the dashboard
shows a sign-up survey (email, how you heard of ZenML), which this script skips by recording
"no email, survey finished" for the default user through the server's REST API
(PUT /api/v1/current-user), as the survey's own "skip" would. Usage:

    .venv/bin/python scripts/zenml_dashboard_screenshots.py [OUT_DIR]
"""

from __future__ import annotations

import base64
import io
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.pipelines.zenml_server import local_zenml_server  # noqa: E402
from tests.reporting.chromium import Browser  # noqa: E402

WIDTH, HEIGHT = 1280, 800
TINY = (
    "--max-seq-length", "32", "--dims", "384,64", "--batch-size", "16", "--epochs", "1",
    "--learning-rate", "1e-4", "--no-hard-negatives",
)  # fmt: skip


def evaluate(browser: Browser, expression: str):
    value = browser.page("Runtime.evaluate", expression=expression, returnByValue=True)
    return value.get("result", {}).get("value")


def wait_for(browser: Browser, expression: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not evaluate(browser, expression):
        if time.monotonic() > deadline:
            raise TimeoutError(f"the dashboard never showed: {expression}")
        time.sleep(0.5)


def click(browser: Browser, selector: str, text: str, timeout: float = 30) -> None:
    """Click the last element matching `selector` whose text is `text` (the sheet's tabs come
    after the page's)."""
    finder = (
        f"[...document.querySelectorAll({json.dumps(selector)})]"
        f".filter(e => e.textContent.trim() === {json.dumps(text)}).pop()"
    )
    wait_for(browser, f"!!({finder})", timeout)
    evaluate(
        browser,
        f"(() => {{ const e = {finder}; e.scrollIntoView(); "
        "for (const t of ['pointerdown', 'mousedown', 'pointerup', 'mouseup', 'click']) "
        "e.dispatchEvent(new MouseEvent(t, {bubbles: true})); return true; })()",
    )


def skip_survey(url: str) -> None:
    """The default user has answered the dashboard's survey: no email, survey finished."""
    body = {"email_opted_in": False, "user_metadata": {"finished_onboarding_survey": True}}
    request = urllib.request.Request(
        f"{url}/api/v1/current-user",
        data=json.dumps(body).encode(),
        method="PUT",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        assert json.load(answer)["body"]["email_opted_in"] is False


def shoot(browser: Browser, path: Path) -> Path:
    """The viewport as a small palette PNG."""
    from PIL import Image

    shot = browser.page("Page.captureScreenshot", format="png")
    image = Image.open(io.BytesIO(base64.b64decode(shot["data"]))).convert("RGB")
    image.quantize(colors=128).save(path, optimize=True)
    return path


def main(out_dir: Path) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="embedtune-dashboard-") as tmp:
        root = Path(tmp)
        data = root / "pairs.jsonl"
        pairs = REPO / "tests" / "fixtures" / "zenml_rag_test" / "pairs.jsonl"
        data.write_text("".join(pairs.read_text().splitlines(True)[:40]))
        with local_zenml_server(root) as server:
            command = [sys.executable, "-m", "embedtune", "finetune", "--pipeline"]
            command += ["--data", str(data), "--output", str(root / "out"), *TINY]
            done = server.run(command, timeout=900, cwd=REPO)
            if done.returncode:
                raise SystemExit(server.stderr_tail())
            zenml = json.loads(done.stdout)["zenml"]
            print(json.dumps(zenml, indent=1))
            skip_survey(server.url)
            browser = Browser(timeout=60)
            try:
                browser.open(zenml["dashboard_url"], WIDTH, HEIGHT)
                wait_for(browser, "document.querySelectorAll('.react-flow__node').length >= 8")
                evaluate(
                    browser,
                    "document.querySelector('[aria-label=\"Dismiss local-server notice\"]')?.click()",
                )
                time.sleep(3)  # the graph's layout settles
                print(shoot(browser, out_dir / "zenml-run-dag.png"))
                click(browser, ".react-flow__node *", "evaluation_report")
                click(browser, "[role=tab]", "Visualization")
                click(browser, "[role=combobox]", "evaluation.png")
                click(browser, "[role=option]", "report.html")
                click(browser, "button", "Load Preview")
                wait_for(browser, "!!document.querySelector('iframe[srcdoc]')")
                time.sleep(3)
                print(shoot(browser, out_dir / "zenml-report-visualization.png"))
            finally:
                browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "docs" / "images")
