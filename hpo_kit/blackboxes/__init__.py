"""Tabulated objectives (blackboxes) the kit measures itself or reads: learning-curve tables replayed by
the simulator. The speed scripts live in the top-level ``bench/`` folder.

* :mod:`~hpo_kit.blackboxes.registry` — ``load_blackbox(name, ...)`` and ``BLACKBOX_NAMES``: every table below.
* :mod:`~hpo_kit.blackboxes.mnist_mlp_curves` — the shipped 512-row MNIST MLP table and its measurement.
* :mod:`~hpo_kit.blackboxes.mnist_mlp_large` — the 4,096-row table, measured in resumable shards.
* :mod:`~hpo_kit.blackboxes.public` — FCNet, LCBench and NAS-Bench-201 from the files their authors distribute.
* :mod:`~hpo_kit.blackboxes.sizing` — how long a simulated run may last before it runs out of rows.
"""
