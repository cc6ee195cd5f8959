"""report.html and the executed notebooks' HTML copies, checked in a real headless browser (issue 14, item 3).

A small run folder is built the way ``make reproduce`` leaves one: a notebook executed by a real
kernel (a matplotlib figure, the claims table displayed as the session does), its results.json with
claims decided by the kit's rule, and its figure files. ``write_report`` then writes REPORT.md,
report.html and the notebook's HTML copy, and Chromium (Debian's package, headless) opens each page:
a screenshot must render (a PNG that is not blank), every image must have loaded (naturalWidth > 0,
read by a script that writes its findings into the DOM, which ``--dump-dom`` prints), and the claims
tables must be there. Without Chromium the browser checks skip with the reason, except in CI
(``CI`` set), where they fail: .ci/run installs Chromium.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from hpo_kit import paths, report
from hpo_kit.claims import Claim, claims_markdown, decide
from hpo_kit.stats import mean_ci

NOTEBOOK = "00_demo"
CLAIM_TEXTS = ("Training longer lowers validation error", "The pick beats the default & <nothing else>",
               "Dropout helps", "The search reaches the target")
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Flags that keep a headless browser from phoning home or waiting for a display or a profile.
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--hide-scrollbars", "--window-size=1200,1600")

# Runs at the load event (every image has loaded or failed by then) and writes what it found into the DOM.
CHECK_SCRIPT = """
<script>
window.addEventListener("load", function () {
  var images = Array.prototype.slice.call(document.images);
  var tables = Array.prototype.slice.call(document.querySelectorAll("table"));
  var heads = tables.map(function (t) {
    return Array.prototype.map.call(t.querySelectorAll("th"), function (th) { return th.textContent.trim(); });
  });
  var result = {
    images: images.length,
    broken: images.filter(function (i) { return !(i.complete && i.naturalWidth > 0); })
                  .map(function (i) { return (i.alt || "") + " " + i.src.slice(0, 40); }),
    widths: images.map(function (i) { return i.naturalWidth; }),
    claims_tables: heads.filter(function (h) { return h.indexOf("claim") >= 0 && h.indexOf("verdict") >= 0; }).length,
    text: document.body.innerText
  };
  var out = document.createElement("pre");
  out.id = "hpo-kit-check";
  out.textContent = JSON.stringify(result);
  document.body.appendChild(out);
});
</script>
"""


def chromium() -> str:
    found = os.environ.get("HPO_KIT_CHROMIUM") or next(filter(None, map(shutil.which, CHROMIUM_NAMES)), None)
    if found:
        return found
    if os.environ.get("CI"):
        pytest.fail("Chromium is required in CI for the HTML report check (.ci/run installs it: apt-get install chromium)")
    pytest.skip("Chromium not installed (apt-get install -y chromium): the HTML report's browser check needs it")


def run_chromium(page: Path, tmp_path: Path, *extra: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"chromium-profile-{len(list(tmp_path.glob('chromium-profile-*')))}"
    profile.mkdir()
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *extra, page.resolve().as_uri()]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp_path)
    assert done.returncode == 0, f"chromium failed ({done.returncode}): {done.stderr[-2000:]}"
    return done


def browser_findings(page: Path, tmp_path: Path) -> dict:
    """Open a copy of ``page`` with the check script added (the page itself stays as written)."""
    probe = page.with_name(page.stem + ".probe.html")
    text = page.read_text(encoding="utf-8")
    assert "</body>" in text
    probe.write_text(text.replace("</body>", CHECK_SCRIPT + "</body>", 1), encoding="utf-8")
    try:
        dom = run_chromium(probe, tmp_path, "--virtual-time-budget=15000", "--dump-dom").stdout
    finally:
        probe.unlink()
    match = re.search(r'<pre id="hpo-kit-check">(.*?)</pre>', dom, re.DOTALL)
    assert match, "the check script did not run (no load event?); DOM tail: " + dom[-500:]
    import html
    return json.loads(html.unescape(match.group(1)))


def screenshot_is_not_blank(page: Path, tmp_path: Path) -> None:
    from PIL import Image

    shot = tmp_path / f"{page.stem}.png"
    run_chromium(page, tmp_path, f"--screenshot={shot}")
    assert shot.exists() and shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", "no PNG screenshot"
    pixels = np.asarray(Image.open(shot).convert("L"), dtype=float)
    assert pixels.shape[0] > 100 and pixels.shape[1] > 100
    assert pixels.std() > 5, f"the screenshot is blank (pixel std {pixels.std():.2f})"
    assert (pixels < 128).mean() > 0.005, "the screenshot has almost no dark pixels: no text rendered"


# ------------------------------------------------------------------------------------ the run folder

def _claim_rows():
    rng = np.random.default_rng(0)
    longer = Claim(claim=CLAIM_TEXTS[0], paper="more epochs give lower loss", source="test", unit="configurations",
                   estimand="error after 1 epoch minus after the last, points; > 0: longer is better",
                   direction="greater", min_n=5)
    pick = Claim(claim=CLAIM_TEXTS[1], paper="the pick is better", source="test", unit="seeds",
                 estimand="test error of default minus pick, points; > 0: pick better", direction="greater", min_n=3)
    dropout = Claim(claim=CLAIM_TEXTS[2], paper="dropout lowers the error", source="test", unit="seeds",
                    estimand="error without minus with dropout, points; > 0: dropout helps", direction="greater")
    target = Claim(claim=CLAIM_TEXTS[3], paper="it reaches the target", source="test", unit="seeds",
                   estimand="seconds to the target", direction="less", threshold=60.0)
    # one claim per verdict, so that the page shows all four colours
    return [decide(longer, mean_ci(rng.normal(5.0, 1.0, 9), longer.ci_level)),
            decide(pick, mean_ci(rng.normal(0.1, 2.0, 4), pick.ci_level),
                   detail="per seed [0.123456789, nan, 2.5]; spread nan"),
            decide(dropout, mean_ci(rng.normal(-5.0, 1.0, 9), dropout.ci_level)),
            decide(target, None, not_measured="no run reached the target")]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    """runs/<profile>/ after ``make reproduce`` of one notebook, made by a real kernel."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import nbformat
    from nbclient import NotebookClient

    from hpo_kit import run as runner

    root = tmp_path_factory.mktemp("runs") / "workshop"
    folder = root / NOTEBOOK
    (folder / "figures").mkdir(parents=True)
    rows = _claim_rows()
    fig, ax = plt.subplots(figsize=(4, 3))
    ax.plot([1, 2, 3, 4], [0.09, 0.06, 0.05, 0.052], marker="o")
    ax.set_title("learning curve")
    fig.savefig(folder / "figures" / "learning_curve.png", dpi=80)
    plt.close(fig)

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Demo\n\nA figure and the claims table, as a kit notebook shows them."),
        nbformat.v4.new_code_cell("%matplotlib inline\nimport matplotlib.pyplot as plt\n"
                                  "fig, ax = plt.subplots(figsize=(4, 3)); ax.plot([1, 2, 3], [3, 1, 2]); plt.show()"),
        nbformat.v4.new_code_cell("from IPython.display import Markdown, display\n"
                                  f"display(Markdown({('### Claims' + chr(10) * 2 + claims_markdown(rows))!r}))"),
    ]
    NotebookClient(nb, timeout=120, kernel_name="python3", kernel_manager_class=runner._kernel_manager_class(),
                   resources={"metadata": {"path": str(folder)}}).execute()
    nbformat.write(nb, folder / f"{NOTEBOOK}.ipynb")

    results = {"notebook": NOTEBOOK, "profile": "workshop", "data_source": "synthetic test data",
               "claims": [r.as_dict() for r in rows], "figures": ["figures/learning_curve.png"],
               "figure_captions": {"learning_curve.png": "Validation error after each epoch"}}
    (folder / "results.json").write_text(json.dumps(results))
    index = {NOTEBOOK: {"notebook": NOTEBOOK, "status": "ok", "duration_s": 12.5, "error": None,
                        "output": f"{NOTEBOOK}/{NOTEBOOK}.ipynb", "fingerprint": "x", "skipped": False}}
    (root / "index.json").write_text(json.dumps(index))
    saved = os.environ.get("HPO_KIT_RUNS")
    os.environ["HPO_KIT_RUNS"] = str(root.parent)  # module scope: monkeypatch is per test
    try:
        report.write_report("workshop")
    finally:
        if saved is None:
            os.environ.pop("HPO_KIT_RUNS")
        else:
            os.environ["HPO_KIT_RUNS"] = saved
    return root


# ------------------------------------------------------------------------------------------ tests

def test_report_html_is_self_contained_and_says_what_report_md_says(run_folder):
    page = (run_folder / "report.html").read_text(encoding="utf-8")
    md = (run_folder / "REPORT.md").read_text(encoding="utf-8")
    sources = re.findall(r'<img[^>]*\ssrc="([^"]*)"', page)
    assert len(sources) == md.count("![") == 1 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert not re.search(r'<(?:script|link)[^>]*\s(?:src|href)="https?:', page), "the page loads something from outside"
    for text in ("profile `workshop`", NOTEBOOK, "synthetic test data", *CLAIM_TEXTS):
        assert text in md
    import html
    plain = html.unescape(re.sub(r"<[^>]+>", "", page))
    for text in ("profile workshop", NOTEBOOK, "synthetic test data", *CLAIM_TEXTS):
        assert text in plain, text  # "<nothing else>" shows as text: the Markdown's raw HTML is escaped
    assert f'href="{NOTEBOOK}/{NOTEBOOK}.html"' in page and f'id="{NOTEBOOK}"' in page


def test_notebook_html_copy_is_written_and_offline(run_folder):
    copy = run_folder / NOTEBOOK / f"{NOTEBOOK}.html"
    assert copy.exists()
    text = copy.read_text(encoding="utf-8")
    assert not re.search(r'<script[^>]*\ssrc="https?:', text), "CDN scripts stall an offline browser"
    assert "data:image/png;base64," in text
    before = copy.stat().st_mtime_ns
    report.export_notebook_html(run_folder / NOTEBOOK / f"{NOTEBOOK}.ipynb")
    assert copy.stat().st_mtime_ns == before, "an up-to-date copy is not rebuilt"


def test_missing_figure_is_reported_not_silently_dropped(tmp_path):
    page = report.render_html("![gone](nb/figures/gone.png)\n", tmp_path, "t")
    assert "figure missing" in page and "nb/figures/gone.png" in page


def test_report_html_renders_in_chromium(run_folder, tmp_path):
    page = run_folder / "report.html"
    found = browser_findings(page, tmp_path)
    assert found["images"] == 1 and not found["broken"], found
    assert found["claims_tables"] == 1, "the claims table is missing"
    for text in CLAIM_TEXTS:
        assert text in found["text"]
    assert "Figure 1.1. Validation error after each epoch." in found["text"]
    screenshot_is_not_blank(page, tmp_path)


def test_notebook_html_renders_in_chromium(run_folder, tmp_path):
    page = run_folder / NOTEBOOK / f"{NOTEBOOK}.html"
    found = browser_findings(page, tmp_path)
    assert found["images"] >= 1 and not found["broken"], found
    assert all(w > 100 for w in found["widths"]), found["widths"]
    assert found["claims_tables"] == 1, "the notebook's claims table is missing"
    screenshot_is_not_blank(page, tmp_path)


def test_chromium_check_detects_a_broken_image(tmp_path):
    """The browser check can fail: an image whose file is absent counts as broken."""
    page = tmp_path / "broken.html"
    page.write_text('<!DOCTYPE html><html><body><p>x</p><img alt="gone" src="gone.png"></body></html>')
    found = browser_findings(page, tmp_path)
    assert found["images"] == 1 and found["broken"], found


def test_an_unreadable_notebook_costs_only_its_html_copy(tmp_path, monkeypatch, capsys):
    root = tmp_path / "smoke"
    (root / "nb").mkdir(parents=True)
    (root / "nb" / "nb.ipynb").write_text("{not json")
    (root / "index.json").write_text(json.dumps({"nb": {"notebook": "nb", "status": "failed", "duration_s": 1.0,
                                                        "error": "boom", "output": "nb/nb.ipynb"}}))
    monkeypatch.setenv("HPO_KIT_RUNS", str(tmp_path))
    report.write_report("smoke")
    assert (root / "report.html").exists() and not (root / "nb" / "nb.html").exists()
    assert "no HTML copy of nb.ipynb" in capsys.readouterr().err
    assert "boom" in (root / "report.html").read_text()


# ------------------------------------------------------------------ at a glance (issue 25, item 5)

def rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])


def luminance(colour: str) -> float:
    """WCAG's relative luminance of ``#rrggbb``: the grey a colour becomes, 0 (black) to 1 (white)."""
    c = rgb(colour) / 255
    c = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return float(c @ [0.2126, 0.7152, 0.0722])


def colour_pixels(shot: Path) -> dict[str, int]:
    """How many pixels of the screenshot have each verdict's background colour (within 6 per channel)."""
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=int)
    return {verdict: int((np.abs(pixels - rgb(background)).max(axis=2) <= 6).sum())
            for verdict, (background, _) in report.VERDICT_COLOURS.items()}


def test_verdict_colours_read_in_greyscale_and_have_contrast():
    greys = sorted(luminance(background) for background, _ in report.VERDICT_COLOURS.values())
    assert min(np.diff(greys)) >= 0.15, f"two verdict backgrounds print as nearly the same grey: {greys}"
    for verdict, (background, text) in report.VERDICT_COLOURS.items():
        high, low = sorted((luminance(background), luminance(text)), reverse=True)
        assert (high + 0.05) / (low + 0.05) >= 7, f"{verdict}: text contrast below 7:1"


def test_every_verdict_has_its_colour_and_symbol(run_folder):
    page = (run_folder / "report.html").read_text(encoding="utf-8")
    for verdict, css in report.VERDICT_CLASSES.items():
        assert re.search(rf'<td class="verdict {css}">{re.escape(report.SYMBOLS[verdict])} <strong>{verdict}</strong>',
                         page), verdict
        assert f"td.{css} {{ background: #" in page, f"no colour for {verdict}"
    # the symbols tell the verdicts apart without colour: four different ones
    assert len(set(report.SYMBOLS.values())) == 4
    md = (run_folder / "REPORT.md").read_text(encoding="utf-8")
    for verdict in report.VERDICT_CLASSES:
        assert f"{report.SYMBOLS[verdict]} **{verdict}**" in md, verdict


def test_screenshot_shows_the_verdict_colours(run_folder, tmp_path):
    """Chromium paints every verdict's background; the same page without the style sheet has none of them
    (so the check can fail)."""
    page = run_folder / "report.html"
    shot = tmp_path / "report.png"
    run_chromium(page, tmp_path, "--window-size=1200,2400", f"--screenshot={shot}")
    found = colour_pixels(shot)
    assert all(n > 300 for n in found.values()), found

    bare = run_folder / "report.bare.html"
    bare.write_text(re.sub(r"<style>.*?</style>", "", page.read_text(encoding="utf-8"), flags=re.DOTALL),
                    encoding="utf-8")
    try:
        shot_bare = tmp_path / "bare.png"
        run_chromium(bare, tmp_path, "--window-size=1200,2400", f"--screenshot={shot_bare}")
    finally:
        bare.unlink()
    assert all(n < 50 for n in colour_pixels(shot_bare).values()), colour_pixels(shot_bare)


def test_claims_table_is_compact(run_folder):
    md = (run_folder / "REPORT.md").read_text(encoding="utf-8")
    section = md.split(f"## {NOTEBOOK}", 1)[1]
    header = next(line for line in section.splitlines() if line.startswith("| # | claim"))
    assert header.count("|") - 1 <= 5, header
    rule = _claim_rows()[0].claim.rule()
    assert section.count(rule) == 1, "the rule is written once, not per row"
    claims_part = section.split("![", 1)[0]
    assert not re.search(r"(?<![\w/])nan(?![\w])", claims_part, re.IGNORECASE), "a nan in the claims table or notes"
    notes = "\n".join(line for line in claims_part.splitlines() if line.startswith("- claim"))
    assert "per seed" in notes and not re.search(r"\[[^\]]*,[^\]]*\]", notes), "a Python list in the notes"
    assert "0.123" in claims_part and "0.123456789" not in claims_part, "numbers are rounded"
    # every measured number in the table has at most 3 significant digits
    for row in (line for line in section.splitlines() if re.match(r"\| \d+ \|", line)):
        measured = row.split("|")[4]
        for number in re.findall(r"-?\d+\.\d+", measured):
            assert len(number.lstrip("-0.").replace(".", "")) <= 3, (number, row)


def test_every_figure_has_a_caption(run_folder):
    page = (run_folder / "report.html").read_text(encoding="utf-8")
    figures = re.findall(r"<figure><img [^>]*><figcaption>([^<]*)</figcaption></figure>", page)
    assert figures == ["Figure 1.1. Validation error after each epoch."], figures
    assert len(re.findall(r"<img ", page)) == len(figures), "an image without a caption"


def test_a_figure_without_a_given_caption_is_named(tmp_path):
    assert report.figure_caption({}, "figures/best_vs_time.png", "2.3") == "*Figure 2.3. Best vs time.*"


def _write_run(root: Path, data_sources: dict[str, str]) -> None:
    """A run folder with one ok notebook per entry, each with one claim and the given data source."""
    root.mkdir(parents=True, exist_ok=True)
    row = _claim_rows()[0].as_dict()
    index = {}
    for notebook, source in data_sources.items():
        (root / notebook).mkdir()
        (root / notebook / "results.json").write_text(json.dumps({"notebook": notebook, "data_source": source,
                                                                   "claims": [row], "figures": []}))
        index[notebook] = {"notebook": notebook, "status": "ok", "duration_s": 1.0, "error": None,
                           "output": f"{notebook}/{notebook}.ipynb"}
    (root / "index.json").write_text(json.dumps(index))


def test_one_fallback_banner_at_the_top(tmp_path, monkeypatch):
    from hpo_kit.data.mnist import FALLBACK_SOURCE

    monkeypatch.setenv("HPO_KIT_RUNS", str(tmp_path))
    _write_run(tmp_path / "workshop", {"00_a": f"{FALLBACK_SOURCE}; stratified split", "01_b": "MNIST, full",
                                       "02_c": FALLBACK_SOURCE})
    md = report.build_report("workshop")
    assert md.count("Fallback data.") == 1
    banner = md.index("Fallback data.")
    assert banner < md.index("| notebook | status |") and banner < md.index("## 00_a")
    banner_line = md[banner:md.index("\n", banner)]
    assert "00_a" in banner_line and "02_c" in banner_line and "01_b" not in banner_line
    page = report.render_html(md, tmp_path / "workshop", "t")
    assert page.count('<blockquote class="fallback">') == 1


def test_no_banner_with_the_real_data(tmp_path, monkeypatch):
    monkeypatch.setenv("HPO_KIT_RUNS", str(tmp_path))
    _write_run(tmp_path / "workshop", {"00_a": "MNIST, full (60,000 training + 10,000 test images)"})
    md = report.build_report("workshop")
    page = report.render_html(md, tmp_path / "workshop", "t")
    assert "Fallback data" not in md and "fallback" not in page.split("</head>", 1)[1].lower()
    assert report.uses_fallback_data({"data_source": "anything", "data_fallback": True})


@pytest.mark.parametrize("text, expected", [
    ("means [0.123456789, nan, 3.0]", "means 0.123, n/a, 3.0"),
    ("spread nan; NaN seeds", "spread n/a; n/a seeds"),
    ("tasks ['a', 'b'] in f(x)", "tasks a, b in f(x)"),
    ("ratio 12.3456 at epoch 81", "ratio 12.3 at epoch 81"),
    ("nanmean of 2 runs", "nanmean of 2 runs"),
])
def test_notes_are_cleaned(text, expected):
    assert report.clean_note(text) == expected
