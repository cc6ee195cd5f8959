"""The GPU path, checked: the trainer on CUDA against the CPU, its speed-up, and notebooks 01 and 03 on CUDA.

On a machine with CUDA this script

1. trains the same small CNN with the same seed on the CPU and on the GPU (synthetic MNIST-shaped data,
   so it needs no download) and prints the largest difference of the per-epoch validation errors and
   training losses. They are not bit-identical: cuDNN picks convolution algorithms whose summation
   order differs from the CPU's, so float32 sums round differently and the differences grow over
   epochs. The check passes when every validation error differs by at most ``--tolerance`` (default
   0.02, i.e. 2 points of error on the validation images) and the final training losses by at most 10 %;
2. times one training epoch of a larger CNN on both devices and prints the speed-up;
3. runs notebooks 01 and 03 at the ``smoke`` profile with ``device: cuda`` (into ``runs/gpu-check/``)
   and checks that they finish with a claims table.

Without CUDA it says so and exits 0: nothing here can be checked on a CPU-only machine.
Run: ``make gpu-check`` or ``python bench/gpu_check.py [--skip-notebooks] [--tolerance 0.02]``.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from hpo_kit.train.networks import build_network  # noqa: E402
from hpo_kit.train.synthetic import synthetic_splits  # noqa: E402
from hpo_kit.train.trainer import TrainSettings, train  # noqa: E402

SMALL_CNN = [{"type": "conv", "filters": 16, "kernel": 3}, {"type": "pool", "kernel": 2},
             {"type": "conv", "filters": 32, "kernel": 3}, {"type": "pool", "kernel": 2},
             {"type": "fc", "units": 64}]
LARGE_CNN = [{"type": "conv", "filters": 64, "kernel": 3, "padding": 1}, {"type": "conv", "filters": 64, "kernel": 3,
                                                                           "padding": 1},
             {"type": "pool", "kernel": 2}, {"type": "conv", "filters": 128, "kernel": 3, "padding": 1},
             {"type": "pool", "kernel": 2}, {"type": "fc", "units": 256}]
NOTEBOOKS = ("01_trl_hpo_mnist", "03_bohb_joint_nas_hpo")


def trainer_parity(device_a: str, device_b: str, epochs: int = 3, seed: int = 0) -> dict:
    """Train SMALL_CNN with the same seed on two devices; the largest differences of their curves."""
    splits = synthetic_splits(2048, 512, 512, seed=seed)
    curves = []  # one (val_errors, train_losses) per training; a list, so the same device twice is two runs
    for device in (device_a, device_b):
        model = build_network(SMALL_CNN, seed=seed)
        settings = TrainSettings(lr=1e-3, batch_size=128, max_epochs=epochs, device=device)
        result = train(model, splits, settings, epochs=epochs, seed=seed, limit_threads=False)
        curves.append((result.val_errors, result.train_losses))
    (va, la), (vb, lb) = curves
    return {"max_val_error_diff": max(abs(a - b) for a, b in zip(va, vb)),
            "final_loss_rel_diff": abs(la[-1] - lb[-1]) / max(abs(la[-1]), 1e-12),
            "val_errors": [va, vb]}


def epoch_seconds(device: str, n_train: int = 8192, seed: int = 0) -> float:
    """Wall seconds of one training epoch of LARGE_CNN (after one warm-up epoch)."""
    splits = synthetic_splits(n_train, 256, 0, seed=seed)
    model = build_network(LARGE_CNN, seed=seed)
    settings = TrainSettings(batch_size=128, max_epochs=2, device=device)
    state = train(model, splits, settings, epochs=1, seed=seed, limit_threads=False).state  # warm-up
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    started = time.perf_counter()
    train(model, splits, settings, epochs=2, seed=seed, state=state, limit_threads=False)
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return time.perf_counter() - started


def run_notebooks_on_cuda() -> list[str]:
    """Notebooks 01 and 03 at the smoke profile with device: cuda; the problems found (empty: all ok)."""
    from hpo_kit import paths, run as runner

    problems = []
    params = runner.validate_all(list(NOTEBOOKS), "smoke")
    for notebook in NOTEBOOKS:
        result = runner.execute(notebook, "gpu-check", {**params[notebook], "device": "cuda"}, cell_timeout=1800)
        print(f"  {notebook}: {result.status} in {result.duration_s:.0f} s" + (f" ({result.error})" if result.error else ""))
        if result.status != "ok":
            problems.append(f"{notebook}: {result.error}")
            continue
        claims = json.loads((paths.run_dir("gpu-check", notebook) / "results.json").read_text())["claims"]
        if not claims:
            problems.append(f"{notebook}: no claims table")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tolerance", type=float, default=0.02,
                        help="largest allowed difference of a validation error, CPU vs CUDA (default 0.02)")
    parser.add_argument("--skip-notebooks", action="store_true", help="only the trainer parity and speed checks")
    args = parser.parse_args(argv)
    if not torch.cuda.is_available():
        print(f"no CUDA device (torch {torch.__version__}, CUDA build: {torch.version.cuda or 'no'}): "
              "GPU check skipped; nothing to compare on a CPU-only machine")
        return 0
    torch.set_num_threads(max(1, torch.get_num_threads()))
    print(f"CUDA device: {torch.cuda.get_device_name(0)}; torch {torch.__version__}, CUDA {torch.version.cuda}")
    failures = []
    parity = trainer_parity("cpu", "cuda")
    print(f"trainer, CPU vs CUDA, same seed, 3 epochs: largest validation-error difference "
          f"{parity['max_val_error_diff']:.4f} (tolerance {args.tolerance}); final training loss differs by "
          f"{100 * parity['final_loss_rel_diff']:.2f} %")
    if parity["max_val_error_diff"] > args.tolerance or parity["final_loss_rel_diff"] > 0.10:
        failures.append("trainer results differ between CPU and CUDA beyond the tolerance")
    cpu_s, gpu_s = epoch_seconds("cpu"), epoch_seconds("cuda")
    print(f"one epoch of a 4-conv CNN on 8,192 images: CPU {cpu_s:.2f} s ({torch.get_num_threads()} threads), "
          f"CUDA {gpu_s:.2f} s: speed-up {cpu_s / gpu_s:.1f}x")
    if not args.skip_notebooks:
        print("notebooks at the smoke profile with device: cuda (runs/gpu-check/):")
        failures += run_notebooks_on_cuda()
    print("GPU check: " + ("ok" if not failures else "FAILED: " + "; ".join(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
