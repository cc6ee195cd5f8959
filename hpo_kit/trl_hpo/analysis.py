"""Transparency analyses of a layer-wise search: layer-type pairs, attention against reward, best networks."""
from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import torch

from hpo_kit.stats import mean_and_se
from hpo_kit.trl_hpo.actions import describe_architecture
from hpo_kit.trl_hpo.agent import TRLResult
from hpo_kit.trl_hpo.compare import MethodRun
from hpo_kit.trl_hpo.environment import network_macs
from hpo_kit.trl_hpo.model import slot_attention


def steps_frame(runs: list[MethodRun]) -> pd.DataFrame:
    """Every environment step of every run (method, mode, seed, episode, slot, kinds, reward, ...).

    ``mode`` is the environment's (faithful or fixed); ``prefix`` identifies the network the step
    trained (its layers so far, as JSON), so that repeated evaluations of one network in a run can be
    recognised: the cache returns the same reward, which is one measurement, not a new one.
    """
    rows = []
    for r in runs:
        for episode in r.env.episodes:
            layers: list[dict] = []
            for step in episode:
                layers = layers + [step["layer"]]
                rows.append({"method": r.method, "mode": r.env.config.mode, "seed": r.seed,
                             **{k: v for k, v in step.items() if k != "layer"}, "layer": step["layer"],
                             "prefix": json.dumps(layers, sort_keys=True) if step["valid"] else ""})
    columns = ["method", "mode", "seed", "episode", "slot", "previous_kind", "kind", "valid", "reward", "accuracy",
               "done", "reason", "cached", "elapsed_s", "layer", "prefix"]
    return pd.DataFrame(rows, columns=columns)


def step_counts(steps: pd.DataFrame) -> pd.DataFrame:
    """Per method and mode: all steps, invalid ones (reward -1), first layers, and what the step claims use.

    The fc -> fc and attention claims use valid steps after the first layer only; an invalid step's
    -1 is a penalty for an impossible network, not a measured gain.
    """
    rows = []
    for (method, mode), part in steps.groupby(["method", "mode"], sort=False):
        valid = part.valid.astype(bool)
        later = valid & (part.slot > 0)
        fc_fc = later & (part.previous_kind == "fc") & (part.kind == "fc")
        distinct = part[later].drop_duplicates(["seed", "prefix"]) if "prefix" in part else part[later]
        rows.append({"method": method, "mode": mode, "steps": len(part), "invalid": int((~valid).sum()),
                     "first layers": int((valid & (part.slot == 0)).sum()), "valid after first": int(later.sum()),
                     "distinct networks after first": len(distinct), "fc -> fc": int(fc_fc.sum())})
    return pd.DataFrame(rows, columns=["method", "mode", "steps", "invalid", "first layers", "valid after first",
                                       "distinct networks after first", "fc -> fc"])


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


def attention_frame(result: TRLResult, readout: str) -> pd.DataFrame:
    """For every afterstate the agent visited: the critic's per-slot attention (first block) and reward.

    ``weight_new`` is the weight of the slot that was just filled; ``reward`` is that step's reward.
    The final critic is used, so the weights describe what the trained critic attends to.
    ``prefix`` names the network the step built (JSON of its layers; "" for an invalid step), so that
    revisits of one network count once; ``n_updates`` is how often the critic was updated in the run
    (0: its attention is its random initialisation).
    """
    columns = ["slot", "weight_new", "reward", "kind", "valid", "episode", "prefix", "n_updates"]
    v = result.visited
    if len(v.get("reward", [])) == 0:
        return pd.DataFrame(columns=columns)
    weights = slot_attention(result.agent.critic, torch.from_numpy(v["actions"]), torch.from_numpy(v["perfs"]),
                             torch.from_numpy(v["n_filled"].astype(np.int64)), readout=readout)
    slots = v["slot"].astype(int)
    kinds, prefixes = {}, {}
    for ep in result.env.episodes:
        layers: list[dict] = []
        for s in ep:
            layers = layers + [s["layer"]]
            kinds[(s["episode"], s["slot"])] = s["kind"]
            prefixes[(s["episode"], s["slot"])] = json.dumps(layers, sort_keys=True) if s["valid"] else ""
    frame = pd.DataFrame({"slot": slots, "weight_new": weights[np.arange(len(slots)), slots],
                          "reward": v["reward"].astype(float), "valid": v["valid"].astype(bool),
                          "episode": v["episode"].astype(int)})
    frame["kind"] = [kinds.get((e, s), "?") for e, s in zip(frame.episode, frame.slot)]
    frame["prefix"] = [prefixes.get((e, s), "") for e, s in zip(frame.episode, frame.slot)]
    frame["n_updates"] = int(result.n_updates)
    for j in range(weights.shape[1]):
        frame[f"w{j}"] = weights[:, j]
    return frame


def mean_se_text(values: Any) -> str:
    """``mean ± s.e.`` of the finite values (``n/a`` when there are none; no s.e. below two)."""
    m, se, _ = mean_and_se(values)
    return "n/a" if np.isnan(m) else (f"{m:.4f}" if np.isnan(se) else f"{m:.4f} ± {se:.4f}")


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


__all__ = ["architecture_table", "attention_frame", "layer_pairs", "mean_se_text", "slot_table", "step_counts", "steps_frame"]
