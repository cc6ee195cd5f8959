"""What a run ran on: packages, CPU, threads, git commit. Stored with every result."""
from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata

from hpo_kit import paths

#: Distributions whose versions decide the numbers a notebook prints.
RECORDED_PACKAGES = ("torch", "numpy", "scipy", "pandas", "ConfigSpace", "fanova", "pyrfr", "matplotlib",
                     "seaborn", "papermill", "dask", "distributed", "mlxtend", "tqdm")


def package_versions() -> dict[str, str | None]:
    versions = {}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def git_commit() -> str | None:
    """HEAD of the kit's repository, with ``-dirty`` when tracked files are modified."""
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=paths.REPO_ROOT, capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()
    try:
        commit = git("rev-parse", "HEAD")
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
        return commit + ("-dirty" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        return None


def environment_record() -> dict:
    import torch

    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "packages": package_versions(),
        "git_commit": git_commit(),
    }
