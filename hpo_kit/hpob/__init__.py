"""The HPO-B benchmark protocol and the kit's own HPO-B-format meta-dataset.

Interface (see each module for details):

* :class:`HPOBHandler` ``(root_dir="hpob-data", mode="v3-test", surrogates_dir=None)`` -- HPO-B's
  semantics: ``evaluate(method, search_space_id, dataset_id, seed, n_trials)`` (pool index),
  ``evaluate_continuous(method, search_space_id, dataset_id, seed, n_trials, *, faithful=True)``
  (point in [0, 1]^d scored by the task's surrogate), both returning ``n_trials + 1`` incumbents;
  ``evaluate_all(make_method, search_space_id, n_trials, *, datasets=None, seeds=None, continuous=False)``
  -> ``{space: {dataset: {seed: [incumbents]}}}``; ``get_search_spaces()``, ``get_datasets(space)``,
  ``get_seeds()``, ``get_search_space_dim(space)``, ``tasks(space, split)``, ``task(space, dataset)``,
  ``initial_design(space, dataset, seed)``, ``split_data(split)``, attributes ``meta_train_data``,
  ``meta_validation_data``, ``meta_test_data``, ``bo_initializations``, ``info``, ``source``.
* :func:`save_results`, :func:`load_results`, :func:`merge_results` -- HPO-B's results layout.
* :func:`hpo_kit.hpob.kit_meta.open_benchmark` ``(source="auto"|"hpob"|"kit", mode="v3", ...)`` -- the
  real HPO-B data when on disk, else the kit's own measurements (NOT HPO-B's numbers).
* :func:`hpo_kit.hpob.kit_meta.build_hpob_folder`, :func:`~hpo_kit.hpob.kit_meta.kit_handler`.
* :func:`hpo_kit.hpob.download.locate_hpob`, :func:`~hpo_kit.hpob.download.download_hpob` (only when asked).
* :mod:`hpo_kit.hpob.surrogates` -- HPO-B's surrogate recipe; :mod:`hpo_kit.hpob.kit_space` -- the
  16-column XGBoost space 5971 and its CPU-sized ranges; ``python -m hpo_kit.hpob.measure_kit_meta``.
"""
from hpo_kit.hpob.handler import (MODES, SEEDS, SPLITS, HPOBHandler, load_results, merge_results, read_json,
                                  save_results, surrogate_name)

__all__ = ["HPOBHandler", "MODES", "SEEDS", "SPLITS", "load_results", "merge_results", "read_json",
           "save_results", "surrogate_name"]
