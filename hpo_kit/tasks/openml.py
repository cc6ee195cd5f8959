"""The paper's UCI tasks from OpenML: download into the user cache, verify, parse ARFF.

``load_openml(key, *, download=True, base_url=None, timeout=30.0) -> (X, y, identity)``

Where files live: ``hpo_kit.paths.data_dir("openml") / <key>`` (the user cache, or
``$HPO_KIT_DATA_ROOT/openml/<key>``), holding ``description.json`` (OpenML's data description)
and ``<openml name>.arff``. How they get there, when missing and ``download=True``:

1. ``GET {base_url}/api/v1/json/data/{data_id}`` -> the description (data sets without a pinned
   id are first looked up by name: ``/api/v1/json/data/list/data_name/{name}/limit/1``). Its
   ``name`` must match the registry's (so a wrong id cannot slip through); it gives the ARFF's
   ``file_id``, ``md5_checksum`` and ``default_target_attribute``.
2. ``GET {base_url}/data/v1/download/{file_id}/{name}.arff`` through the kit's downloader
   (:func:`hpo_kit.data.download.download_file`: time-out, retries, MD5 against the description,
   atomic rename), so a truncated or corrupt file never looks complete.

``base_url`` defaults to :data:`OPENML_URL`; tests point it at a server on 127.0.0.1 (no test
touches the network). A file provided by hand (``<key>/<name>.arff`` without a description) is
used as it is and recorded as unverified, with its MD5. Offline without the file:
:func:`task_error` names the task, the OpenML page and the folder to put the file in.

Parsing: ``scipy.io.arff`` (dense ARFF). Numeric attributes -> float, nominal ones -> integer
codes in their declared order, ``?`` -> NaN; the target attribute -> labels.
"""
from __future__ import annotations

import io
import json
import os
import re
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from hpo_kit import paths
from hpo_kit.data.download import DownloadError, download_file, md5_of

OPENML_URL = "https://api.openml.org"


@dataclass(frozen=True)
class OpenMLDataset:
    key: str  # registry key (task name without "xgb_")
    name: str  # OpenML's name of the data set
    data_id: int | None  # pinned OpenML data id; None = looked up by name (and recorded)
    target: str  # target attribute (used when no description is at hand)


OPENML_DATASETS: dict[str, OpenMLDataset] = {
    "letter": OpenMLDataset("letter", "letter", 6, "class"),
    "optdigits": OpenMLDataset("optdigits", "optdigits", 28, "class"),
    "pendigits": OpenMLDataset("pendigits", "pendigits", 32, "class"),
    "wine_quality_white": OpenMLDataset("wine_quality_white", "wine-quality-white", 40498, "Class"),
    "car": OpenMLDataset("car", "car", 40975, "class"),
    "htru2": OpenMLDataset("htru2", "HTRU2", None, "Class"),  # no id the kit could verify: looked up by name
    "phishing_websites": OpenMLDataset("phishing_websites", "PhishingWebsites", 4534, "Result"),
    "wilt": OpenMLDataset("wilt", "wilt", 40983, "Class"),
}


def dataset_dir(key: str) -> Path:
    return paths.data_dir("openml") / key


def _same_name(a: str, b: str) -> bool:
    return re.sub(r"[^a-z0-9]", "", a.lower()) == re.sub(r"[^a-z0-9]", "", b.lower())


def _get_json(url: str, timeout: float, retries: int = 2) -> Any:
    last: BaseException | None = None
    for attempt in range(retries + 1):
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                return json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise DownloadError(f"{url}: HTTP {error.code} {error.reason}") from error
            last = error
        except (urllib.error.URLError, TimeoutError, ConnectionError, json.JSONDecodeError) as error:
            last = error
        if attempt < retries:
            time.sleep(0.5 * (attempt + 1))
    raise DownloadError(f"{url}: {type(last).__name__}: {last}")


def _write_json(path: Path, value: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".part")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def fetch_description(dataset: OpenMLDataset, base_url: str, timeout: float) -> dict[str, Any]:
    """OpenML's description of ``dataset`` (checked by name), cached as description.json."""
    path = dataset_dir(dataset.key) / "description.json"
    if path.is_file():
        return json.loads(path.read_text(encoding="utf-8"))
    base = base_url.rstrip("/")
    data_id = dataset.data_id
    if data_id is None:
        found = _get_json(f"{base}/api/v1/json/data/list/data_name/{dataset.name}/limit/1/status/active", timeout)
        try:
            data_id = int(found["data"]["dataset"][0]["did"])
        except (KeyError, IndexError, TypeError, ValueError):
            raise DownloadError(f"OpenML has no active data set named {dataset.name!r}") from None
    answer = _get_json(f"{base}/api/v1/json/data/{data_id}", timeout)
    try:
        description = answer["data_set_description"]
        name, file_id, md5 = description["name"], description["file_id"], description["md5_checksum"]
    except (KeyError, TypeError):
        raise DownloadError(f"{base}/api/v1/json/data/{data_id} is not an OpenML data description") from None
    if not _same_name(str(name), dataset.name):
        raise ValueError(f"OpenML data id {data_id} is {name!r}, not {dataset.name!r}: the registry entry "
                         f"{dataset.key!r} names the wrong id")
    keep = {k: description.get(k) for k in ("id", "name", "version", "file_id", "md5_checksum",
                                             "default_target_attribute", "licence", "upload_date")}
    keep["id"], keep["file_id"], keep["md5_checksum"] = int(description["id"]), int(file_id), str(md5)
    _write_json(path, keep)
    return keep


def arff_path(dataset: OpenMLDataset) -> Path:
    return dataset_dir(dataset.key) / f"{dataset.name}.arff"


def parse_arff(text: str, target: str) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features (float64, nominal as codes, NaN missing), labels (strings) and feature names."""
    from scipy.io import arff

    data, meta = arff.loadarff(io.StringIO(text))
    names = list(meta.names())
    match = [n for n in names if n.lower() == target.lower()]
    if not match:
        raise ValueError(f"ARFF has no target attribute {target!r}; attributes: {names}")
    target = match[0]
    columns, feature_names = [], []
    for name in names:
        kind, values = meta[name]
        column = data[name]
        if kind == "nominal":
            decoded = np.array([v.decode() if isinstance(v, bytes) else str(v) for v in column], dtype=object)
            if name == target:
                labels = decoded
                continue
            codes = np.full(len(decoded), np.nan)
            for code, value in enumerate(values):
                codes[decoded == value] = code
            columns.append(codes)
        else:
            values_ = np.asarray(column, dtype=np.float64)
            if name == target:
                labels = values_.astype(str)
                continue
            columns.append(values_)
        feature_names.append(name)
    X = np.column_stack(columns) if columns else np.empty((len(data), 0))
    return X, np.asarray(labels), feature_names


def load_openml(key: str, *, download: bool = True, base_url: str | None = None,
                timeout: float = 30.0) -> tuple[np.ndarray, np.ndarray, dict[str, Any]]:
    """``(X, y, identity)`` of OpenML data set ``key`` (see the module docstring)."""
    if key not in OPENML_DATASETS:
        raise ValueError(f"OpenML data set must be one of {list(OPENML_DATASETS)}, got {key!r}")
    dataset = OPENML_DATASETS[key]
    path = arff_path(dataset)
    description: dict[str, Any] | None = None
    desc_path = dataset_dir(key) / "description.json"
    if desc_path.is_file():
        description = json.loads(desc_path.read_text(encoding="utf-8"))
    elif download and not path.is_file():
        description = fetch_description(dataset, base_url or OPENML_URL, timeout)
    if not path.is_file():
        if not download:
            raise FileNotFoundError(f"{path.name} is not in the data folder and download=False")
        assert description is not None
        base = (base_url or OPENML_URL).rstrip("/")
        download_file(path.name, description["md5_checksum"], path.parent,
                      [f"{base}/data/v1/download/{description['file_id']}/"], timeout=timeout, retries=2,
                      backoff=0.5, show_progress=False)
    md5 = md5_of(path)
    if description is not None and md5 != str(description["md5_checksum"]).lower():
        raise ValueError(f"{path.name} has MD5 {md5}, but OpenML's description says {description['md5_checksum']}: "
                         "the file is truncated, corrupt or another version; delete it to download it again")
    target = (description or {}).get("default_target_attribute") or dataset.target
    X, y, feature_names = parse_arff(path.read_text(encoding="utf-8", errors="replace"), str(target))
    if description is not None:
        origin = (f"OpenML data id {description['id']} '{description['name']}' version {description.get('version')} "
                  f"(ARFF MD5 {md5}, verified against OpenML's description)")
    else:
        origin = f"'{dataset.name}' ARFF provided by hand (MD5 {md5}, not verified: no OpenML description)"
    identity = {"dataset": key, "origin": origin, "openml_id": None if description is None else description["id"],
                "arff_md5": md5, "target": str(target), "n_features": len(feature_names)}
    return X, y, identity


def task_error(task: str, key: str, error: BaseException) -> OSError:
    """The error of an OpenML task whose data is missing or bad: what failed and how to provide it."""
    dataset = OPENML_DATASETS[key]
    page = (f"https://www.openml.org/d/{dataset.data_id}" if dataset.data_id is not None
            else f"https://www.openml.org/search?type=data&q={dataset.name}")
    return FileNotFoundError(
        f"task {task!r} needs the OpenML data set {dataset.name!r}"
        + (f" (data id {dataset.data_id})" if dataset.data_id is not None else "")
        + f", which is not available: {type(error).__name__}: {error}\n"
        f"Provide it by downloading the ARFF from {page} and saving it as {arff_path(dataset)} "
        f"(or under $HPO_KIT_DATA_ROOT/openml/{key}/), or run once with network access (download=True), "
        f"or choose an offline task such as 'xgb_digits'.")
