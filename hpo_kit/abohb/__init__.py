"""A-BOHB (Klein et al. 2020, arXiv 2003.10865): asynchronous Hyperband with stopping or promotion and a
multi-fidelity GP searcher, compared on a learning-curve table with an exact simulator.

* :mod:`hpo_kit.abohb.experiment`: the simulated grid of (method, workers, seed) runs and the
  per-run frames (incumbents at given times, times and epochs to targets, table exhaustion);
* :mod:`hpo_kit.abohb.claims`: the claims of notebook 04, decided from those frames.

The methods themselves are the kit's schedulers and searchers (``hpo_kit.methods``).
"""
from hpo_kit.abohb.experiment import (SimulationSettings, comparison_time, describe, exhaustion_frame,
                                      exhaustion_summary, exhaustion_time, incumbent_frame, shifts_over_time, simulate_grid,
                                      simulate_one, target_frame)

__all__ = ["SimulationSettings", "comparison_time", "describe", "exhaustion_frame", "exhaustion_time",
           "incumbent_frame", "simulate_grid", "simulate_one", "target_frame", "shifts_over_time", "exhaustion_summary"]
