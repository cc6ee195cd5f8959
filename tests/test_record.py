"""Results of record (issue 27): finished runs copied into results/<profile>/, their provenance, stale
results named, and the README's table of record written from them."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from hpo_kit import record
from hpo_kit.session import notebook_code_digest

NB = "04_abohb_stopping_vs_promotion"


def fake_run(root: Path, profile: str = "reference", digest: str | None = None) -> Path:
    run = root / profile / NB
    (run / "figures").mkdir(parents=True)
    (run / "figures" / "curves.png").write_bytes(b"png")
    (run / f"{NB}.ipynb").write_text("{}")
    (run / f"{NB}.html").write_text(f"<html>run folder {record.paths.REPO_ROOT}/runs/reference/{NB}</html>")
    claims = [{"claim": "The simpler stopping rule works better than promotion in many cases", "paper": "in many cases",
               "estimate": -0.12, "ci_low": -0.2, "ci_high": -0.05, "verdict": "holds"},
              {"claim": "Stopping and promotion are equally good (ASHA)", "paper": "", "estimate": 0.1,
               "ci_low": 0.0, "ci_high": 0.2, "verdict": "inconclusive"}]
    results = {"notebook": NB, "profile": profile, "claims": claims, "verdict_counts": {"holds": 1, "inconclusive": 1},
               "duration_s": 600.0, "cpu_s": 1100.0, "data_source": "mnist_mlp_4k", "finished_at": "2026-12-08T02:00:00",
               "code_digest": notebook_code_digest(NB) if digest is None else digest,
               "environment": {"git_commit": "0123456789abcdef", "cpu": "x86_64", "cpu_count": 2}}
    (run / "results.json").write_text(json.dumps(results))
    (root / profile / "REPORT.md").write_text("# report")
    return run


def test_record_copies_a_finished_run_with_its_provenance(tmp_path):
    fake_run(tmp_path / "runs")
    (tmp_path / "runs" / "reference" / "05_generative_hpo_hpob").mkdir()  # started, never finished: not recorded
    done = record.record("reference", runs_root=tmp_path / "runs", dest_root=tmp_path / "results")
    dest = tmp_path / "results" / "reference"
    assert done == [NB]
    assert {p.name for p in (dest / NB).iterdir()} == {"results.json", f"{NB}.ipynb", f"{NB}.html", "figures"}
    assert (dest / NB / "figures" / "curves.png").is_file() and (dest / "REPORT.md").is_file()
    # no path of this machine in what is committed: the repository's own become relative
    assert (dest / NB / f"{NB}.html").read_text() == f"<html>run folder runs/reference/{NB}</html>"
    provenance = (dest / "RECORD.md").read_text()
    assert "`0123456789`" in provenance and "10.0 | 18.3" in provenance and "| current |" in provenance
    assert record.stale(dest) == {NB: ""}


def test_a_result_of_older_code_is_named_stale(tmp_path):
    fake_run(tmp_path / "runs", digest="0000000000000000")
    record.record("reference", runs_root=tmp_path / "runs", dest_root=tmp_path / "results")
    dest = tmp_path / "results" / "reference"
    assert "code changed since this run" in record.stale(dest)[NB]
    assert "stale" in (dest / "RECORD.md").read_text() and "(stale)" in record.table_of_record(dest, "results/reference")


def test_the_table_of_record_shows_the_headline_claims_only(tmp_path):
    fake_run(tmp_path / "runs")
    record.record("reference", runs_root=tmp_path / "runs", dest_root=tmp_path / "results")
    table = record.table_of_record(tmp_path / "results" / "reference", "results/reference")
    assert f"(results/reference/{NB}/{NB}.html)" in table
    assert "stopping rule works better" in table and "-0.12 [-0.2, -0.05]" in table and "**holds**" in table
    assert "equally good" not in table  # not a headline claim: in the notebook's own table only
    assert "Not recorded at this profile yet: Quickstart, TRL-HPO" in table


def test_refusals_name_what_to_do(tmp_path):
    with pytest.raises(ValueError, match="make reproduce PROFILE=reference"):
        record.record("reference", runs_root=tmp_path / "runs", dest_root=tmp_path / "results")
    with pytest.raises(ValueError, match="profile must be one of"):
        record.record("huge", runs_root=tmp_path / "runs", dest_root=tmp_path / "results")
    fake_run(tmp_path / "runs", profile="reference")
    data = json.loads((tmp_path / "runs" / "reference" / NB / "results.json").read_text())
    (tmp_path / "runs" / "reference" / NB / "results.json").write_text(json.dumps({**data, "profile": "smoke"}))
    with pytest.raises(ValueError, match="not 'reference'"):
        record.record("reference", runs_root=tmp_path / "runs", dest_root=tmp_path / "results")


def test_update_readme_replaces_only_the_table(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"# kit\n\n{record.START}\nold\n{record.END}\n\n## more\n")
    assert record.update_readme("| new |", readme)
    assert readme.read_text() == f"# kit\n\n{record.START}\n| new |\n{record.END}\n\n## more\n"
    assert not record.update_readme("| new |", readme)
    readme.write_text("# no markers")
    with pytest.raises(ValueError, match="markers"):
        record.update_readme("x", readme)


def test_the_readme_shows_the_committed_record():
    """The README's table is the one the committed results/reference/ gives (record again after a change)."""
    text = record.README.read_text()
    shown = text.split(record.START, 1)[1].split(record.END, 1)[0].strip()
    assert shown == record.table_of_record(record.RESULTS_DIR / "reference", "results/reference")
    for nb, why in record.stale(record.RESULTS_DIR / "reference").items():
        print(f"stale result of record: {nb}: {why}")  # shown, not failed: rerunning takes hours


def test_a_headline_the_run_does_not_have_is_shown_missing(tmp_path):
    """A renamed claim must not silently drop out of the README's table."""
    fake_run(tmp_path / "runs")
    record.record("reference", runs_root=tmp_path / "runs", dest_root=tmp_path / "results")
    table = record.table_of_record(tmp_path / "results" / "reference", "results/reference")
    assert "A-BOHB reaches the target error sooner than ASHA (no such claim in this run)" in table


def test_the_committed_record_names_no_machine_s_paths():
    import re

    pattern = re.compile(r"(?<![\w.~])/(?:home|root|work|Users|tmp|private)/[\w.-]+")
    for path in record.RESULTS_DIR.glob("*/**/*"):
        if path.suffix in (".ipynb", ".html", ".json", ".md") and path.is_file():
            found = pattern.findall(path.read_text())
            assert not found, f"{path} names paths of the machine it ran on: {found[:3]}"
