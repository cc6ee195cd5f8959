"""Tabulated objectives (blackboxes) the kit measures itself or reads: learning-curve tables replayed by
the simulator. The speed scripts live in the top-level ``bench/`` folder."""
