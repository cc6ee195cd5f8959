"""Transparency analyses of a layer-wise search: layer-type pairs, attention against reward, best networks."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch
from scipy import stats

from hpo_kit.trl_hpo.actions import describe_architecture
from hpo_kit.trl_hpo.agent import TRLResult
from hpo_kit.trl_hpo.compare import MethodRun
from hpo_kit.trl_hpo.environment import network_macs
from hpo_kit.trl_hpo.model import slot_attention


def steps_frame(runs: list[MethodRun]) -> pd.DataFrame:
    """Every environment step of every run (method, seed, episode, slot, kinds, reward, ...)."""
    rows = [{"method": r.method, "seed": r.seed, **{k: v for k, v in step.items() if k != "layer"},
             "layer": step["layer"]}
            for r in runs for episode in r.env.episodes for step in episode]
    columns = ["method", "seed", "episode", "slot", "previous_kind", "kind", "valid", "reward", "accuracy",
               "done", "reason", "cached", "elapsed_s", "layer"]
    return pd.DataFrame(rows, columns=columns)


def layer_pairs(steps: pd.DataFrame) -> pd.DataFrame:
    """Frequency and reward of each consecutive layer-type pair (``previous -> new``).

    Only valid steps after the first layer: the first layer's reward is its accuracy rather than a
    gain, and an invalid proposal's -1 says nothing about how the pair performs once trained.
    """
    valid = steps[(steps.valid.astype(bool)) & (steps.slot > 0)]
    if valid.empty:
        return pd.DataFrame(columns=["pair", "count", "share", "mean_reward", "se_reward", "mean_accuracy"])
    pair = valid.previous_kind + " -> " + valid.kind
    grouped = valid.assign(pair=pair).groupby("pair")
    table = pd.DataFrame({
        "count": grouped.size(),
        "mean_reward": grouped.reward.mean(),
        "se_reward": grouped.reward.std(ddof=1) / np.sqrt(grouped.size()),
        "mean_accuracy": grouped.accuracy.mean(),
    })
    table["share"] = table["count"] / table["count"].sum()
    return table.reset_index()[["pair", "count", "share", "mean_reward", "se_reward", "mean_accuracy"]]


def fc_stacking_effect(steps: pd.DataFrame) -> dict[str, float]:
    """Mean reward of ``fc -> fc`` steps minus that of every other pair, with a Mann-Whitney p-value."""
    valid = steps[(steps.valid.astype(bool)) & (steps.slot > 0)]
    fc_fc = valid[(valid.previous_kind == "fc") & (valid.kind == "fc")].reward.to_numpy(float)
    other = valid[~((valid.previous_kind == "fc") & (valid.kind == "fc"))].reward.to_numpy(float)
    if len(fc_fc) == 0 or len(other) == 0:
        return {"difference": float("nan"), "p_value": float("nan"), "n_fc_fc": len(fc_fc), "n_other": len(other),
                "mean_fc_fc": float(np.mean(fc_fc)) if len(fc_fc) else float("nan"),
                "mean_other": float(np.mean(other)) if len(other) else float("nan")}
    p = stats.mannwhitneyu(fc_fc, other, alternative="less").pvalue if len(fc_fc) > 1 and len(other) > 1 else float("nan")
    return {"difference": float(fc_fc.mean() - other.mean()), "p_value": float(p), "n_fc_fc": len(fc_fc),
            "n_other": len(other), "mean_fc_fc": float(fc_fc.mean()), "mean_other": float(other.mean())}


def attention_frame(result: TRLResult, readout: str) -> pd.DataFrame:
    """For every afterstate the agent visited: the critic's per-slot attention (first block) and reward.

    ``weight_new`` is the weight of the slot that was just filled; ``reward`` is that step's reward.
    The final critic is used, so the weights describe what the trained critic attends to.
    """
    v = result.visited
    if len(v.get("reward", [])) == 0:
        return pd.DataFrame(columns=["slot", "weight_new", "reward", "kind", "valid", "episode"])
    weights = slot_attention(result.agent.critic, torch.from_numpy(v["actions"]), torch.from_numpy(v["perfs"]),
                             torch.from_numpy(v["n_filled"].astype(np.int64)), readout=readout)
    slots = v["slot"].astype(int)
    episodes = result.env.episodes
    kinds = {(s["episode"], s["slot"]): s["kind"] for ep in episodes for s in ep}
    frame = pd.DataFrame({"slot": slots, "weight_new": weights[np.arange(len(slots)), slots],
                          "reward": v["reward"].astype(float), "valid": v["valid"].astype(bool),
                          "episode": v["episode"].astype(int)})
    frame["kind"] = [kinds.get((e, s), "?") for e, s in zip(frame.episode, frame.slot)]
    for j in range(weights.shape[1]):
        frame[f"w{j}"] = weights[:, j]
    return frame


def spearman_with_ci(x: np.ndarray, y: np.ndarray, n_boot: int = 2000, seed: int = 0,
                     level: float = 0.95) -> dict[str, float]:
    """Spearman's rho, its two-sided p-value and a percentile bootstrap confidence interval."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    keep = np.isfinite(x) & np.isfinite(y)
    x, y = x[keep], y[keep]
    n = len(x)
    nan = {"rho": float("nan"), "p_value": float("nan"), "ci_low": float("nan"), "ci_high": float("nan"), "n": n}
    if n < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return nan
    rho, p = stats.spearmanr(x, y)
    rng = np.random.default_rng(seed)
    boots = []
    for _ in range(n_boot):
        idx = rng.integers(0, n, n)
        if np.ptp(x[idx]) > 0 and np.ptp(y[idx]) > 0:
            boots.append(stats.spearmanr(x[idx], y[idx])[0])
    if not boots:
        return {"rho": float(rho), "p_value": float(p), "ci_low": float("nan"), "ci_high": float("nan"), "n": n}
    alpha = (1 - level) / 2
    return {"rho": float(rho), "p_value": float(p), "ci_low": float(np.quantile(boots, alpha)),
            "ci_high": float(np.quantile(boots, 1 - alpha)), "n": n}


def mean_and_se(values: np.ndarray) -> tuple[float, float]:
    values = np.asarray(values, float)
    values = values[np.isfinite(values)]
    if len(values) == 0:
        return float("nan"), float("nan")
    se = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else float("nan")
    return float(values.mean()), float(se)


def architecture_table(final: pd.DataFrame, input_shape: tuple[int, ...] = (1, 28, 28)) -> pd.DataFrame:
    """The best network of every run, drawn as a row of layers, with its size in multiply-adds."""
    rows = []
    for r in final.sort_values("best_accuracy", ascending=False).itertuples():
        if r.best_layers is None:
            continue
        rows.append({"method": r.label, "seed": r.seed, "val_accuracy": r.best_accuracy,
                     "layers": len(r.best_layers), "architecture": describe_architecture(r.best_layers),
                     "mmacs": network_macs(r.best_layers, input_shape) / 1e6, "found_at_s": r.found_at_s})
    return pd.DataFrame(rows)


def slot_table(frame: pd.DataFrame, by: str) -> pd.DataFrame:
    """Mean attention weight of the newest slot and mean reward, grouped by ``by`` (slot or kind)."""
    if frame.empty:
        return pd.DataFrame(columns=[by, "count", "mean_weight_new", "mean_reward"])
    grouped = frame.groupby(by)
    return pd.DataFrame({"count": grouped.size(), "mean_weight_new": grouped.weight_new.mean(),
                         "mean_reward": grouped.reward.mean()}).reset_index()


__all__ = ["architecture_table", "attention_frame", "fc_stacking_effect", "layer_pairs", "mean_and_se",
                      "slot_table", "spearman_with_ci", "steps_frame"]
