"""A meta-dataset folder in HPO-B's layout that the kit builds once and reuses while its source is unchanged.

Both of the kit's own meta-datasets (:mod:`hpo_kit.hpob.kit_meta`, :mod:`hpo_kit.hpob.public_meta`) write
HPO-B's five JSON files and then an info file holding a fingerprint of what they were built from. The info
file is written last, so a build that was interrupted is redone: a folder counts as current only when its
info file is readable and names the same fingerprint.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

INFO_NAME = "kit-meta-info.json"


def is_current(folder: Path, key: str, fingerprint: str) -> bool:
    """True when ``folder``'s info file records ``fingerprint`` under ``key`` (unreadable: not current)."""
    info_path = Path(folder) / INFO_NAME
    if not info_path.is_file():
        return False
    try:
        return json.loads(info_path.read_text()).get(key) == fingerprint
    except (OSError, ValueError):
        return False


def write_json_atomic(path: Path, obj: Any, indent: int | None = None) -> None:
    """Write ``obj`` as JSON through a temporary file beside ``path``: a reader never sees half a file."""
    tmp = path.parent / f".{path.name}.tmp"
    tmp.write_text(json.dumps(obj, indent=indent))
    os.replace(tmp, path)


def write_folder(folder: Path, files: dict[str, Any], info: dict[str, Any]) -> Path:
    """Write HPO-B's files (``{stem: object}``) into ``folder``, then the info file (last)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for stem, obj in files.items():
        write_json_atomic(folder / f"{stem}.json", obj)
    write_json_atomic(folder / INFO_NAME, info, indent=1)
    return folder
