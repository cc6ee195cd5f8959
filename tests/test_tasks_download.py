"""Download tasks (OpenML UCI sets, Fashion-MNIST) against a local HTTP server on 127.0.0.1 only."""
from __future__ import annotations

import hashlib
import json
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import numpy as np
import pytest

import hpo_kit.tasks.fashion_mnist as fashion
from hpo_kit.data.fake_mnist import write_fake_mnist
from hpo_kit.backends.sequential import SequentialBackend
from hpo_kit.searchers.optuna_searcher import make_optuna_scheduler
from hpo_kit.stopping import StopCriteria
from hpo_kit.tasks import get_task, is_available
from hpo_kit.tuner import run_hpo
from hpo_kit.tasks.openml import load_openml, parse_arff
from hpo_kit.tasks.tabular_data import clear_cache

SMALL = {"max_n_estimators": 3, "timeout": 2.0}


class Server:
    """Serves ``routes`` (path -> bytes) on an ephemeral 127.0.0.1 port; 404 otherwise."""

    def __init__(self) -> None:
        self.routes: dict[str, bytes] = {}
        self.requests: list[str] = []
        routes, requests = self.routes, self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                requests.append(self.path)
                body = routes.get(self.path)
                if body is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)


@pytest.fixture()
def server() -> Iterator[Server]:
    s = Server()
    s.thread.start()
    yield s
    s.server.shutdown()
    s.server.server_close()
    s.thread.join(timeout=5)


@pytest.fixture(autouse=True)
def data_root(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("HPO_KIT_DATA_ROOT", str(tmp_path / "data"))
    clear_cache()
    yield tmp_path / "data"
    clear_cache()


def refused_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def letter_arff(n: int = 90, seed: int = 0) -> bytes:
    """A small ARFF shaped like OpenML's letter: nominal class first, numeric and nominal features, a '?'."""
    rng = np.random.default_rng(seed)
    lines = ["% tiny test file", "@relation letter", "@attribute class {A,B,C}", "@attribute x numeric",
             "@attribute colour {red,green}", "@data"]
    for i in range(n):
        label = "ABC"[i % 3]
        x = "?" if i == 5 else f"{rng.normal() + 'ABC'.index(label):.4f}"
        lines.append(f"{label},{x},{'red' if i % 2 else 'green'}")
    return ("\n".join(lines) + "\n").encode()


def publish(server: Server, data_id: int, name: str, body: bytes, file_id: int = 77, md5: str | None = None,
            target: str = "class") -> None:
    description = {"data_set_description": {"id": str(data_id), "name": name, "version": "1", "file_id": str(file_id),
                                            "md5_checksum": md5 or hashlib.md5(body).hexdigest(),
                                            "default_target_attribute": target}}
    server.routes[f"/api/v1/json/data/{data_id}"] = json.dumps(description).encode()
    server.routes[f"/data/v1/download/{file_id}/{name}.arff"] = body


def test_parse_arff_by_hand():
    X, y, names = parse_arff(letter_arff(6).decode(), "class")
    assert names == ["x", "colour"] and list(y) == ["A", "B", "C", "A", "B", "C"]
    assert np.isnan(X[5, 0]) and list(X[:, 1]) == [1.0, 0.0, 1.0, 0.0, 1.0, 0.0]  # green = code 1 of {red, green}
    with pytest.raises(ValueError, match=r"no target attribute 'label'; attributes: \['class', 'x', 'colour'\]"):
        parse_arff(letter_arff(6).decode(), "label")


def test_parse_arff_with_quotes_and_upper_case_keywords():
    text = ("@RELATION car\n@ATTRIBUTE 'buying' {'vhigh','high','med','low'}\n@ATTRIBUTE 'x y' NUMERIC\n"
            "@ATTRIBUTE 'class' {'unacc','acc','good','vgood'}\n@DATA\n'vhigh',1.5,'unacc'\nlow,?,acc\n'med',3,good\n")
    X, y, names = parse_arff(text, "Class")  # the target is found case-insensitively
    assert names == ["buying", "x y"] and list(y) == ["unacc", "acc", "good"]
    assert X[:, 0].tolist() == [0.0, 3.0, 2.0] and np.isnan(X[1, 1]) and X[2, 1] == 3.0


def test_openml_task_downloads_verifies_caches_and_trains(server, data_root):
    body = letter_arff()
    publish(server, 6, "letter", body)
    assert not is_available("xgb_letter") and is_available("xgb_iris")
    task = get_task("xgb_letter", 0, base_url=server.url, **SMALL)
    assert is_available("xgb_letter")
    folder = data_root / "openml" / "letter"
    assert sorted(p.name for p in folder.iterdir()) == ["description.json", "letter.arff"]
    assert (folder / "letter.arff").read_bytes() == body
    md5 = hashlib.md5(body).hexdigest()
    assert f"OpenML data id 6 'letter' version 1 (ARFF MD5 {md5}, verified" in task.data["source"]
    assert str(data_root) not in task.description and "127.0.0.1" not in task.data["source"]
    assert task.objective.data().sizes() == {"train": 54, "val": 18, "test": 18}
    assert 0.0 <= task.test_score(task.default_config()) <= 1.0
    # the cached copy is used without any server (download=False, default base URL)
    n_requests = len(server.requests)
    clear_cache()
    again = get_task("xgb_letter", 0, download=False, **SMALL)
    assert again.data["checksum"] == task.data["checksum"] and len(server.requests) == n_requests


def test_corrupt_download_is_rejected_and_leaves_nothing(server, data_root):
    publish(server, 6, "letter", letter_arff(), md5="0" * 32)
    with pytest.raises(FileNotFoundError) as info:
        get_task("xgb_letter", 0, base_url=server.url, **SMALL)
    text = str(info.value)
    assert "task 'xgb_letter' needs the OpenML data set 'letter' (data id 6)" in text and "MD5" in text
    assert "https://www.openml.org/d/6" in text and "letter.arff" in text
    assert not (data_root / "openml" / "letter" / "letter.arff").exists()
    assert not [p for p in (data_root / "openml" / "letter").iterdir() if p.name.endswith(".part")]


def test_offline_error_names_the_task_and_how_to_provide_the_file(data_root):
    with pytest.raises(FileNotFoundError) as info:
        get_task("xgb_optdigits", 0, base_url=refused_url(), **SMALL)
    text = str(info.value)
    assert text.startswith("task 'xgb_optdigits' needs the OpenML data set 'optdigits' (data id 28)")
    assert str(data_root / "openml" / "optdigits" / "optdigits.arff") in text and "download=True" in text
    with pytest.raises(FileNotFoundError, match="download=False"):
        get_task("xgb_optdigits", 0, download=False, **SMALL)


def test_a_wrong_id_is_caught_by_the_name_check(server):
    publish(server, 6, "iris", letter_arff())
    with pytest.raises(FileNotFoundError, match="OpenML data id 6 is 'iris', not 'letter'"):
        get_task("xgb_letter", 0, base_url=server.url, **SMALL)


def test_a_file_provided_by_hand_is_used_and_marked_unverified(data_root):
    folder = data_root / "openml" / "car"
    folder.mkdir(parents=True)
    (folder / "car.arff").write_bytes(letter_arff())
    task = get_task("xgb_car", 0, download=False, **SMALL)
    assert "provided by hand" in task.data["source"] and "not verified" in task.data["source"]


def test_data_set_without_a_pinned_id_is_looked_up_by_name(server):
    server.routes["/api/v1/json/data/list/data_name/HTRU2/limit/1/status/active"] = \
        json.dumps({"data": {"dataset": [{"did": 4242, "name": "HTRU2"}]}}).encode()
    publish(server, 4242, "HTRU2", letter_arff(), target="class")
    X, y, identity = load_openml("htru2", base_url=server.url, timeout=2.0)
    assert identity["openml_id"] == 4242 and X.shape == (90, 2) and set(y) == {"A", "B", "C"}


def _serve_fake_fashion(server: Server, folder: Path) -> dict[str, str]:
    md5 = write_fake_mnist(folder, n_train=300, n_test=100, seed=1)
    for name in md5:
        server.routes[f"/fashion/{name}"] = (folder / name).read_bytes()
    return md5


def test_fashion_mnist_downloads_with_checksums(server, tmp_path):
    md5 = _serve_fake_fashion(server, tmp_path / "served")
    arrays = fashion.load_fashion_mnist(tmp_path / "cache", mirrors=[server.url + "/fashion/"], checksums=md5)
    assert arrays.train_images.shape == (300, 28, 28) and arrays.test_labels.shape == (100,)
    assert arrays.source.startswith("Fashion-MNIST, NON-official (test or custom) IDX files") and "/" not in arrays.source
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == sorted(md5)


def test_fashion_mnist_task_through_the_cache(server, tmp_path, monkeypatch, data_root):
    md5 = _serve_fake_fashion(server, tmp_path / "served")
    monkeypatch.setattr(fashion, "FASHION_MD5", md5)  # the task checks the official MD5s; here the fake files'
    assert not is_available("cnn_fashion_mnist")
    task = get_task("cnn_fashion_mnist", 0, mirrors=[server.url + "/fashion/"], n_train=60, n_val=30, n_test=30,
                    max_epochs=1)
    assert (data_root / "fashion_mnist" / "t10k-images-idx3-ubyte.gz").is_file()
    assert "Fashion-MNIST" in task.data["source"] and str(data_root) not in task.description
    assert task.data["sizes"] == {"train": 60, "val": 30, "test": 30}
    assert is_available("cnn_fashion_mnist")


def test_fashion_mnist_offline_error_names_the_task(data_root):
    with pytest.raises(FileNotFoundError) as info:
        get_task("cnn_fashion_mnist", 0, mirrors=[refused_url() + "/fashion/"], n_train=60, n_val=30, n_test=30)
    text = str(info.value)
    assert text.startswith("task 'cnn_fashion_mnist' needs Fashion-MNIST, which is not available")
    assert "train-images-idx3-ubyte.gz" in text and str(data_root / "fashion_mnist") in text and "cnn_mnist" in text


def test_a_run_that_downloaded_resumes_offline(server, tmp_path):
    publish(server, 32, "pendigits", letter_arff())

    def run(task, n):
        scheduler = make_optuna_scheduler("tpe", task.space, 1, task.fidelity.max, seed=0, max_trials=4)
        return run_hpo(task.objective, scheduler, SequentialBackend(), tmp_path / "run", seed=0, progress=False,
                       stop=StopCriteria(max_evaluations=n))

    run(get_task("xgb_pendigits", 0, base_url=server.url, **SMALL), 2)
    clear_cache()
    resumed = run(get_task("xgb_pendigits", 0, download=False, max_n_estimators=3), 4)  # same data, no server
    assert resumed.n_replayed == 2 and resumed.n_evaluations == 4
