"""Analyses of HPO results: fANOVA importance (per budget) and rank correlation between budgets."""
from hpo_kit.analysis.fanova_compat import FittedFanova, fanova_importances, fit_fanova, marginal_curve
from hpo_kit.analysis.importance import (
    FanovaInputs,
    ImportanceChange,
    ImportanceFn,
    binned_main_effects,
    bootstrap_importance_change,
    fanova_main_effects,
    fit_fanova_per_budget,
    importance_change,
    importance_per_budget,
    importance_table,
    marginal_curves,
    plot_importance_per_budget,
    plot_marginal_curves,
    space_to_fanova_inputs,
)
from hpo_kit.analysis.rank_correlation import (
    bootstrap_neighbour_far,
    bootstrap_spearman_ci,
    configs_per_budget,
    far_pair,
    neighbour_and_far,
    plot_rank_correlation,
    rank_correlation_table,
)

__all__ = [
    "FanovaInputs", "FittedFanova", "ImportanceChange", "ImportanceFn", "binned_main_effects",
    "bootstrap_importance_change", "bootstrap_neighbour_far", "bootstrap_spearman_ci", "configs_per_budget",
    "fanova_importances", "fanova_main_effects", "far_pair", "fit_fanova", "fit_fanova_per_budget",
    "importance_change", "importance_per_budget", "importance_table",
    "marginal_curve", "marginal_curves", "neighbour_and_far", "plot_importance_per_budget", "plot_marginal_curves",
    "plot_rank_correlation", "rank_correlation_table", "space_to_fanova_inputs",
]
