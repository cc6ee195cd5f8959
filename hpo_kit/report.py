"""``runs/<profile>/REPORT.md`` and ``report.html``: one page with every notebook's status, runtime, claims and figures.

Both pages come from the same Markdown (``build_report``), so they cannot say different things.
``report.html`` is that Markdown rendered, with every figure embedded as a data URI: one file that
opens anywhere (mailed, copied to a USB stick) with nothing beside it. Each executed notebook also
gets an HTML copy beside it (``runs/<profile>/<notebook>/<notebook>.html``, via nbconvert), which both
pages link to; its output images are already inside the notebook, and the CDN scripts nbconvert's
template would load (require.js, MathJax) are left out so the copy renders offline too.

Read at a glance: every verdict carries a symbol (``✔ holds``, ``✘ does not hold``, ``? inconclusive``,
``– not measured``) and, in report.html, a background colour that differs in lightness too, so it reads
in greyscale; each notebook's claims table has five columns, with the decision rule written once
under it and estimands and notes as a list (no ``nan``, no Python lists, numbers to 3 digits); every
figure has a caption (the notebook's own from results.json's ``figure_captions``, else its name); and
one banner at the top names the notebooks that ran on fallback data.
"""
from __future__ import annotations

import base64
import html
import json
import math
import mimetypes
import re
import sys
from datetime import datetime, timezone
from pathlib import Path

from hpo_kit import paths
from hpo_kit.claims import FAILS, HOLDS, INCONCLUSIVE, UNMEASURED, VERDICTS, counts_text, format_value, verdict_counts
from hpo_kit.environment_info import cpu_model

#: a symbol per verdict, so that a verdict reads without colour (greyscale print, colour blindness)
SYMBOLS = {HOLDS: "✔", FAILS: "✘", INCONCLUSIVE: "?", UNMEASURED: "–"}
#: the CSS class of a verdict's table cell in report.html
VERDICT_CLASSES = {HOLDS: "v-holds", FAILS: "v-fails", INCONCLUSIVE: "v-inconclusive", UNMEASURED: "v-unmeasured"}
#: (background, text) of a verdict's cell. The backgrounds differ in lightness as well as in hue (relative
#: luminance 0.09, 0.45, 0.71, 0.90: four different greys when printed), and every text colour has a
#: contrast of at least 7:1 on its background (WCAG AAA)
VERDICT_COLOURS = {HOLDS: ("#6cc68a", "#02220f"), FAILS: ("#a61b1b", "#ffffff"),
                   INCONCLUSIVE: ("#fff4cc", "#6b3d00"), UNMEASURED: ("#d5dceb", "#1e293b")}
#: what marks a notebook's data as a fallback in results.json's ``data_source`` (hpo_kit.data.mnist's
#: FALLBACK_SOURCE says "offline fallback"); a ``data_fallback`` flag, where a notebook records one, wins
_FALLBACK_WORD = re.compile(r"\bfall-?back\b", re.IGNORECASE)


def _load(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def html_copy_name(output: str) -> str:
    """``00_quickstart/00_quickstart.ipynb`` -> ``00_quickstart/00_quickstart.html`` (relative to runs/<profile>/)."""
    return str(Path(output).with_suffix(".html"))


def uses_fallback_data(results: dict) -> bool:
    """True when a notebook's results say it ran on fallback data (not the data its paper used)."""
    flag = results.get("data_fallback")
    if isinstance(flag, bool):
        return flag
    return bool(_FALLBACK_WORD.search(str(results.get("data_source") or "")))


def _round_number(match: re.Match) -> str:
    value = float(match.group(0))
    return f"{value:.3g}" if abs(value) < 1e6 else f"{value:.3e}"


def clean_note(text: str) -> str:
    """A note as a reader wants it: no ``nan``, no Python lists, numbers to 3 digits.

    ``[0.1234567, nan]`` becomes ``0.123, n/a``; ``nan`` alone becomes ``n/a``; a float written with
    more than three decimals is rounded to three significant digits (integers stay as they are).
    """
    text = str(text)
    text = re.sub(r"(?<![\w.])-?nan(?![\w.])", "n/a", text, flags=re.IGNORECASE)
    text = re.sub(r"(?<![\w.])-?\d+\.\d{4,}(?:e[+-]?\d+)?(?![\w.])", _round_number, text)
    text = re.sub(r"\bnp\.float64\(([^()]*)\)", r"\1", text)
    # a Python list of numbers, quoted words or n/a (``[0.1, 'a']``): just its items
    item = r"(?:'[^'\[\]]*'|\"[^\"\[\]]*\"|n/a|-?\d[\d.e+-]*|inf|-inf|None|True|False)"
    text = re.sub(r"\[\s*(" + item + r"(?:\s*,\s*" + item + r")*)\s*,?\s*\]",
                  lambda m: re.sub(r"'([^']*)'|\"([^\"]*)\"", lambda q: q.group(1) or q.group(2) or "", m.group(1)),
                  text)
    return text


def _cell(text) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ").strip()


def _number(value) -> float | None:
    """A finite or infinite float, or None for what is missing (None, NaN, text)."""
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else value


def measured_text(row: dict) -> str:
    """``1.23 [0.456, 2.01] (90 % CI), n = 9 seeds``: the estimate and its interval to 3 digits."""
    estimate = _number(row.get("estimate"))
    if estimate is None:
        return "—"
    low, high = _number(row.get("ci_low")), _number(row.get("ci_high"))
    if (low is None) != (high is None):
        # a one-sided interval: JSON has no infinity, so results.json stores the open end as null
        low, high = (-math.inf if low is None else low), (math.inf if high is None else high)
    level = _number(row.get("ci_level"))
    ci = f" [{format_value(low, 3)}, {format_value(high, 3)}]" if low is not None else ""
    pct = f" ({100 * level:.3g} % CI)" if ci and level else ""
    unit = row.get("unit") or ""
    return f"{format_value(estimate, 3)}{ci}{pct}, n = {row.get('n')} {unit}".strip()


def _verdict_cell(verdict: str) -> str:
    # the bold verdict word stays as claims_markdown writes it; the symbol goes in front
    return f"{SYMBOLS.get(verdict, '')} **{verdict}**".strip()


def compact_claims_markdown(claims: list[dict]) -> str:
    """One notebook's claims as a compact table: number, claim, paper (source), measured, verdict.

    The rule each claim is decided by is written once under the table (once per distinct rule),
    not in every row; estimands and notes follow as a numbered list, cleaned by :func:`clean_note`.
    """
    if not claims:
        return "_No claims recorded._"
    lines = ["| # | claim | paper (source) | measured | verdict |", "|---|---|---|---|---|"]
    rules: dict[str, list[int]] = {}
    notes = []
    for number, row in enumerate(claims, 1):
        paper = clean_note(row.get("paper", ""))
        source = row.get("source", "")
        lines.append(f"| {number} | {_cell(row.get('claim', ''))} | {_cell(paper)}"
                     + (f" ({_cell(source)})" if source else "")
                     + f" | {_cell(measured_text(row))} | {_verdict_cell(row.get('verdict', ''))} |")
        rules.setdefault(str(row.get("rule", "")), []).append(number)
        note = "; ".join(clean_note(x) for x in (row.get("reason", ""), row.get("detail", "")) if x)
        estimand = row.get("estimand", "")
        parts = [f"*estimand:* {_cell(estimand)}" if estimand else "", f"*note:* {_cell(note)}" if note else ""]
        if any(parts):
            notes.append(f"- claim {number}: " + "; ".join(p for p in parts if p))
    lines.append("")
    if len(rules) == 1:
        lines.append(f"Rule for every claim above: {next(iter(rules))}.")
    else:
        lines.append("Rules: " + "; ".join(f"claim{'s' if len(numbers) > 1 else ''} "
                                            f"{', '.join(map(str, numbers))}: {rule}" for rule, numbers in rules.items())
                     + ".")
    lines += ["", f"{counts_text(verdict_counts(claims))}.", ""]
    lines += notes
    return "\n".join(lines).rstrip() + "\n"


def figure_caption(results: dict, figure: str, number: str) -> str:
    """The caption of one figure: the notebook's own (``figure_captions`` in results.json, by file
    name or path) where it gave one, else the figure's name in words."""
    captions = results.get("figure_captions") or {}
    text = captions.get(figure) or captions.get(Path(figure).name) or captions.get(Path(figure).stem)
    if not text:
        text = Path(figure).stem.replace("_", " ").strip().capitalize()
    return f"*Figure {number}. {_cell(text).rstrip('.')}.*"


def build_report(profile: str) -> str:
    """The report as Markdown (the content of REPORT.md; report.html renders the same text)."""
    root = paths.runs_dir() / profile
    index = _load(root / "index.json") or {}
    lines = [f"# Reproduction report — profile `{profile}`", "",
             f"Built {datetime.now(timezone.utc).isoformat(timespec='seconds')} on {cpu_model()}.", ""]
    if profile == "smoke":
        lines += ["> **Smoke profile: the verdicts below mean nothing.** It only checks that every cell runs, on",
                  "> samples far too small to decide any claim. Use `workshop` or `paper` for verdicts.", ""]
    results_of = {notebook: (_load(root / notebook / "results.json") if run["status"] == "ok" else None)
                  for notebook, run in sorted(index.items())}
    fallback = [nb for nb, results in results_of.items() if results and uses_fallback_data(results)]
    if fallback:
        names = ", ".join(f"[{nb}](#{nb.lower()})" for nb in fallback)
        lines += [f"> **⚠ Fallback data.** {names} ran on fallback data, not the data the paper used (each "
                  "notebook's data line says which). Their verdicts are about that data; rerun with the real "
                  "data (`python -m hpo_kit.check --download`) before quoting them.", ""]
    legend = " · ".join(f"{SYMBOLS[v]} {v}" for v in VERDICTS)
    lines += ["Every verdict follows one rule (`hpo_kit/claims.py`): **holds** when the claim's confidence interval",
              "lies entirely on the claimed side (inside the margin, for a no-difference claim), **does not hold**",
              "when it lies entirely on the other side, **inconclusive** otherwise, **not measured** when it could",
              f"not be computed or the sample is below the claim's minimum. Verdicts: {legend}.", "",
              "| notebook | status | runtime | " + " | ".join(VERDICTS) + " |", "|---|---|---|" + "---|" * len(VERDICTS)]
    totals = {v: 0 for v in VERDICTS}
    sections = []
    for number, (notebook, run) in enumerate(sorted(index.items()), 1):
        results = results_of[notebook]
        claims = [c for c in (results or {}).get("claims", [])]
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
            marker = "⚠ fallback: " if uses_fallback_data(results) else ""
            sec.append(f"- data: {marker}{results.get('data_source') or '—'}")
            sec += ["", compact_claims_markdown([c.as_dict() if hasattr(c, "as_dict") else c for c in claims]), ""]
            for k, fig in enumerate(results.get("figures", []), 1):
                sec += [f"![{Path(fig).stem}]({notebook}/{fig})", "", figure_caption(results, fig, f"{number}.{k}"),
                        ""]
        sections.append("\n".join(sec).rstrip())
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
td:first-child { white-space: nowrap; }
td.verdict { white-space: nowrap; font-weight: 600; }
figure { margin: 1rem 0 2rem; }
figure img { margin: 0; }
figcaption { font-size: 0.9rem; color: #52525b; margin-top: 0.3rem; }
blockquote.fallback { border-left-color: #a61b1b; background: #fdecec; font-size: 1.05rem; }
td.v-unmeasured { font-style: italic; }
""" + "".join(f"td.{VERDICT_CLASSES[v]} {{ background: {bg}; color: {fg}; }}\n"   # readable in greyscale too
              for v, (bg, fg) in VERDICT_COLOURS.items())


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
    body = _style_verdicts(_figures_with_captions(body))
    body = body.replace("<blockquote>\n<p><strong>⚠ Fallback data.", '<blockquote class="fallback">\n<p><strong>⚠ Fallback data.', 1)
    # Section anchors: the summary table links to #<notebook name in lower case>.
    body = re.sub(r"<h2>(.*?)</h2>", lambda m: f'<h2 id="{html.escape(html.unescape(m.group(1)).lower())}">'
                  f"{m.group(1)}</h2>", body)
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_STYLE}</style>\n</head>\n<body>\n{body}</body>\n</html>\n")


def _style_verdicts(body: str) -> str:
    """Give each verdict cell (``<td>✔ <strong>holds</strong></td>``) its class: colour in report.html."""
    for verdict, css in VERDICT_CLASSES.items():
        cell = f"<td>{html.escape(SYMBOLS[verdict])} <strong>{html.escape(verdict)}</strong></td>"
        body = body.replace(cell, f'<td class="verdict {css}">{html.escape(SYMBOLS[verdict])} '
                                  f"<strong>{html.escape(verdict)}</strong></td>")
    return body


def _figures_with_captions(body: str) -> str:
    """An image paragraph followed by its caption paragraph (``*Figure n. ...*``) as one <figure>."""
    return re.sub(r"<p>(<img [^>]*>)</p>\s*<p><em>(Figure [^<]*)</em></p>",
                  r"<figure>\1<figcaption>\2</figcaption></figure>", body)


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
