"""``make check`` (hpo_kit.check): the set-up check passes here, in under a minute, and catches what it is for."""
from __future__ import annotations

import gzip
import resource
import time

import pytest

from hpo_kit import check


def _cpu_seconds() -> float:
    """CPU time of this process and its finished children (the kernel): what the check costs, whatever
    else the machine is running (wall time on a loaded shared machine says little)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def test_every_check_passes_or_warns_here_within_a_minute(capsys):
    started, cpu_started = time.perf_counter(), _cpu_seconds()
    results = check.run_checks("workshop")
    elapsed, cpu = time.perf_counter() - started, _cpu_seconds() - cpu_started
    names = [r.name for r in results]
    assert names == [name for name, _ in check.checks("workshop", False)]
    failed = {r.name: r.detail for r in results if r.status == check.FAIL}
    assert not failed, failed
    by_name = {r.name: r for r in results}
    for essential in ("python", "torch", "fanova", "xgboost", "jupyter kernel", "tables", "parameters"):
        assert by_name[essential].status == check.OK, by_name[essential]
    # One line per check, each with its time: what a teacher reads.
    assert capsys.readouterr().out.count("\n") == len(results)
    print(f"set-up check: {elapsed:.0f} s wall, {cpu:.0f} s CPU")
    assert cpu < 60, f"the set-up check took {cpu:.0f} s of CPU ({elapsed:.0f} s wall; target: under a minute)"
    assert elapsed < 180, f"the set-up check took {elapsed:.0f} s wall"


def test_missing_mnist_warns_with_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("HPO_KIT_DATA", str(tmp_path))
    r = check.evaluate("MNIST", lambda: check.check_mnist(download=False))
    assert r.status == check.WARN and "--download" in r.detail and "5,000" in r.detail


def test_corrupt_mnist_file_fails(tmp_path, monkeypatch):
    (tmp_path / "train-images-idx3-ubyte.gz").write_bytes(gzip.compress(b"not mnist"))
    monkeypatch.setenv("HPO_KIT_DATA", str(tmp_path))
    r = check.evaluate("MNIST", lambda: check.check_mnist(download=False))
    assert r.status == check.FAIL and "train-images-idx3-ubyte.gz" in r.detail


def test_versions_check_names_differences_and_missing_packages(tmp_path, monkeypatch):
    lock = tmp_path / "py.txt"
    monkeypatch.setattr(check, "lock_file", lambda: lock)
    lock.write_text("# comment\nnumpy==0.0.1\n")
    r = check.evaluate("versions", check.check_versions)
    assert r.status == check.WARN and "numpy" in r.detail and "0.0.1" in r.detail
    lock.write_text("numpy==0.0.1\nno-such-package-for-the-kit==1.0\n")
    r = check.evaluate("versions", check.check_versions)
    assert r.status == check.FAIL and "no-such-package-for-the-kit" in r.detail


def test_lock_file_of_this_python_exists():
    assert check.lock_file().exists(), "constraints/py3.X.txt for this Python is missing"


@pytest.mark.parametrize("statuses, strict, code", [((check.OK, check.WARN), False, 0), ((check.OK, check.WARN), True, 1),
                                                    ((check.OK, check.FAIL), False, 1)])
def test_exit_status(monkeypatch, capsys, statuses, strict, code):
    def make(status):
        def fn():
            if status == check.OK:
                return "fine"
            raise check.CheckFailed("problem", status) if status == check.WARN else RuntimeError("broken")
        return fn
    monkeypatch.setattr(check, "checks", lambda profile, download: [(f"c{i}", make(s)) for i, s in enumerate(statuses)])
    assert check.main(["--strict"] if strict else []) == code
    out = capsys.readouterr().out
    assert "RuntimeError: broken" in out or check.FAIL not in statuses
