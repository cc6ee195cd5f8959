"""The downloader against a local HTTP server on 127.0.0.1: mirrors, checksums, retries, atomicity."""
from __future__ import annotations

import gzip
import hashlib
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

from hpo_kit.data import ChecksumError, DownloadError, MnistFallbackWarning, download_file, load_mnist, md5_of
from hpo_kit.data.fake_mnist import write_fake_mnist
from hpo_kit.data.idx import encode_idx
from hpo_kit.data.mnist import FALLBACK_SOURCE

FAST = dict(timeout=2.0, retries=1, backoff=0.0, show_progress=False)
SERVER_LIFETIME_S = 60  # the server shuts itself down after this, even if a test forgets to


class Mirror:
    """Behaviour of one mirror (a URL prefix) of the test server."""

    def __init__(self, files: dict[str, bytes], mode: str = "ok") -> None:
        self.files = files
        self.mode = mode  # ok | corrupt (flip bytes) | truncate (lie about length) | slow (never answer in time)
        self.requests = 0


class LocalServer:
    """A threaded HTTP server on an ephemeral 127.0.0.1 port serving ``/<mirror>/<file>``."""

    def __init__(self) -> None:
        self.mirrors: dict[str, Mirror] = {}
        mirrors = self.mirrors

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                try:
                    self.serve()
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up first (time-out test): expected, not worth a traceback

            def serve(self) -> None:
                _, mirror_name, filename = self.path.split("/", 2)
                mirror = mirrors.get(mirror_name)
                if mirror is None or filename not in mirror.files:
                    self.send_error(404)
                    return
                mirror.requests += 1
                body = mirror.files[filename]
                if mirror.mode == "slow":
                    time.sleep(1.5)  # longer than the client's time-out in the test
                if mirror.mode == "corrupt":
                    body = bytes(b ^ 0xFF for b in body[:16]) + body[16:]
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if mirror.mode == "truncate":
                    self.wfile.write(body[: len(body) // 2])  # then the connection closes early
                    self.close_connection = True
                    return
                self.wfile.write(body)

            def log_message(self, *args) -> None:  # keep the test output clean
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.stopper = threading.Timer(SERVER_LIFETIME_S, self.server.shutdown)
        self.stopper.daemon = True

    def add(self, name: str, files: dict[str, bytes], mode: str = "ok") -> str:
        self.mirrors[name] = Mirror(files, mode)
        return f"http://127.0.0.1:{self.port}/{name}/"

    def __enter__(self) -> "LocalServer":
        self.thread.start()
        self.stopper.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopper.cancel()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)


@pytest.fixture()
def server() -> Iterator[LocalServer]:
    with LocalServer() as s:
        yield s


def refused_mirror() -> str:
    """A URL on a port nobody listens on (bound, then released), so connecting is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def tiny_file() -> tuple[str, bytes, str]:
    body = gzip.compress(encode_idx(np.arange(50, dtype=np.uint8)), mtime=0)
    return "tiny-labels-idx1-ubyte.gz", body, hashlib.md5(body).hexdigest()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_success_and_checksum(server: LocalServer, tmp_path: Path) -> None:
    name, body, md5 = tiny_file()
    good = server.add("good", {name: body})
    url = download_file(name, md5, tmp_path, [good], **FAST)
    assert url == good + name
    assert (tmp_path / name).read_bytes() == body and md5_of(tmp_path / name) == md5
    assert leftovers(tmp_path) == [name]  # no temporary file left behind


def test_corrupt_mirror_rejected_next_used(server: LocalServer, tmp_path: Path) -> None:
    name, body, md5 = tiny_file()
    bad = server.add("bad", {name: body}, mode="corrupt")
    good = server.add("good", {name: body})
    assert download_file(name, md5, tmp_path, [bad, good], **FAST) == good + name
    assert md5_of(tmp_path / name) == md5
    assert server.mirrors["bad"].requests == 1  # a wrong checksum is not retried on the same mirror


def test_down_and_missing_mirrors_fall_through(server: LocalServer, tmp_path: Path) -> None:
    name, body, md5 = tiny_file()
    empty = server.add("empty", {})  # answers 404
    good = server.add("good", {name: body})
    assert download_file(name, md5, tmp_path, [refused_mirror(), empty, good], **FAST) == good + name
    assert leftovers(tmp_path) == [name]


def test_interrupted_download_leaves_nothing(server: LocalServer, tmp_path: Path) -> None:
    name, body, md5 = tiny_file()
    cut = server.add("cut", {name: body}, mode="truncate")
    with pytest.raises(DownloadError) as info:
        download_file(name, md5, tmp_path, [cut], **FAST)
    assert server.mirrors["cut"].requests == 2  # an interrupted transfer is retried
    assert "connection closed after" in str(info.value)
    assert leftovers(tmp_path) == []  # neither a half file under the real name nor a temp file


def test_slow_mirror_times_out(server: LocalServer, tmp_path: Path) -> None:
    name, body, md5 = tiny_file()
    slow = server.add("slow", {name: body}, mode="slow")
    good = server.add("good", {name: body})
    fast_timeout = {**FAST, "timeout": 0.3, "retries": 0}
    assert download_file(name, md5, tmp_path, [slow, good], **fast_timeout) == good + name


def test_all_mirrors_fail_lists_each(server: LocalServer, tmp_path: Path) -> None:
    name, body, md5 = tiny_file()
    bad = server.add("bad", {name: body}, mode="corrupt")
    down = refused_mirror()
    with pytest.raises(DownloadError) as info:
        download_file(name, md5, tmp_path, [down, bad], **FAST)
    message = str(info.value)
    assert name in message and down in message and "bad" in message and "MD5" in message
    assert leftovers(tmp_path) == []


def test_download_argument_checks(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match="mirrors must be a sequence"):
        download_file("f", "0" * 32, tmp_path, "http://127.0.0.1/")
    with pytest.raises(ValueError, match="timeout must be a positive"):
        download_file("f", "0" * 32, tmp_path, ["http://127.0.0.1/"], timeout=0)
    with pytest.raises(ValueError, match="retries must be an integer >= 0"):
        download_file("f", "0" * 32, tmp_path, ["http://127.0.0.1/"], retries=-1)


# ---------------------------------------------------------------- load_mnist on top of the downloader

@pytest.fixture()
def served_mnist(tmp_path: Path) -> tuple[dict[str, bytes], dict[str, str]]:
    md5 = write_fake_mnist(tmp_path / "source", n_train=120, n_test=40, seed=1)
    return {name: (tmp_path / "source" / name).read_bytes() for name in md5}, md5


def test_load_mnist_downloads_missing_files(server: LocalServer, served_mnist, tmp_path: Path) -> None:
    files, md5 = served_mnist
    bad = server.add("bad", files, mode="corrupt")
    good = server.add("good", files)
    target = tmp_path / "data"
    data = load_mnist(target, mirrors=[refused_mirror(), bad, good], checksums=md5, timeout=2.0, retries=0)
    assert not data.is_fallback and data.train_images.shape == (120, 28, 28)
    assert str(target) not in data.source and f"4 of 4 files downloaded from {good}" in data.source
    assert leftovers(target) == sorted(md5)
    # Files now present: no network needed (the only mirror is down).
    again = load_mnist(target, mirrors=[refused_mirror()], checksums=md5, timeout=2.0, retries=0)
    assert "downloaded" not in again.source


def test_load_mnist_falls_back_when_mirrors_fail(server: LocalServer, served_mnist, tmp_path: Path) -> None:
    files, md5 = served_mnist
    bad = server.add("bad", files, mode="corrupt")
    with pytest.warns(MnistFallbackWarning, match="downloading failed"):
        data = load_mnist(tmp_path / "data", mirrors=[refused_mirror(), bad], checksums=md5, timeout=2.0, retries=0)
    assert data.is_fallback and data.source == FALLBACK_SOURCE
    assert data.train_images.shape == (5000, 28, 28) and data.test_images is None
    assert leftovers(tmp_path / "data") == []  # nothing that looks like a finished download


def test_load_mnist_without_fallback_raises(served_mnist, tmp_path: Path) -> None:
    _, md5 = served_mnist
    with pytest.raises(DownloadError) as info:
        load_mnist(tmp_path / "data", mirrors=[refused_mirror()], checksums=md5, timeout=2.0, retries=0,
                   allow_fallback=False)
    assert str(tmp_path / "data") in str(info.value) and "HPO_KIT_DATA" in str(info.value)


def test_corrupt_local_file_not_replaced(server: LocalServer, served_mnist, tmp_path: Path) -> None:
    files, md5 = served_mnist
    good = server.add("good", files)
    target = tmp_path / "data"
    target.mkdir()
    broken = target / "t10k-images-idx3-ubyte.gz"
    broken.write_bytes(files[broken.name][:100])  # a truncated copy
    with pytest.raises(ChecksumError, match="t10k-images-idx3-ubyte.gz is truncated or corrupt"):
        load_mnist(target, mirrors=[good], checksums=md5, timeout=2.0, retries=0)
    assert server.mirrors["good"].requests == 0  # checked before downloading anything
    assert broken.stat().st_size == 100  # the user's file is left for them to inspect
