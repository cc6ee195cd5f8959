"""Results of record: finished notebook runs of one profile, kept in the repository for readers.

``make reproduce PROFILE=reference`` writes each notebook's run to ``runs/reference/<notebook>/``
(ignored by git). ``make record PROFILE=reference`` (``python -m hpo_kit.record``) then copies what a reader needs into
``results/reference/``, which is committed:

- per notebook: the executed notebook (with outputs) and its HTML, ``results.json`` and the figures;
- the combined ``report.html`` and ``REPORT.md`` of the run, when they are there;
- ``RECORD.md``: per notebook, the kit commit, the code digest, the data, the machine, wall and CPU time,
  and whether the current code would still produce it (see :func:`stale`);

and rewrites the README's table of record (between :data:`START` and :data:`END`) from the recorded
``results.json`` files: each paper's headline claims (:data:`HEADLINES`), the paper's number, the kit's
estimate with its interval, and the verdict, linked to the notebook's HTML.

A notebook is recorded only when its run finished: it has ``results.json`` and its executed copy, at the
profile asked for. ``python -m hpo_kit.record --check`` lists recorded results whose notebook code has
changed since they ran (``results.json`` keeps the digest that the calibration record uses).
"""
from __future__ import annotations

import argparse
import json
import math
import shutil
from pathlib import Path
from typing import Any

from hpo_kit import paths

RESULTS_DIR = paths.REPO_ROOT / "results"
README = paths.REPO_ROOT / "README.md"
START, END = "<!-- table of record: start -->", "<!-- table of record: end -->"
#: the claims the README's table of record shows per notebook: a row is shown when its claim text contains
#: one of these (the papers' headline claims; every row stays in the notebook's own claims table)
HEADLINES: dict[str, tuple[str, ...]] = {
    "00_quickstart": ("Random search finds a configuration better than the default one",),
    "01_trl_hpo_mnist": ("(fixed) finds a more accurate CNN than random search",
                         "beats a method that builds CNNs from scratch by at least"),
    "02_mbrl_hpo_ablations": ("is better and faster than the strongest baseline on most tasks",
                              "The sequential agent (RL-SDP) finds more accurate configurations",
                              "reaches the target error in fewer real evaluations"),
    "03_bohb_joint_nas_hpo": ("Little rank correlation between the smallest and the largest budget (random sample)",
                              "Joint search finds better networks than separate search",
                              "BOHB finds better configurations than random search"),
    "04_abohb_stopping_vs_promotion": ("A-BOHB beats synchronous BOHB early in the run",
                                       "A-BOHB reaches the target error sooner than ASHA",
                                       "A-BOHB reaches the target with about half the epochs ASHA needs",
                                       "The simpler stopping rule works better than promotion in many cases"),
    "05_generative_hpo_hpob": ("Faithful GEN-VAE is worse than random search",
                               "Fixed GEN-VAE beats faithful GEN-VAE",
                               "GP-EI has a better average rank than random search"),
}
PAPERS = {"00_quickstart": "Quickstart", "01_trl_hpo_mnist": "TRL-HPO (Shaer et al. 2024)",
          "02_mbrl_hpo_ablations": "MBRL-HPO (Wu et al. 2020)", "03_bohb_joint_nas_hpo": "BOHB joint NAS + HPO (Zela et al. 2018)",
          "04_abohb_stopping_vs_promotion": "A-BOHB (Klein et al. 2020)", "05_generative_hpo_hpob": "Generative HPO on HPO-B"}


def _executed(run: Path) -> Path | None:
    found = sorted(run.glob("*.ipynb"))
    return found[0] if found else None


def finished_runs(profile: str, runs_root: Path | None = None) -> dict[str, Path]:
    """Notebook -> run folder of every finished run of ``profile`` (results.json and an executed copy)."""
    root = (runs_root or paths.runs_dir()) / profile
    found = {}
    for run in sorted(p for p in root.glob("[0-9][0-9]_*") if p.is_dir()):
        results = run / "results.json"
        if results.is_file() and _executed(run) is not None:
            ran_at = json.loads(results.read_text()).get("profile")
            if ran_at != profile:
                raise ValueError(f"{results} was run at profile {ran_at!r}, not {profile!r}: rerun it with "
                                 f"`make reproduce PROFILE={profile}`")
            found[run.name] = run
    return found


def record(profile: str, notebooks: list[str] | None = None, runs_root: Path | None = None,
           dest_root: Path | None = None) -> list[str]:
    """Copy the finished runs of ``profile`` (all, or those whose name starts with one of ``notebooks``)
    into ``<dest_root>/<profile>/`` and rewrite its RECORD.md; returns the notebooks recorded."""
    if profile not in paths.PROFILES:
        raise ValueError(f"profile must be one of {list(paths.PROFILES)}, got {profile!r}")
    source = (runs_root or paths.runs_dir()) / profile
    runs = finished_runs(profile, runs_root)
    if notebooks:
        runs = {nb: run for nb, run in runs.items() if any(nb.startswith(n) for n in notebooks)}
    if not runs:
        raise ValueError(f"no finished run of profile {profile!r} in {source}"
                         + (f" among {notebooks}" if notebooks else "") + f": run `make reproduce PROFILE={profile}` first")
    dest = (dest_root or RESULTS_DIR) / profile
    for nb, run in runs.items():
        target = dest / nb
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for item in [run / "results.json", _executed(run), *run.glob("*.html")]:
            _copy_text(item, target / item.name)
        if (run / "figures").is_dir():
            shutil.copytree(run / "figures", target / "figures")
    for name in ("report.html", "REPORT.md"):
        if (source / name).is_file():
            _copy_text(source / name, dest / name)
    (dest / "RECORD.md").write_text(record_markdown(dest))
    return sorted(runs)


def machine_free(text: str) -> str:
    """``text`` without this machine's paths: the repository's own as relative paths, the home folder as ~
    (the record is read on other machines; a path of this one says nothing there)."""
    root = str(paths.REPO_ROOT)
    return text.replace(root + "/", "").replace(root, ".").replace(str(Path.home()), "~")


def _copy_text(source: Path, target: Path) -> None:
    target.write_text(machine_free(source.read_text()))


def recorded(dest: Path) -> dict[str, dict[str, Any]]:
    """Notebook -> its recorded results.json."""
    return {p.parent.name: json.loads(p.read_text()) for p in sorted(Path(dest).glob("*/results.json"))}


def stale(dest: Path) -> dict[str, str]:
    """Notebook -> why its recorded result may no longer be what the current code gives ("" when current):
    the notebook's code digest (its paper package and every kit module that package imports) has changed
    since the run, or the run predates digests."""
    from hpo_kit.session import notebook_code_digest

    out = {}
    for nb, results in recorded(dest).items():
        then, now = results.get("code_digest"), notebook_code_digest(nb)
        out[nb] = ("" if then == now else "recorded before the kit stored code digests" if not then
                   else f"the notebook's code changed since this run (digest {then}, now {now})")
    return out


def record_markdown(dest: Path) -> str:
    rows = []
    why = stale(dest)  # one digest per notebook, not one per row
    for nb, r in recorded(dest).items():
        env = r.get("environment", {})
        counts = r.get("verdict_counts", {})
        reason = why.get(nb, "")
        rows.append(f"| [{nb}]({nb}/{nb}.html) | `{str(env.get('git_commit', ''))[:10]}` | `{r.get('code_digest', '')}` | "
                    f"{r.get('data_source') or ''} | {env.get('cpu', '')} ({env.get('cpu_count', '')} cores) | "
                    f"{_minutes(r.get('duration_s'))} | {_minutes(r.get('cpu_s'))} | {r.get('finished_at', '')} | "
                    + ", ".join(f"{v} {k}" for k, v in counts.items()) + f" | {'current' if not reason else 'stale: ' + reason} |")
    return ("# Results of record: provenance\n\nWritten by `python -m hpo_kit.record` from the runs in this folder. "
            "\"stale\": the notebook's code has changed since the run (rerun it with `make reproduce` and record "
            "again).\n\n| notebook | kit commit | code digest | data | machine | wall min | CPU min | finished | "
            "verdicts | status |\n|---|---|---|---|---|---:|---:|---|---|---|\n" + "\n".join(rows) + "\n")


def _minutes(seconds: Any) -> str:
    return f"{float(seconds) / 60:.1f}" if isinstance(seconds, (int, float)) and math.isfinite(seconds) else ""


def _estimate(c: dict[str, Any]) -> str:
    value, low, high = c.get("estimate"), c.get("ci_low"), c.get("ci_high")
    if not isinstance(value, (int, float)) or not math.isfinite(value):
        return "—"
    interval = (f" [{low:.3g}, {high:.3g}]" if isinstance(low, (int, float)) and isinstance(high, (int, float))
                and math.isfinite(low) and math.isfinite(high) else "")
    return f"{value:.3g}{interval}"


def table_of_record(dest: Path, link_root: str) -> str:
    """The README's table: per notebook its headline claims' rows, linked to the notebook's HTML under
    ``link_root`` (the recorded folder, relative to the README)."""
    found = recorded(dest)
    if not found:
        return ("No results of record yet: `make reproduce PROFILE=reference` then `make record PROFILE=reference` "
                "write them to `results/reference/`.")
    why = stale(dest)
    lines = ["| paper | claim | paper's number | kit's estimate [90 % CI] | verdict |", "|---|---|---|---|---|"]
    for nb, r in found.items():
        link = f"[{PAPERS.get(nb, nb)}]({link_root}/{nb}/{nb}.html)" + (" (stale)" if why.get(nb) else "")
        claims = r.get("claims", [])
        for c in claims:
            if any(h in c.get("claim", "") for h in HEADLINES.get(nb, ())):
                paper = (c.get("paper") or "").replace("|", "/")
                lines.append(f"| {link} | {c['claim'].replace('|', '/')} | {paper} | {_estimate(c)} | **{c['verdict']}** |")
        for h in HEADLINES.get(nb, ()):
            if not any(h in c.get("claim", "") for c in claims):  # renamed, or not run: shown, never dropped
                lines.append(f"| {link} | {h} (no such claim in this run) | | — | **not measured** |")
    missing = [nb for nb in HEADLINES if nb not in found]
    if missing:
        lines.append(f"\nNot recorded at this profile yet: {', '.join(PAPERS[nb] for nb in missing)}.")
    return "\n".join(lines)


def update_readme(table: str, readme: Path = README) -> bool:
    """Put ``table`` between the README's markers; True when the README changed."""
    text = readme.read_text()
    if START not in text or END not in text:
        raise ValueError(f"{readme} has no table-of-record markers ({START} ... {END})")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = f"{head}{START}\n{table}\n{END}{tail}"
    if new != text:
        readme.write_text(new)
    return new != text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m hpo_kit.record", description=__doc__.splitlines()[0])
    parser.add_argument("--profile", default="reference", choices=paths.PROFILES)
    parser.add_argument("--only", nargs="*", default=None, help="notebooks to record (prefixes such as 04)")
    parser.add_argument("--check", action="store_true", help="record nothing: list stale recorded results")
    args = parser.parse_args(argv)
    dest = RESULTS_DIR / args.profile
    if not args.check:
        done = record(args.profile, args.only)
        print(f"recorded {', '.join(done)} in {dest}")
        if args.profile == "reference":
            update_readme(table_of_record(dest, f"results/{args.profile}"))
    reasons = {nb: why for nb, why in stale(dest).items() if why}
    for nb, why in reasons.items():
        print(f"stale: {nb}: {why}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
