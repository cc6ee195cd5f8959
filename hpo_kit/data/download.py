"""Fetch a file from a list of mirrors: time-out, retries, MD5 check, atomic write.

The file is streamed into a hidden temporary file next to its destination and only renamed to its
final name after the checksum matched, so an interrupted or corrupt download never leaves behind a
file that looks complete. Standard library only (urllib).
"""
from __future__ import annotations

import hashlib
import http.client
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from pathlib import Path

from hpo_kit.progress import progress

_CHUNK_BYTES = 1 << 16


class ChecksumError(ValueError):
    """A file's MD5 differs from the expected one (truncated, corrupt or a different file)."""


class DownloadError(OSError):
    """No mirror delivered the file with the expected checksum."""


def md5_of(path: str | Path) -> str:
    """Hex MD5 digest of a file, read in chunks."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_md5(path: str | Path, expected_md5: str, *, advice: str = "") -> None:
    """Raise :class:`ChecksumError` naming ``path`` unless its MD5 is ``expected_md5``."""
    actual = md5_of(path)
    if actual != expected_md5.lower():
        size = Path(path).stat().st_size
        raise ChecksumError(
            f"{path} is truncated or corrupt: its MD5 is {actual} ({size} bytes), expected "
            f"{expected_md5.lower()}.{(' ' + advice) if advice else ''}"
        )


def _join(mirror: str, filename: str) -> str:
    return mirror.rstrip("/") + "/" + filename


def _is_transient(err: BaseException) -> bool:
    """Worth retrying on the same mirror: network trouble or a server-side (5xx) error."""
    if isinstance(err, urllib.error.HTTPError):
        return err.code >= 500
    reason = getattr(err, "reason", None)
    if isinstance(reason, socket.gaierror) and reason.errno != socket.EAI_AGAIN:
        return False  # the host name does not resolve (e.g. offline): asking again will not help
    return isinstance(err, (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException))


def _fetch_once(url: str, destination: Path, expected_md5: str, timeout: float, show_progress: bool) -> None:
    """One attempt: stream ``url`` into a temporary file, check its MD5, rename it into place."""
    fd, tmp_name = tempfile.mkstemp(dir=destination.parent, prefix=f".{destination.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        digest = hashlib.md5()
        # The time-out bounds connecting and every single read, so a stalled server cannot hang us.
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            bar = progress(desc=f"download {destination.name}", total=int(length) if length else None,
                           unit="B", leave=False, disable=not show_progress)
            received = 0
            with bar:
                for chunk in iter(lambda: response.read(_CHUNK_BYTES), b""):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            # read(n) returns b"" at an early close instead of raising, so compare with the header:
            # a cut connection is worth a retry, unlike a complete file with the wrong checksum.
            if length is not None and received != int(length):
                raise ConnectionError(f"connection closed after {received} of {length} bytes")
            out.flush()
            os.fsync(out.fileno())
        actual = digest.hexdigest()
        if actual != expected_md5.lower():
            raise ChecksumError(f"{url} delivered a file with MD5 {actual}, expected {expected_md5.lower()}")
        os.replace(tmp, destination)  # atomic on POSIX: the final name appears complete or not at all
    finally:
        tmp.unlink(missing_ok=True)  # no-op after a successful rename


def download_file(
    filename: str,
    expected_md5: str,
    dest_dir: str | Path,
    mirrors: Sequence[str],
    *,
    timeout: float = 30.0,
    retries: int = 2,
    backoff: float = 1.0,
    show_progress: bool = True,
) -> str:
    """Download ``filename`` into ``dest_dir`` from the first mirror that delivers it intact.

    Each mirror is a base URL (``filename`` is appended). Network errors and 5xx answers are retried
    ``retries`` times on the same mirror, waiting ``backoff * attempt`` seconds; a wrong checksum or
    a 4xx answer moves on to the next mirror at once. Returns the URL that worked; raises
    :class:`DownloadError` listing what every mirror did when none worked.
    """
    if isinstance(mirrors, str):
        raise TypeError("mirrors must be a sequence of base URLs, got a single string")
    if not mirrors:
        raise ValueError("mirrors must list at least one base URL, got none")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not isinstance(retries, int) or retries < 0:
        raise ValueError(f"retries must be an integer >= 0, got {retries!r}")
    destination = Path(dest_dir) / filename
    destination.parent.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for mirror in mirrors:
        url = _join(mirror, filename)
        for attempt in range(retries + 1):
            try:
                _fetch_once(url, destination, expected_md5, timeout, show_progress)
                return url
            except ChecksumError as err:
                failures.append(str(err))
                break
            except OSError as err:  # URLError, HTTPError, timeouts, refused connections, disk errors
                failures.append(f"{url} (attempt {attempt + 1}/{retries + 1}): {type(err).__name__}: {err}")
                if not _is_transient(err):  # 404, unwritable folder: retrying the same will not help
                    break
            except http.client.HTTPException as err:  # IncompleteRead, BadStatusLine: not OSErrors
                failures.append(f"{url} (attempt {attempt + 1}/{retries + 1}): {type(err).__name__}: {err}")
            if attempt < retries:
                time.sleep(backoff * (attempt + 1))
    raise DownloadError(f"could not download {filename} from any mirror:\n  " + "\n  ".join(failures))
