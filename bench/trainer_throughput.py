"""How fast is ``hpo_kit.train.train`` compared with a bare hand-written torch loop, and threads?

Prints images/s for a small CNN and an MLP on MNIST (``mnist_splits``; random tensors if MNIST is
unavailable), trained by ``train()`` and by the plainest possible loop doing the same work
(same model and data, Adam, per-epoch validation, final test evaluation), one thread each.
Goal: train() reaches >= 90 % of the bare loop's throughput. The ratio is taken on CPU seconds of
this process, which with one thread measure the work done and are barely moved by other programs
competing for the cores (wall-clock seconds, also printed, are).

Then the effect of the thread count: one process with 1, 2 and torch's default number of threads,
and two processes training side by side (what an HPO backend does) with 1 thread each versus
torch's default each.

    python bench/trainer_throughput.py [--n-train 10000] [--epochs 2] [--repeats 3]
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time
import warnings

import torch
import torch.nn.functional as F

DEFAULT_THREADS = torch.get_num_threads()  # before anything limits it

from hpo_kit.data.splits import Splits  # noqa: E402
from hpo_kit.train import TrainSettings, build_network, evaluate_error, synthetic_splits, train  # noqa: E402

NETWORKS = {
    "cnn": [{"type": "conv", "filters": 16, "kernel": 5}, {"type": "pool", "kernel": 2},
            {"type": "conv", "filters": 32, "kernel": 5}, {"type": "pool", "kernel": 2},
            {"type": "fc", "units": 64}],
    "mlp": [{"type": "fc", "units": 256}, {"type": "fc", "units": 128}],
}
BATCH_SIZE = 64


def load_data(n_train: int) -> Splits:
    try:
        from hpo_kit.data import mnist_splits

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return mnist_splits(n_train, 2000, 2000, seed=0, download=False)
    except Exception as err:  # no MNIST here: random tensors of the same shape cost the same to train
        print(f"MNIST unavailable ({type(err).__name__}: {err}); using random tensors")
        return synthetic_splits(n_train, 2000, 2000, seed=0)


def bare_loop(model: torch.nn.Module, splits: Splits, epochs: int, seed: int) -> float:
    """The same work as train(), written as plainly as possible; returns the final test error."""
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    generator = torch.Generator().manual_seed(seed)
    n = splits.train_y.shape[0]
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(n, generator=generator)
        for start in range(0, n, BATCH_SIZE):
            idx = perm[start:start + BATCH_SIZE]
            loss = F.cross_entropy(model(splits.train_x[idx]), splits.train_y[idx])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        evaluate_error(model, splits.val_x, splits.val_y, 1000)
    return evaluate_error(model, splits.test_x, splits.test_y, 1000)


def time_train(name: str, splits: Splits, epochs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of train() on network ``name``."""
    model = build_network(NETWORKS[name], seed=0)
    settings = TrainSettings(optimizer="adam", lr=1e-3, batch_size=BATCH_SIZE, max_epochs=epochs)
    wall, cpu = time.perf_counter(), time.process_time()
    train(model, splits, settings, epochs=epochs, seed=0, limit_threads=False)
    return time.perf_counter() - wall, time.process_time() - cpu


def time_bare(name: str, splits: Splits, epochs: int) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process) of the bare loop on network ``name``."""
    model = build_network(NETWORKS[name], seed=0)
    wall, cpu = time.perf_counter(), time.process_time()
    bare_loop(model, splits, epochs, seed=0)
    return time.perf_counter() - wall, time.process_time() - cpu


def _worker(args: tuple[str, int, int, int]) -> float:
    """One process of the side-by-side test: train with ``threads`` threads, return images/s."""
    name, n_train, epochs, threads = args
    torch.set_num_threads(threads)
    splits = synthetic_splits(n_train, 500, 500, seed=0)
    return n_train * epochs / time_train(name, splits, epochs)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-train", type=int, default=10_000, help="training images per epoch")
    parser.add_argument("--epochs", type=int, default=2, help="epochs per timed run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per variant (best is kept)")
    parser.add_argument("--skip-processes", action="store_true", help="skip the two-process test")
    args = parser.parse_args()

    torch.set_num_threads(1)
    splits = load_data(args.n_train)
    print(f"data: {splits.source}")
    print(f"torch {torch.__version__}, {os.cpu_count()} CPUs, torch default threads {DEFAULT_THREADS}")
    print(f"{args.n_train} training images x {args.epochs} epochs, batch {BATCH_SIZE}, best of {args.repeats}\n")
    time_train("mlp", synthetic_splits(256, 64, 64), 1)  # warm-up: first optimizer use imports torch._dynamo

    images = args.n_train * args.epochs
    print("1 thread     images per CPU second (per wall second)    train()/bare")
    print("             train()              bare loop                (CPU time)")
    for name in NETWORKS:
        train_times, bare_times = [], []
        for _ in range(args.repeats):  # interleaved, so background load hits both alike
            bare_times.append(time_bare(name, splits, args.epochs))
            train_times.append(time_train(name, splits, args.epochs))
        wall_train, cpu_train = min(t[0] for t in train_times), min(t[1] for t in train_times)
        wall_bare, cpu_bare = min(t[0] for t in bare_times), min(t[1] for t in bare_times)
        ratio = cpu_bare / cpu_train
        verdict = "ok" if ratio >= 0.9 else "below the 90 % goal"
        print(f"{name:<8}{images / cpu_train:>10,.0f} ({images / wall_train:>6,.0f})"
              f"{images / cpu_bare:>14,.0f} ({images / wall_bare:>6,.0f}){ratio:>15.1%}  {verdict}")

    print("\nthreads, one process   cnn img/s (wall)   mlp img/s (wall)")
    for threads in sorted({1, 2, DEFAULT_THREADS}):
        torch.set_num_threads(threads)
        rates = [images / min(time_train(name, splits, args.epochs)[0] for _ in range(args.repeats))
                 for name in NETWORKS]
        label = f"{threads}" + (" (default)" if threads == DEFAULT_THREADS else "")
        print(f"{label:<24}{rates[0]:>16,.0f}{rates[1]:>19,.0f}")
    torch.set_num_threads(1)

    if not args.skip_processes:
        print("\ntwo processes side by side (cnn, random tensors), total img/s (wall)")
        ctx = mp.get_context("spawn")
        for threads in sorted({1, DEFAULT_THREADS}):
            with ctx.Pool(2) as pool:
                rates = pool.map(_worker, [("cnn", args.n_train, args.epochs, threads)] * 2)
            label = f"{threads} thread(s) each" + (" (default)" if threads == DEFAULT_THREADS else "")
            print(f"{label:<28}{sum(rates):>10,.0f}")


if __name__ == "__main__":
    main()
