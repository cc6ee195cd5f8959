"""HPO-B's published result curves on search space 5971, as reference values for the claims.

``data/hpob_reference_5971.json`` holds, for each (dataset, seed) of space 5971's six meta-test
tasks, the normalised incumbent at trials 0, 5, 10, 25, 50 and 100 (where the file has them) of
five published result files:

* ``Random`` and ``GP`` -- HPO-B's discrete-protocol runs (random search, GP);
* ``RS-C`` and ``GP-C`` -- HPO-B's continuous-protocol (surrogate) runs;
* ``GEN-VAE`` -- the coding-challenge fork's run of its method (continuous protocol, 50 trials).

The first four are in machinelearningnuremberg/HPO-B ``results/`` (the fork carries identical
copies: same git blobs); ``GEN-VAE.json`` only in youssefnassar95/HPO-B. Regenerate with
``python -m hpo_kit.gen_vae.reference <folder with those results/*.json>``. Only numbers are
kept; the files' blob ids and the repositories' commits are recorded for provenance.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

PATH = Path(__file__).resolve().parent / "data" / "hpob_reference_5971.json"
TRIALS = (0, 5, 10, 25, 50, 100)
FILES = {"Random": "discrete", "GP": "discrete", "RS-C": "continuous", "GP-C": "continuous",
         "GEN-VAE": "continuous"}
PROVENANCE = {
    "machinelearningnuremberg/HPO-B": {"commit": "70863f302c1ff3339af4ea92cb0b624372993573",
                                       "files": ["Random", "GP", "RS-C", "GP-C"]},
    "youssefnassar95/HPO-B": {"commit": "a956bf2cf074acdd16d2f52d98c1ffb3710f6204", "files": ["GEN-VAE"]},
    "blobs": {"Random": "528642cc9a9d0aefe0152ea5ee86b51e199c4ec0", "GP": "9135e1b95be3d8fd2236d605cb12887ad599d04b",
              "RS-C": "684a426dafefe5fffaa175278657b9317baa6757", "GP-C": "6ffe0a7f255f0da0deb3db7f257534b1c9ca7bed",
              "GEN-VAE": "d106f7af650bd9ea73c9675139b44dd2d5957430"},
}


def extract(results_dir: str | Path, space: str = "5971") -> dict:
    out = {"space": space, "trials": list(TRIALS), "protocol": FILES, "provenance": PROVENANCE, "incumbents": {}}
    for name in FILES:
        data = json.loads((Path(results_dir) / f"{name}.json").read_text())[space]
        out["incumbents"][name] = {ds: {s: {str(t): float(c[t]) for t in TRIALS if t < len(c)} for s, c in seeds.items()}
                                   for ds, seeds in data.items()}
    return out


def load() -> dict:
    return json.loads(PATH.read_text())


def reference_frame(method: str):
    """One published file's 5971 curves as rows (dataset, seed, trial, regret)."""
    import pandas as pd

    ref = load()["incumbents"]
    if method not in ref:
        raise ValueError(f"method must be one of {list(ref)}, got {method!r}")
    rows = [{"dataset": ds, "seed": s, "trial": int(t), "regret": max(0.0, 1.0 - v)}
            for ds, seeds in ref[method].items() for s, c in seeds.items() for t, v in c.items()]
    return pd.DataFrame(rows)


def mean_regret(method: str, trial: int) -> float:
    f = reference_frame(method)
    return float(np.mean(f[f.trial == trial].regret))


if __name__ == "__main__":
    PATH.parent.mkdir(parents=True, exist_ok=True)
    PATH.write_text(json.dumps(extract(sys.argv[1]), indent=0, sort_keys=True) + "\n")
    print(f"wrote {PATH}")
