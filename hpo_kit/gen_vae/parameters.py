"""Rules between notebook 05's parameters (see hpo_kit/parameter_rules.py)."""
from __future__ import annotations

from hpo_kit import parameter_rules as rules

#: methods every claim row compares against (a run without them leaves the claims unmeasured)
CLAIM_METHODS = ("random", "gen_vae_faithful")


def check(values: dict) -> list[str]:
    problems = rules.not_empty(values, "methods")
    methods = list(values.get("methods", []))
    dupes = sorted({m for m in methods if methods.count(m) > 1})
    if dupes:
        problems.append(f"methods = {methods} lists {dupes} more than once; name each method once")
    missing = [m for m in CLAIM_METHODS if methods and m not in methods]
    if missing:
        problems.append(f"methods = {methods} lacks {missing}: every GEN-VAE claim compares with random search and "
                        "faithful GEN-VAE; add them")
    if values.get("profile") == "paper" and values.get("data") == "fixture":
        problems.append("profile = 'paper' with data = 'fixture': the fixture is synthetic test data; the paper "
                        "profile runs on HPO-B's data or the kit's meta-dataset (data = auto, hpob or kit)")
    data = values.get("data", "auto")
    space = str(values.get("search_space", "5971"))
    if data == "hpobench":
        if space != "hpobench_mlp":
            problems.append(f"search_space = {space!r} with data = 'hpobench': the public tables form one space; "
                            "use search_space = 'hpobench_mlp'")
        if values.get("protocol", "continuous") != "discrete":
            problems.append(f"protocol = {values.get('protocol', 'continuous')!r} with data = 'hpobench': the public "
                            "tables have no surrogates (every configuration is measured); use protocol = 'discrete'")
    elif space == "hpobench_mlp":
        problems.append(f"search_space = 'hpobench_mlp' with data = {data!r}: that space is the public tables; "
                        "use data = 'hpobench'")
    elif not space.isdigit():
        problems.append(f"search_space = {space!r} must be an HPO-B search-space id (digits, e.g. '5971'), "
                        "or 'hpobench_mlp' with data = 'hpobench'")
    elif data in ("kit", "fixture") and space != "5971":
        problems.append(f"search_space = {space!r} with data = {data!r}: the kit's meta-dataset and the fixture hold "
                        "space 5971 only; use search_space = '5971', or data = 'hpob' with HPO-B's files")
    problems += rules.existing_path(values, "hpob_dir", used=data in ("auto", "hpob"),
                                    unused_because=f"with data = {data!r} (only data = 'hpob' or 'auto' read HPO-B's files)",
                                    empty_means="HPO_KIT_HPOB, the kit's data folder or the current folder")
    return problems
