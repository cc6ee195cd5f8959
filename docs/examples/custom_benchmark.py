"""A tabulated benchmark of your own: record learning curves once, replay them in milliseconds.

A tabulated benchmark is a :class:`hpo_kit.objectives.tabular.LearningCurveTable`: for each of a
fixed set of configurations, the validation error and the seconds of every epoch. Saved with
``to_npz`` it is a plain NumPy archive; :class:`~hpo_kit.objectives.tabular.TabularObjective` turns
it into an objective, and the simulator backend replays a tuning run on it with the recorded costs.

Here the curves are measured for real: scikit-learn's ``SGDClassifier`` (logistic regression) on
the 8x8 digits that ship with scikit-learn, 24 configurations (learning rate, L2 penalty) for 9
epochs each, one ``partial_fit`` pass per epoch, timed in CPU seconds. ``python
docs/examples/custom_benchmark.py`` measures the table, saves and reloads it, runs ASHA on it and
prints the best configuration it found next to the best one in the table.
"""
from __future__ import annotations

import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

from hpo_kit.objectives.tabular import LearningCurveTable

NAMES = np.array(["eta0", "alpha"])          # SGD's constant learning rate and its L2 penalty
LOWER, UPPER = np.array([1e-4, 1e-6]), np.array([1.0, 1e-1])
LOG = np.array([True, True])


def measure_table(n_configs: int = 24, n_epochs: int = 9, seed: int = 0) -> LearningCurveTable:
    """Train every configuration ``n_epochs`` epochs and record its curve (about a second of CPU)."""
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.model_selection import train_test_split

    rng = np.random.default_rng(seed)
    images, labels = load_digits(return_X_y=True)
    x_train, x_val, y_train, y_val = train_test_split(images / 16.0, labels, test_size=0.3, random_state=seed,
                                                      stratify=labels)
    # log-uniform configurations: the design a table is measured on is fixed before any training
    X = np.exp(np.log(LOWER) + rng.random((n_configs, 2)) * (np.log(UPPER) - np.log(LOWER)))
    val_error, epoch_time = np.empty((n_configs, n_epochs)), np.empty((n_configs, n_epochs))
    for row, (eta0, alpha) in enumerate(X):
        model = SGDClassifier(loss="log_loss", learning_rate="constant", eta0=eta0, alpha=alpha, random_state=seed)
        for epoch in range(n_epochs):
            started = time.process_time()
            model.partial_fit(x_train, y_train, classes=np.arange(10))
            epoch_time[row, epoch] = time.process_time() - started
            val_error[row, epoch] = 1.0 - model.score(x_val, y_val)
    return LearningCurveTable(NAMES, LOWER, UPPER, LOG, X, val_error, epoch_time=epoch_time)


def tune_on_table(table: LearningCurveTable, seed: int = 0):
    """ASHA (promotion) over the table's rows on 4 simulated workers; returns the HPOResult."""
    from hpo_kit.methods import make_backend, make_scheduler
    from hpo_kit.objectives.tabular import TabularObjective
    from hpo_kit.tuner import run_hpo

    objective = TabularObjective(table, mode="exact")   # "exact": only the table's rows are valid
    # candidates: the searcher picks among the rows, each once; max_trials: every row starts once
    scheduler = make_scheduler("asha-promotion", objective.space, 1, table.n_epochs, eta=3, seed=seed,
                               candidates=objective.candidates(), on_exhausted="stop", max_trials=table.n_configs)
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        # the tuner warns when the last row is taken; here that is the plan (the log records it too)
        warnings.filterwarnings("ignore", message="all .* candidates have been tried", category=RuntimeWarning)
        return run_hpo(objective, scheduler, make_backend("simulator", n_workers=4), folder, seed=seed,
                       progress=False)


if __name__ == "__main__":
    table = measure_table()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "digits_sgd.npz"
        table.to_npz(path)                                     # ship this file
        table = LearningCurveTable.from_npz(path)              # ... and load it anywhere
    result = tune_on_table(table)
    final = table.val_error[:, -1]
    print(f"ASHA: validation error {result.best_loss:.4f} at {result.best_resource} epochs, "
          f"{result.total_resource:.0f} of {table.val_error.size} epochs, {result.elapsed:.3f} simulated CPU seconds; "
          f"best in the table {np.nanmin(final):.4f} (median {np.nanmedian(final):.4f})")
