"""No shipped file names a folder of the machine that produced it (issue 14, item 4).

Provenance names data by identity and checksum; an absolute path such as the measuring machine's
data folder or a temp folder means nothing elsewhere and leaks one machine's layout. Shipped files
are the ones git tracks (CI checks a fresh clone, so a file is checked once it is committed). Text
files are scanned whole; ``.npz`` tables are scanned in every string array, which is where their
``metadata`` JSON lives; other binary files (figures) carry no provenance text.
"""
from __future__ import annotations

import io
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
# Built from parts so that this file does not contain what it looks for. A path starts at "/" not
# preceded by a word character, dot or slash (so ".../home/" inside a URL does not count) and goes on
# into the folder (a bare root such as "/tmp/" alone, e.g. in a test that looks for it, names nothing).
_ROOTS = ("wo" + "rk", "ro" + "ot", "ho" + "me", "t" + "mp")
MACHINE_PATH = re.compile(r"(?<![\w./~-])/(?:" + "|".join(_ROOTS) + r")/[\w.~-]")


def shipped_files() -> list[Path]:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout (or git missing): the shipped file list comes from git ls-files")
    out = subprocess.run(["git", "ls-files", "-z", "--cached"],
                         cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / name for name in out.decode().split("\0") if name and (ROOT / name).is_file()]


def offending_lines(text: str) -> list[str]:
    return [line.strip()[:160] for line in text.splitlines() if MACHINE_PATH.search(line)]


def npz_strings(path: Path) -> list[str]:
    """Every string stored in an .npz (each member read as .npy, never unpickled)."""
    found = []
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            array = np.lib.format.read_array(io.BytesIO(archive.read(name)), allow_pickle=False)
            if array.dtype.kind in "US":
                found += [str(x) for x in np.atleast_1d(array).ravel()]
    return found


def scan(path: Path) -> list[str]:
    if path.suffix == ".npz":
        return [hit for s in npz_strings(path) for hit in offending_lines(s)]
    data = path.read_bytes()
    if b"\0" in data[:8192]:
        return []  # binary (PNG, PDF, gz): no provenance text to check
    return offending_lines(data.decode("utf-8", errors="replace"))


def test_pattern_catches_machine_paths_and_spares_urls() -> None:
    for bad in ("from /" + _ROOTS[0] + "/shared/data/mnist", "HPO_KIT_DATA=/" + _ROOTS[2] + "/ann/mnist",
                '"/' + _ROOTS[3] + '/x.npz"', "(/" + _ROOTS[1] + "/.cache)"):
        assert MACHINE_PATH.search(bad), bad
    for fine in ("https://example.org/" + _ROOTS[2] + "/page", "~/" + _ROOTS[0] + "/", "hpo_kit/" + _ROOTS[3] + "/",
                 "runs/<profile>/", 'assert "/' + _ROOTS[0] + '/" not in blob'):
        assert not MACHINE_PATH.search(fine), fine


def test_npz_metadata_is_scanned(tmp_path) -> None:
    table = tmp_path / "t.npz"
    np.savez_compressed(table, X=np.zeros(3), metadata=np.array('{"data_source": "from /' + _ROOTS[0] + '/d"}'))
    assert scan(table)


def test_no_shipped_file_contains_a_machine_path() -> None:
    files = shipped_files()
    assert any(f.suffix == ".npz" for f in files), "the shipped learning-curve table should be among the files"
    hits = {str(f.relative_to(ROOT)): lines for f in files if (lines := scan(f))}
    assert not hits, "absolute machine paths in shipped files (name data by identity and checksum):\n" + "\n".join(
        f"  {name}: {line}" for name, lines in sorted(hits.items()) for line in lines[:5])
