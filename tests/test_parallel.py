"""Experiment pools: one thread per worker, and workers that die with the process that started them."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from hpo_kit.parallel import process_pool


def _threads_seen() -> tuple[str, int]:
    import torch

    return os.environ.get("OMP_NUM_THREADS", ""), torch.get_num_threads()


@pytest.mark.parametrize("method", ["spawn", "fork"])
def test_workers_use_one_thread(method):
    with process_pool(2, method) as pool:
        assert pool.submit(_threads_seen).result(timeout=120) == ("1", 1)


def test_bad_start_method_is_named():
    with pytest.raises(ValueError, match="start_method must be one of"):
        process_pool(2, "thread")


def test_workers_die_when_their_parent_is_killed(tmp_path):
    script = textwrap.dedent(f"""
        import os, sys, time
        sys.path.insert(0, {os.getcwd()!r})
        from hpo_kit.parallel import process_pool
        pool = process_pool(2, "spawn")
        pids = {{pool.submit(os.getpid).result(timeout=120) for _ in range(8)}}
        print(" ".join(map(str, pids)), flush=True)
        time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    workers = [int(p) for p in parent.stdout.readline().split()]
    assert workers
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    deadline = time.time() + 30
    alive = workers
    while alive and time.time() < deadline:
        time.sleep(0.2)
        alive = [p for p in workers if _alive(p)]
    assert not alive, f"workers {alive} outlived their parent"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie is dead, only not yet reaped (its parent was the killed process)
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except FileNotFoundError:
        return False
