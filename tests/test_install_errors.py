"""First-install errors say what is wrong: a broken interpreter, an unreachable torch index (issue 25)."""
from __future__ import annotations

import http.server
import os
import shutil
import socket
import subprocess
import sys
import threading

import pytest

from hpo_kit import paths

ROOT = paths.NOTEBOOKS_DIR.parent


def _check_index(url: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(ROOT / "constraints" / "check_index.py"), url],
                          capture_output=True, text=True, timeout=60)


def test_an_unreachable_torch_index_is_named():
    with socket.socket() as s:  # a port on loopback that nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = _check_index(f"http://127.0.0.1:{port}/whl/cpu")
    assert result.returncode == 1
    assert f"TORCH_INDEX=http://127.0.0.1:{port}/whl/cpu cannot be reached" in result.stderr
    assert "leave TORCH_INDEX out" in result.stderr


def test_a_reachable_index_passes(tmp_path):
    (tmp_path / "torch").mkdir()
    (tmp_path / "torch" / "index.html").write_text("<html></html>")
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(tmp_path), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        assert _check_index(f"http://127.0.0.1:{server.server_address[1]}").returncode == 0
    finally:
        server.shutdown()


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_a_python_that_cannot_run_shows_its_own_error(tmp_path):
    broken = tmp_path / "python3.12"
    broken.write_text("#!/bin/sh\necho 'pyenv: python3.12: command not found' >&2\nexit 127\n")
    broken.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAKE")}
    result = subprocess.run(["make", "-s", "install", f"PYTHON={broken}", f"VENV={tmp_path / 'venv'}"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60, env=env)
    assert result.returncode != 0
    assert "cannot be run. It said:" in result.stderr and "pyenv: python3.12: command not found" in result.stderr
    assert not (tmp_path / "venv").exists()
