"""Every notebook has a py:percent twin that says the same thing (issue 14, item 6).

Reviewers diff and lint ``notebooks/scripts/<name>.py``; the ``.ipynb`` is what Jupyter and
papermill run. Both must hold the same cells, and the notebook must be committed without outputs
(outputs belong in runs/). The pairing is configured once in ``notebooks/jupytext.toml``, so
``make sync`` creates the script of a new notebook and updates whichever side of a pair is older.
Every notebook found is covered, including ones added after this test was written.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest
from jupytext.compare import compare_notebooks

from hpo_kit import paths

NOTEBOOKS_DIR = paths.REPO_ROOT / "notebooks"
SCRIPTS_DIR = NOTEBOOKS_DIR / "scripts"
FORMATS = "ipynb,scripts//py:percent"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("*.ipynb"))
FIX = "run `make sync` (jupytext --sync notebooks/*.ipynb) and commit both files"


def script_of(notebook: Path) -> Path:
    return SCRIPTS_DIR / f"{notebook.stem}.py"


def differences(notebook: Path, script: Path) -> str | None:
    """None when the script holds the notebook's cells (sources, types, tags); else what differs."""
    from_script = jupytext.read(script, fmt="py:percent")
    committed = nbformat.read(notebook, as_version=4)
    try:
        compare_notebooks(from_script, committed, fmt="py:percent", compare_outputs=False, compare_ids=False)
    except Exception as err:  # jupytext's NotebookDifference (its import path varies between versions)
        return str(err)[:2000]
    return None


def test_pairing_is_configured_for_every_notebook():
    config = tomllib.loads((NOTEBOOKS_DIR / "jupytext.toml").read_text())
    assert config.get("formats") == FORMATS
    assert NOTEBOOKS, "no notebooks found"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_its_script_and_they_agree(notebook):
    script = script_of(notebook)
    assert script.exists(), f"{notebook.name} has no paired script {script.relative_to(paths.REPO_ROOT)}: {FIX}"
    diff = differences(notebook, script)
    assert diff is None, f"{notebook.name} and {script.name} are out of sync: {FIX}\n{diff}"
    assert script.read_text().startswith("# ---\n# jupyter:"), "the script lost its jupytext header"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_committed_without_outputs(notebook):
    cells = json.loads(notebook.read_text())["cells"]
    dirty = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and (c.get("outputs") or c.get("execution_count"))]
    assert not dirty, (f"{notebook.name}: code cells {dirty} have outputs or execution counts; clear them "
                       "(Jupyter: Edit → Clear Outputs of All Cells) before committing")


def test_every_script_has_its_notebook():
    orphans = sorted(p.name for p in SCRIPTS_DIR.glob("*.py") if not (NOTEBOOKS_DIR / f"{p.stem}.ipynb").exists())
    assert not orphans, f"scripts without a notebook (renamed or deleted notebook?): {orphans}"


def test_a_changed_cell_is_caught(tmp_path):
    """The comparison can fail: edit one code cell of a paired script and it must differ."""
    notebook = NOTEBOOKS[0]
    text = script_of(notebook).read_text()
    marker = "\n# %%\n"
    assert marker in text
    edited = tmp_path / script_of(notebook).name
    edited.write_text(text.replace(marker, marker + "changed_by_the_test = 1\n", 1))
    assert differences(notebook, edited) is not None
