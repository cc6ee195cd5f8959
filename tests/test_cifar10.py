"""CIFAR-10 loading from a tiny fake archive written by the tests (no real data, no network)."""
from __future__ import annotations

import io
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from hpo_kit.data import cifar10
from hpo_kit.data.download import ChecksumError, md5_of

N_PER_TRAIN_BATCH = 40
N_TEST = 50


def _batch_bytes(n: int, first_id: int, rng: np.random.Generator) -> bytes:
    """A pickled batch like the official ones; image i carries its id in its first two bytes."""
    data = rng.integers(0, 256, size=(n, 3072), dtype=np.uint8)
    ids = np.arange(first_id, first_id + n)
    data[:, 0], data[:, 1] = ids % 256, ids // 256
    labels = [int(v) for v in rng.choice(10, size=n, p=np.arange(1, 11) / 55)]  # imbalanced classes
    batch = {b"batch_label": b"fake", b"labels": labels, b"data": data,
             b"filenames": [f"{i}.png".encode() for i in ids]}
    return pickle.dumps(batch, protocol=2)


def _fake_batches(seed: int = 0) -> dict[str, bytes]:
    rng = np.random.default_rng(seed)
    out = {name: _batch_bytes(N_PER_TRAIN_BATCH, k * N_PER_TRAIN_BATCH, rng)
           for k, name in enumerate(cifar10.TRAIN_BATCHES)}
    out[cifar10.TEST_BATCH] = _batch_bytes(N_TEST, 10_000, rng)
    return out


def write_fake_archive(folder: Path, seed: int = 0) -> str:
    """Write a small cifar-10-python.tar.gz into ``folder``; returns its MD5."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / cifar10.CIFAR10_ARCHIVE
    with tarfile.open(path, "w:gz") as tar:
        for name, data in _fake_batches(seed).items():
            info = tarfile.TarInfo(f"{cifar10.CIFAR10_FOLDER}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return md5_of(path)


def write_fake_extracted(folder: Path, seed: int = 0) -> dict[str, str]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in _fake_batches(seed).items():
        (folder / name).write_bytes(data)
    return {name: md5_of(folder / name) for name in _fake_batches(seed)}


def ids_of(x: torch.Tensor) -> np.ndarray:
    """Recover image ids from normalised images (undo the standardisation of channel 0)."""
    pixels = x[:, 0].flatten(1)[:, :2].numpy() * cifar10.CIFAR10_STD[0] + cifar10.CIFAR10_MEAN[0]
    raw = np.rint(pixels * 255).astype(np.int64)
    return raw[:, 0] + 256 * raw[:, 1]


def test_splits_from_archive_are_stratified_disjoint_and_deterministic(tmp_path):
    md5 = write_fake_archive(tmp_path)
    splits = cifar10.cifar10_splits(100, 50, 30, seed=3, data_dir=tmp_path, archive_md5=md5)
    assert splits.sizes() == {"train": 100, "val": 50, "test": 30}
    assert splits.input_shape == (3, 32, 32) and splits.n_classes == 10
    assert splits.train_x.dtype == torch.float32 and splits.train_y.dtype == torch.int64
    train_ids, val_ids, test_ids = ids_of(splits.train_x), ids_of(splits.val_x), ids_of(splits.test_x)
    assert not set(train_ids) & set(val_ids)
    assert all(i < 200 for i in train_ids) and all(i >= 10_000 for i in test_ids)  # test from the test batch
    # labels travel with their images
    data = cifar10.load_cifar10(tmp_path, archive_md5=md5)
    np.testing.assert_array_equal(data.train_labels[train_ids], splits.train_y.numpy())
    # stratified: class shares of train and validation agree with the full set within ~1 image
    full = np.bincount(data.train_labels, minlength=10) / len(data.train_labels)
    for y, n in ((splits.train_y, 100), (splits.val_y, 50)):
        assert np.all(np.abs(np.bincount(y.numpy(), minlength=10) - full * n) <= 1.01)
    again = cifar10.cifar10_splits(100, 50, 30, seed=3, data_dir=tmp_path, archive_md5=md5)
    assert torch.equal(again.train_x, splits.train_x) and torch.equal(again.test_y, splits.test_y)
    other = cifar10.cifar10_splits(100, 50, 30, seed=4, data_dir=tmp_path, archive_md5=md5)
    assert not torch.equal(other.train_y, splits.train_y)
    assert "stratified split (seed 3)" in splits.source and str(tmp_path) not in splits.source


def test_images_are_decoded_as_rgb_planes_and_standardised(tmp_path):
    md5 = write_fake_archive(tmp_path)
    data = cifar10.load_cifar10(tmp_path, archive_md5=md5)
    assert data.train_images.shape == (200, 3, 32, 32) and data.test_images.shape == (N_TEST, 3, 32, 32)
    raw = pickle.loads(_fake_batches()["data_batch_1"], encoding="bytes")[b"data"]
    np.testing.assert_array_equal(data.train_images[0, 1].ravel(), raw[0, 1024:2048])  # green plane
    x = cifar10.normalise_images(data.train_images[:1])
    expected = (raw[0, 2048] / 255 - cifar10.CIFAR10_MEAN[2]) / cifar10.CIFAR10_STD[2]
    assert x[0, 2, 0, 0].item() == pytest.approx(expected, abs=1e-5)


def test_extracted_batches_are_found_in_the_folder_or_its_subfolder(tmp_path):
    md5s = write_fake_extracted(tmp_path / "flat")
    a = cifar10.cifar10_splits(60, 20, 10, seed=0, data_dir=tmp_path / "flat", batch_md5=md5s)
    write_fake_extracted(tmp_path / "nested" / cifar10.CIFAR10_FOLDER)
    b = cifar10.cifar10_splits(60, 20, 10, seed=0, data_dir=tmp_path / "nested", batch_md5=md5s)
    assert torch.equal(a.train_x, b.train_x)
    assert "extracted batches" in a.source and str(tmp_path) not in a.source


def test_default_folder_comes_from_hpo_kit_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("HPO_KIT_DATA_ROOT", str(tmp_path))
    md5 = write_fake_archive(tmp_path / "cifar10")
    splits = cifar10.cifar10_splits(50, 10, 10, seed=0, archive_md5=md5)
    assert str(tmp_path) not in splits.source and "MD5" in splits.source


def test_missing_files_say_where_to_put_them(tmp_path):
    with pytest.raises(FileNotFoundError) as err:
        cifar10.load_cifar10(tmp_path / "empty")
    message = str(err.value)
    assert str(tmp_path / "empty") in message and cifar10.CIFAR10_ARCHIVE in message
    assert "download_cifar10" in message


def test_wrong_checksum_is_an_error(tmp_path):
    write_fake_archive(tmp_path)
    with pytest.raises(ChecksumError, match="MD5"):
        cifar10.load_cifar10(tmp_path)  # the official MD5 does not match the fake archive
    md5s = write_fake_extracted(tmp_path / "x")
    md5s["test_batch"] = "0" * 32
    with pytest.raises(ChecksumError, match="test_batch"):
        cifar10.load_cifar10(tmp_path / "x", batch_md5=md5s)


def test_batches_that_want_to_import_code_are_refused(tmp_path):
    class Evil:
        def __reduce__(self):
            return (print, ("owned",))

    md5s = write_fake_extracted(tmp_path)
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": []}, protocol=2))
    md5s["test_batch"] = md5_of(tmp_path / "test_batch")
    with pytest.raises(ValueError, match="never needs"):
        cifar10.load_cifar10(tmp_path, batch_md5=md5s)


@pytest.mark.parametrize("kwargs, match", [
    ({"n_train": 0}, "n_train"),
    ({"n_val": 1.5}, "n_val"),
    ({"n_test": 10_001}, "n_test"),
    ({"n_train": 40_000, "n_val": 10_001}, "n_train \\+ n_val"),
    ({"seed": -1}, "seed"),
])
def test_bad_sizes_fail_before_reading(tmp_path, kwargs, match):
    args = {"n_train": 10, "n_val": 10, "n_test": 10, "seed": 0} | kwargs
    with pytest.raises(ValueError, match=match):
        cifar10.cifar10_splits(**args, data_dir=tmp_path / "does-not-exist")


def test_sizes_larger_than_the_files_are_rejected(tmp_path):
    md5 = write_fake_archive(tmp_path)
    with pytest.raises(ValueError, match="exceeds"):
        cifar10.cifar10_splits(190, 20, 10, seed=0, data_dir=tmp_path, archive_md5=md5)


def test_download_is_explicit_and_verified(tmp_path):
    source = tmp_path / "mirror"
    md5 = write_fake_archive(source)
    url = (source / cifar10.CIFAR10_ARCHIVE).as_uri()  # urllib serves file:// URLs: no network needed
    target = cifar10.download_cifar10(tmp_path / "data", url=url, archive_md5=md5)
    assert target == tmp_path / "data" / cifar10.CIFAR10_ARCHIVE and md5_of(target) == md5
    assert cifar10.download_cifar10(tmp_path / "data", url=url, archive_md5=md5) == target  # already there
    with pytest.raises(ValueError, match="must end in"):
        cifar10.download_cifar10(tmp_path / "other", url="https://example.org/file.zip")
