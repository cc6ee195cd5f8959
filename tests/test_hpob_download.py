"""Finding and downloading HPO-B's archives, against a local HTTP server on 127.0.0.1 (never the internet)."""
from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from pathlib import Path

import pytest

from hpo_kit.data.download import DownloadError
from hpo_kit.hpob import HPOBHandler
from hpo_kit.hpob.download import Archive, download_hpob, fetch_resumable, locate_hpob

FIXTURE = Path(__file__).parent / "fixtures" / "hpob_tiny"


def _zip_of(folder: Path, prefix: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(folder.iterdir()):
            z.write(f, f"{prefix}/{f.name}")
    return buf.getvalue()


class Server:
    """Serves ``files`` (name -> bytes); honours Range unless ``ranges`` is False; can cut a response."""

    def __init__(self, files, ranges=True):
        self.files, self.ranges, self.cut_after, self.requests = files, ranges, None, []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                name = self.path.lstrip("/")
                outer.requests.append((name, self.headers.get("Range")))
                if name not in outer.files:
                    self.send_error(404)
                    return
                body, start = outer.files[name], 0
                rng = self.headers.get("Range")
                if rng and outer.ranges:
                    start = int(rng.split("=")[1].split("-")[0])
                    if start >= len(body):
                        self.send_error(416)
                        return
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                part = body[start:]
                self.send_header("Content-Length", str(len(part)))
                self.end_headers()
                if outer.cut_after is not None:
                    self.wfile.write(part[:outer.cut_after])
                    outer.cut_after = None
                    self.wfile.flush()
                    self.connection.shutdown(2)
                    return
                self.wfile.write(part)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def archives():
    files = {"hpob-data.zip": _zip_of(FIXTURE / "hpob-data", "hpob-data"),
             "saved-surrogates.zip": _zip_of(FIXTURE / "saved-surrogates", "saved-surrogates")}
    server = Server(files)
    arch = {"data": Archive("hpob-data.zip", "hpob-data", (server.url + "hpob-data.zip",),
                            ("meta-test-dataset.json", "bo-initializations.json")),
            "surrogates": Archive("saved-surrogates.zip", "saved-surrogates", (server.url + "saved-surrogates.zip",),
                                  ("summary-stats.json",))}
    yield server, arch, files
    server.close()


def test_download_unpack_and_read(tmp_path, archives, monkeypatch):
    server, arch, files = archives
    monkeypatch.setenv("HPO_KIT_HPOB", str(tmp_path / "elsewhere"))
    monkeypatch.chdir(tmp_path)
    assert locate_hpob(tmp_path) is None
    got = download_hpob(tmp_path, archives=arch, retries=0)
    assert got == {"data": tmp_path / "hpob-data", "surrogates": tmp_path / "saved-surrogates"}
    assert (tmp_path / "hpob-data.zip.md5").read_text().strip() == hashlib.md5(files["hpob-data.zip"]).hexdigest()
    assert not (tmp_path / "hpob-data.zip").exists()  # unpacked, zip removed
    data, surr = locate_hpob(tmp_path)
    h = HPOBHandler(data, surrogates_dir=surr)
    assert h.get_datasets("toy") == ["a", "b"] and h.surrogates_stats
    n = len(server.requests)
    download_hpob(tmp_path, archives=arch, retries=0)  # already there: no request
    assert len(server.requests) == n


def test_resume_after_cut_connection(tmp_path, archives):
    server, arch, files = archives
    body = files["hpob-data.zip"]
    server.cut_after = len(body) // 3
    with pytest.raises(ConnectionError, match="call again to resume"):
        fetch_resumable(arch["data"].mirrors[0], tmp_path / "hpob-data.zip")
    part = tmp_path / "hpob-data.zip.part"
    assert part.stat().st_size == len(body) // 3 and not (tmp_path / "hpob-data.zip").exists()
    fetch_resumable(arch["data"].mirrors[0], tmp_path / "hpob-data.zip",
                    expected_md5=hashlib.md5(body).hexdigest())
    assert (tmp_path / "hpob-data.zip").read_bytes() == body
    assert server.requests[-1][1] == f"bytes={len(body) // 3}-"


def test_server_without_range_restarts(tmp_path, archives):
    server, arch, files = archives
    server.ranges = False
    (tmp_path / "hpob-data.zip.part").write_bytes(b"garbage-prefix")
    fetch_resumable(arch["data"].mirrors[0], tmp_path / "hpob-data.zip")
    assert (tmp_path / "hpob-data.zip").read_bytes() == files["hpob-data.zip"]


def test_wrong_md5_and_wrong_archive(tmp_path, archives):
    server, arch, files = archives
    with pytest.raises(DownloadError, match="MD5"):
        download_hpob(tmp_path, ["data"], archives=arch, expected_md5={"data": "0" * 32}, retries=0)
    assert not list(tmp_path.glob("*.part")) and not (tmp_path / "hpob-data").exists()
    server.files["hpob-data.zip"] = _zip_of(FIXTURE / "saved-surrogates", "hpob-data")  # wrong contents
    with pytest.raises(DownloadError, match="lacks"):
        download_hpob(tmp_path, ["data"], archives=arch, retries=0)
    server.files["hpob-data.zip"] = b"not a zip"
    with pytest.raises(DownloadError, match="not a valid zip"):
        download_hpob(tmp_path, ["data"], archives=arch, retries=0)
    with pytest.raises(ValueError, match="what must be drawn from"):
        download_hpob(tmp_path, ["everything"], archives=arch)


def test_missing_folder_message(tmp_path):
    with pytest.raises(FileNotFoundError, match="meta-test-dataset.json"):
        HPOBHandler(tmp_path)
