"""Write the exact versions of this venv's kit dependencies: ``python constraints/freeze.py > constraints/py3.X.txt``.

Run it with the venv's Python after ``make install``. It lists the distributions reachable from
pyproject.toml's requirements (plus ``swig``, which builds pyrfr), not whatever else was installed
by hand, so the file states what the kit needs. torch's local build label (``+cpu``, ``+cu130``) is
dropped: ``torch==2.13.0`` admits the CPU and the CUDA build of the same release, and which one is
installed is chosen by TORCH_INDEX (see README), not by the lock file.
"""
from __future__ import annotations

import platform
import sys
import tomllib
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
BUILD_ONLY = ("swig",)  # installed by the Makefile to compile pyrfr


def kit_requirements() -> list[Requirement]:
    project = tomllib.loads(PYPROJECT.read_text())["project"]
    extras = [r for group in project.get("optional-dependencies", {}).values() for r in group]
    return [Requirement(r) for r in project["dependencies"] + extras + list(BUILD_ONLY)]


def closure(roots: list[Requirement]) -> dict[str, metadata.Distribution]:
    """Installed distributions needed by ``roots`` (markers evaluated for this interpreter)."""
    installed = {canonicalize_name(d.metadata["Name"]): d for d in metadata.distributions()}
    found: dict[str, metadata.Distribution] = {}
    seen: set[tuple[str, tuple[str, ...]]] = set()
    stack = [(r, tuple(sorted(r.extras))) for r in roots]
    while stack:
        req, extras = stack.pop()
        name = canonicalize_name(req.name)
        if (name, extras) in seen or name not in installed:
            continue
        seen.add((name, extras))
        dist = found[name] = installed[name]
        for spec in dist.requires or []:
            sub = Requirement(spec)
            if sub.marker is not None and not any(sub.marker.evaluate({"extra": e}) for e in extras or ("",)):
                continue
            stack.append((sub, tuple(sorted(sub.extras))))
    return found


def main() -> int:
    dists = closure(kit_requirements())
    print(f"# Exact versions of the kit's dependencies as installed and tested on Python {platform.python_version()} "
          f"({sys.platform}); the")
    print("# recorded numbers (results.json, the shipped tables) were measured with constraints/py3.11.txt.")
    print("# `make install` uses this file (`pip install -c`); regenerate: python constraints/freeze.py > <this file>")
    for name in sorted(dists):
        dist = dists[name]
        version = dist.version.split("+")[0] if name == "torch" else dist.version
        print(f"{dist.metadata['Name']}=={version}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
