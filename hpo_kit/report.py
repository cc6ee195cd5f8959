"""``runs/<profile>/REPORT.md``: one page with every notebook's status, runtime, claims and figures."""
from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from hpo_kit import paths
from hpo_kit.claims import claims_markdown
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
             f"Built {datetime.now(timezone.utc).isoformat(timespec='seconds')} on {cpu_model()}.", "",
             "| notebook | status | runtime | claims holding |", "|---|---|---|---|"]
    sections = []
    for notebook, run in sorted(index.items()):
        results = _load(root / notebook / "results.json") if run["status"] == "ok" else None
        claims = (results or {}).get("claims", [])
        holding = sum(c.get("holds") is True for c in claims)
        lines.append(f"| [{notebook}](#{notebook.lower()}) | {run['status']} | {run['duration_s']:.0f} s | "
                     f"{holding}/{len(claims)} |")
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
    return "\n".join(lines + [""] + sections) + "\n"


def write_report(profile: str) -> Path:
    path = paths.runs_dir() / profile / "REPORT.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(build_report(profile))
    return path
