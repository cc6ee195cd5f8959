"""Find HPO-B's real data on disk, or download it when asked (about 410 MB in two zip files).

Nothing here downloads on import or as a side effect: only :func:`download_hpob` (or
``python -m hpo_kit.hpob.download``) does. The archives are the ones HPO-B's README links
(``hpob-data.zip``, ``saved-surrogates.zip``); the first mirror is the GitHub copy, the second the
older university link.

Downloads resume: bytes arrive in ``<name>.part`` next to the destination and an interrupted
transfer continues with an HTTP ``Range`` request (a server that ignores it sends the file again from
the start). The finished file is checked before it is renamed into place: against an MD5 when one is
known, and always as a zip (every member's CRC-32, and the files the handler needs). HPO-B publishes
no checksums, so :data:`HPOB_ARCHIVES` has none built in; the MD5 of what was received is written to
``<name>.md5`` so a later re-download can be compared with it (``expected_md5=``).
"""
from __future__ import annotations

import argparse
import os
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from hpo_kit import paths
from hpo_kit.data.download import ChecksumError, DownloadError, _is_transient, md5_of
from hpo_kit.hpob.handler import META_TEST, SURROGATE_STATS

_CHUNK = 1 << 16


@dataclass(frozen=True)
class Archive:
    filename: str
    folder: str  # the folder the archive unpacks to
    mirrors: tuple[str, ...]  # full URLs
    required: tuple[str, ...]  # files (relative to folder) that must be inside
    md5: str | None = None


HPOB_ARCHIVES = {
    "data": Archive("hpob-data.zip", "hpob-data",
                    ("https://github.com/sebastianpinedaar/hpo-data/raw/refs/heads/main/hpob-data.zip?download=",
                     "https://rewind.tf.uni-freiburg.de/index.php/s/xdrJQPCTNi2zbfL/download/hpob-data.zip"),
                    (f"{META_TEST}.json", "bo-initializations.json", "meta-train-dataset.json",
                     "meta-validation-dataset.json")),
    "surrogates": Archive("saved-surrogates.zip", "saved-surrogates",
                          ("https://github.com/sebastianpinedaar/hpo-data/raw/refs/heads/main/saved-surrogates.zip?download=",
                           "https://rewind.tf.uni-freiburg.de/index.php/s/rTwPgaxS2Z7NH39/download/saved-surrogates.zip"),
                          (SURROGATE_STATS,)),
}


def default_root() -> Path:
    """``HPO_KIT_HPOB`` if set, else the kit's data folder for ``hpob`` (holds hpob-data/, saved-surrogates/)."""
    env = os.environ.get("HPO_KIT_HPOB")
    return Path(env).expanduser() if env else paths.data_dir("hpob")


def locate_hpob(root: str | Path | None = None) -> tuple[Path, Path | None] | None:
    """``(hpob-data folder, saved-surrogates folder or None)`` if HPO-B's real data is on disk, else None.

    Looks in ``root`` (a folder holding ``hpob-data/``, or ``hpob-data/`` itself), then
    :func:`default_root`, then the current directory.
    """
    candidates = [Path(root).expanduser()] if root is not None else []
    candidates += [default_root(), Path.cwd()]
    for c in candidates:
        for data in (c / "hpob-data", c):
            if (data / f"{META_TEST}.json").is_file() and (data / "bo-initializations.json").is_file():
                surr = data.parent / "saved-surrogates"
                return data, (surr if (surr / SURROGATE_STATS).is_file() else None)
    return None


def fetch_resumable(url: str, destination: str | Path, *, expected_md5: str | None = None,
                    timeout: float = 60.0) -> Path:
    """Download ``url`` to ``destination`` via ``<destination>.part``, continuing a previous partial file."""
    destination = Path(destination)
    destination.parent.mkdir(parents=True, exist_ok=True)
    part = destination.with_name(destination.name + ".part")
    have = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as err:
        if err.code != 416 or not have:  # 416: nothing left to send, the part file is complete
            raise
        response = None
    if response is not None:
        with response:
            resumed = response.status == 206
            mode = "ab" if resumed else "wb"  # 200: the server ignored Range and sends everything
            expected_total = None
            length = response.headers.get("Content-Length")
            if length is not None:
                expected_total = int(length) + (have if resumed else 0)
            with open(part, mode) as out:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
        size = part.stat().st_size
        if expected_total is not None and size != expected_total:
            raise ConnectionError(f"{url}: connection closed after {size} of {expected_total} bytes "
                                  f"(kept {part.name}; call again to resume)")
    if expected_md5 is not None:
        actual = md5_of(part)
        if actual != expected_md5.lower():
            part.unlink()
            raise ChecksumError(f"{url} delivered a file with MD5 {actual}, expected {expected_md5.lower()}")
    os.replace(part, destination)
    return destination


def _check_zip(path: Path, archive: Archive) -> list[str]:
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
            if bad is not None:
                raise ChecksumError(f"{path}: member {bad} fails its CRC-32 check")
            names = z.namelist()
    except zipfile.BadZipFile as err:
        raise ChecksumError(f"{path} is not a valid zip file ({err})") from None
    stripped = {n.split("/", 1)[1] if n.startswith(archive.folder + "/") else n for n in names}
    missing = [r for r in archive.required if r not in stripped]
    if missing:
        raise ChecksumError(f"{path} lacks {missing} (is it HPO-B's {archive.filename}?)")
    return names


def _extract(path: Path, archive: Archive, root: Path) -> Path:
    target = root / archive.folder
    with zipfile.ZipFile(path) as z:
        prefixed = all(n.startswith(archive.folder + "/") for n in z.namelist())
        base = root if prefixed else target
        for member in z.infolist():
            dest = (base / member.filename).resolve()
            if not str(dest).startswith(str(base.resolve())):  # no "../" escapes from the archive
                raise ChecksumError(f"{path}: member {member.filename} points outside the folder")
        z.extractall(base)
    return target


def download_hpob(root: str | Path | None = None, what: Iterable[str] = ("data", "surrogates"), *,
                  archives: dict[str, Archive] | None = None, expected_md5: dict[str, str] | None = None,
                  retries: int = 2, timeout: float = 60.0, keep_zip: bool = False) -> dict[str, Path]:
    """Download and unpack HPO-B's archives into ``root`` (default :func:`default_root`).

    Returns ``{"data": <root>/hpob-data, "surrogates": <root>/saved-surrogates}`` for what was asked.
    Already unpacked folders are left alone. ``archives`` exists so tests can point at a local server.
    """
    archives = HPOB_ARCHIVES if archives is None else archives
    what = list(what)
    for w in what:
        if w not in archives:
            raise ValueError(f"what must be drawn from {sorted(archives)}; got {w!r}")
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an integer >= 0, got {retries!r}")
    root = Path(root).expanduser() if root is not None else default_root()
    out: dict[str, Path] = {}
    for w in what:
        archive = archives[w]
        folder = root / archive.folder
        if all((folder / r).is_file() for r in archive.required):
            out[w] = folder
            continue
        zip_path = root / archive.filename
        md5 = (expected_md5 or {}).get(w, archive.md5)
        failures = []
        for url in archive.mirrors:
            for attempt in range(retries + 1):
                try:
                    if not zip_path.is_file():
                        fetch_resumable(url, zip_path, expected_md5=md5, timeout=timeout)
                    _check_zip(zip_path, archive)
                    break
                except ChecksumError as err:
                    zip_path.unlink(missing_ok=True)
                    failures.append(str(err))
                    break
                except OSError as err:
                    failures.append(f"{url} (attempt {attempt + 1}/{retries + 1}): {type(err).__name__}: {err}")
                    if not _is_transient(err) and not isinstance(err, ConnectionError):
                        break
            if zip_path.is_file():
                break
            # Another mirror serves other bytes: a partial file from this one cannot be continued there.
            zip_path.with_name(zip_path.name + ".part").unlink(missing_ok=True)
        if not zip_path.is_file():
            raise DownloadError(f"could not download {archive.filename}:\n  " + "\n  ".join(failures))
        (root / (archive.filename + ".md5")).write_text(md5_of(zip_path) + "\n")
        out[w] = _extract(zip_path, archive, root)
        if not keep_zip:
            zip_path.unlink()
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Download HPO-B's meta-dataset and surrogates (about 410 MB).")
    parser.add_argument("--root", type=Path, default=None, help="folder to unpack into (default: HPO_KIT_HPOB "
                                                                "or the kit's data cache)")
    parser.add_argument("--only", choices=sorted(HPOB_ARCHIVES), default=None)
    args = parser.parse_args(argv)
    got = download_hpob(args.root, [args.only] if args.only else list(HPOB_ARCHIVES))
    for k, v in got.items():
        print(f"{k}: {v}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())


__all__ = ["Archive", "HPOB_ARCHIVES", "download_hpob", "fetch_resumable", "locate_hpob", "default_root"]
