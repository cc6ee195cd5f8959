"""``runs/<profile>/REPORT.md``: one page with every notebook's status, runtime, claims and figures."""
from __future__ import annotations

import json
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


def build_report(profile: str) -> str:
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
        sec = [f"## {notebook}", "", f"- status: **{run['status']}**, runtime {run['duration_s']:.1f} s",
               f"- executed notebook: [{run['output']}]({run['output']})"]
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


def write_report(profile: str) -> Path:
    path = paths.runs_dir() / profile / "REPORT.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(profile))
    return path
