"""``runs/<profile>/REPORT.md`` and ``report.html``: one page with every notebook's status, runtime, claims and figures.

Both pages come from the same Markdown (``build_report``), so they cannot say different things.
``report.html`` is that Markdown rendered, with every figure embedded as a data URI: one file that
opens anywhere (mailed, copied to a USB stick) with nothing beside it. Each executed notebook also
gets an HTML copy beside it (``runs/<profile>/<notebook>/<notebook>.html``, via nbconvert), which both
pages link to; its output images are already inside the notebook, and the CDN scripts nbconvert's
template would load (require.js, MathJax) are left out so the copy renders offline too.
"""
from __future__ import annotations

import base64
import html
import json
import mimetypes
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from hpo_kit import paths
from hpo_kit.claims import VERDICTS, claims_markdown, verdict_counts
from hpo_kit.environment_info import cpu_model


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def html_copy_name(output: str) -> str:
    """``00_quickstart/00_quickstart.ipynb`` -> ``00_quickstart/00_quickstart.html`` (relative to runs/<profile>/)."""
    return str(Path(output).with_suffix(".html"))


def build_report(profile: str) -> str:
    """The report as Markdown (the content of REPORT.md; report.html renders the same text)."""
    root = paths.runs_dir() / profile
    index = _load(root / "index.json") or {}
    lines = [f"# Reproduction report — profile `{profile}`", "",
             f"Built {datetime.now(timezone.utc).isoformat(timespec='seconds')} on {cpu_model()}.", ""]
    if profile == "smoke":
        lines += ["> **Smoke profile: the verdicts below mean nothing.** It only checks that every cell runs, on",
                  "> samples far too small to decide any claim. Use `workshop` or `paper` for verdicts.", ""]
    lines += ["Every verdict follows one rule (`hpo_kit/claims.py`): **holds** when the claim's confidence interval",
              "lies entirely on the claimed side (inside the margin, for a no-difference claim), **does not hold**",
              "when it lies entirely on the other side, **inconclusive** otherwise, **not measured** when it could",
              "not be computed or the sample is below the claim's minimum.", "",
              "| notebook | status | runtime | " + " | ".join(VERDICTS) + " |", "|---|---|---|" + "---|" * len(VERDICTS)]
    totals = {v: 0 for v in VERDICTS}
    sections = []
    for notebook, run in sorted(index.items()):
        results = _load(root / notebook / "results.json") if run["status"] == "ok" else None
        claims = (results or {}).get("claims", [])
        counts = verdict_counts(claims)
        for v in VERDICTS:
            totals[v] += counts[v]
        lines.append(f"| [{notebook}](#{notebook.lower()}) | {run['status']} | {run['duration_s']:.0f} s | "
                     + " | ".join(str(counts[v]) for v in VERDICTS) + " |")
        copy = html_copy_name(run["output"])
        sec = [f"## {notebook}", "", f"- status: **{run['status']}**, runtime {run['duration_s']:.1f} s",
               f"- executed notebook: [{run['output']}]({run['output']})"
               + (f" · as a web page: [{copy}]({copy})" if (root / copy).exists() else "")]
        if run.get("error"):
            sec.append(f"- error: `{run['error']}`")
        if results:
            sec.append(f"- data: {results.get('data_source') or '—'}")
            sec += ["", claims_markdown(claims), ""]
            for fig in results.get("figures", []):
                sec.append(f"![{Path(fig).stem}]({notebook}/{fig})")
        sections.append("\n".join(sec))
    if index:
        lines.append("| **all** | | | " + " | ".join(f"**{totals[v]}**" for v in VERDICTS) + " |")
    return "\n".join(lines + [""] + sections) + "\n"


# ----------------------------------------------------------------------------------------- HTML

_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; max-width: 78rem; margin: 2rem auto;
       padding: 0 1.5rem; line-height: 1.45; color: #1d1d1f; }
table { border-collapse: collapse; margin: 1rem 0; font-size: 0.9rem; }
th, td { border: 1px solid #c8c8cc; padding: 0.3rem 0.5rem; vertical-align: top; text-align: left; }
th { background: #f0f0f3; }
img { max-width: 100%; height: auto; display: block; margin: 1rem 0; border: 1px solid #e4e4e7; }
blockquote { border-left: 4px solid #d97706; margin: 1rem 0; padding: 0.2rem 1rem; background: #fff7ed; }
code { background: #f4f4f5; padding: 0 0.2rem; border-radius: 3px; }
h2 { border-bottom: 1px solid #e4e4e7; padding-bottom: 0.2rem; margin-top: 2.5rem; }
"""


def _data_uri(path: Path) -> str | None:
    """The file as a ``data:`` URI, or None when it is missing (the page then says so)."""
    try:
        payload = base64.b64encode(path.read_bytes()).decode("ascii")
    except OSError:
        return None
    mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return f"data:{mime};base64,{payload}"


def render_html(markdown: str, base: Path, title: str) -> str:
    """Markdown -> one self-contained HTML page; local images under ``base`` are embedded."""
    from markdown_it import MarkdownIt

    # html=False: claim texts may contain "<" or "&", which must show as text, not become markup.
    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)

    def embed(match: re.Match) -> str:
        src = html.unescape(match.group(2))
        if re.match(r"^[a-z]+:", src):  # already a URI (data:, https:)
            return match.group(0)
        uri = _data_uri(base / src)
        if uri is None:
            return f'<p class="missing-figure"><strong>figure missing:</strong> {html.escape(src)}</p>'
        return f'{match.group(1)}{uri}{match.group(3)}'

    body = re.sub(r'(<img src=")([^"]*)(")', embed, body)
    # Section anchors: the summary table links to #<notebook name in lower case>.
    body = re.sub(r"<h2>(.*?)</h2>", lambda m: f'<h2 id="{html.escape(html.unescape(m.group(1)).lower())}">'
                  f"{m.group(1)}</h2>", body)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n")


_EXTERNAL_SCRIPT = re.compile(r'<script[^>]*\ssrc="https?://[^"]*"[^>]*>\s*</script>\s*', re.IGNORECASE)


def export_notebook_html(notebook: Path, force: bool = False) -> Path:
    """The executed notebook as ``<same name>.html`` beside it (rebuilt only when the notebook is newer)."""
    target = notebook.with_suffix(".html")
    if not force and target.exists() and target.stat().st_mtime_ns >= notebook.stat().st_mtime_ns:
        return target
    import nbformat
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter(template_name="lab").from_notebook_node(nbformat.read(notebook, as_version=4))
    # Output images are inline already; the only external resources are CDN scripts for widgets
    # and LaTeX, which the kit's notebooks do not need and which would stall an offline browser.
    body = _EXTERNAL_SCRIPT.sub("", body)
    tmp = target.with_name(target.name + ".tmp")
    tmp.write_text(body, encoding="utf-8")
    tmp.replace(target)
    return target


def export_notebooks(profile: str) -> list[Path]:
    """HTML copies of every executed notebook listed in ``runs/<profile>/index.json`` (failed ones too:
    their copy shows the error in place)."""
    root = paths.runs_dir() / profile
    written = []
    for run in (_load(root / "index.json") or {}).values():
        notebook = root / run["output"]
        if notebook.exists():
            try:
                written.append(export_notebook_html(notebook))
            except Exception as err:  # noqa: BLE001 — one unreadable notebook must not cost the whole report
                print(f"warning: no HTML copy of {notebook.name}: {type(err).__name__}: {err}", file=sys.stderr)
    return written


def write_report(profile: str) -> Path:
    """Write REPORT.md, the notebooks' HTML copies and report.html; returns the REPORT.md path."""
    root = paths.runs_dir() / profile
    root.mkdir(parents=True, exist_ok=True)
    export_notebooks(profile)  # first: the pages link to the copies that exist
    markdown = build_report(profile)
    path = root / "REPORT.md"
    path.write_text(markdown, encoding="utf-8")
    page = root / "report.html"
    page.write_text(render_html(markdown, root, f"Reproduction report — {profile}"), encoding="utf-8")
    return path
