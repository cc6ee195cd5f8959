"""bench/gpu_check.py: its skip path without CUDA, and its CPU-vs-device comparison (issue 27)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import gpu_check  # noqa: E402


def test_without_cuda_it_says_so_and_exits_0():
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    result = subprocess.run([sys.executable, str(BENCH / "gpu_check.py")], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stderr
    assert "no CUDA device" in result.stdout and "skipped" in result.stdout


def test_the_comparison_finds_no_difference_between_identical_devices():
    """The same device twice must agree exactly (the trainer is deterministic on the CPU): the comparison
    measures the device, not the seeding."""
    parity = gpu_check.trainer_parity("cpu", "cpu", epochs=1)
    assert parity["max_val_error_diff"] == 0.0 and parity["final_loss_rel_diff"] == 0.0
    assert len(parity["val_errors"]) == 2 and len(parity["val_errors"][0]) == 1


def test_bad_tolerance_is_a_clear_error():
    with pytest.raises(SystemExit):
        gpu_check.main(["--tolerance", "abc"])
