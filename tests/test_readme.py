"""The README is a landing page (issue 25): it links every notebook and every doc, and stays short."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()


def test_readme_links_every_notebook_and_every_doc():
    notebooks = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))
    docs = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "docs").glob("*.md"))
    assert len(notebooks) == 6 and docs
    missing = [path for path in notebooks + docs if f"]({path})" not in README]
    assert not missing, f"README.md does not link {missing}"


def test_readme_stays_a_landing_page():
    # ~1,500 words like Optuna's or Syne Tune's READMEs; maintainer material belongs in docs/. The table of
    # record is written from results/reference/ (hpo_kit.record), so its rows do not count.
    from hpo_kit.record import END, START

    head, rest = README.split(START, 1)
    prose = head + rest.split(END, 1)[1]
    assert len(prose.split()) <= 1700, f"README.md has {len(prose.split())} words; move detail to docs/"
