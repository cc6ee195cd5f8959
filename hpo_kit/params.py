"""Notebook parameters: read them from the notebook's ``parameters`` cell, validate values against them.

The ``parameters`` cell is the single source of truth. Each line is a type-annotated literal whose
comment ends with the allowed values, ``[lo, hi]`` or ``{a, b, c}``::

    n_train: int = 4000  # training images [100, 60000]
    backend: str = "local"  # where evaluations run {sequential, local, dask}

The runner checks every ``params/<profile>/<notebook>.yaml`` against it before executing anything,
and the notebook checks its (possibly papermill-injected) values again in its first code cell.
"""
from __future__ import annotations

import ast
import io
import json
import math
import re
import tokenize
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from hpo_kit import paths

SUPPORTED_TYPES = ("int", "float", "str", "bool", "list[int]", "list[float]", "list[str]")
_RANGE = re.compile(r"\[\s*([^\[\],]+?)\s*,\s*([^\[\],]+?)\s*\]\s*$")
_CHOICES = re.compile(r"\{([^{}]*)\}\s*$")


class ParameterError(ValueError):
    """A parameter value (or a parameters cell) that breaks the notebook's declared rules."""


@dataclass(frozen=True)
class ParamSpec:
    """One declared parameter: its type, default, meaning and allowed values."""

    name: str
    type_name: str
    default: Any
    description: str
    low: float | None = None
    high: float | None = None
    choices: tuple[Any, ...] | None = None

    @property
    def element_type(self) -> str:
        return self.type_name[5:-1] if self.type_name.startswith("list[") else self.type_name

    def allowed(self) -> str:
        """The allowed values in words, for error messages."""
        what = f"{self.type_name}"
        if self.choices is not None:
            return f"{what}, one of {{{', '.join(map(str, self.choices))}}}"
        if self.low is not None:
            return f"{what} in [{_fmt(self.low)}, {_fmt(self.high)}]"
        return what


def _fmt(x: float | None) -> str:
    return str(int(x)) if isinstance(x, float) and x.is_integer() and abs(x) < 1e15 else str(x)


# ----------------------------------------------------------------------------- reading the cell
def parameters_cell_source(notebook_path: Path) -> str:
    """Source of the one code cell tagged ``parameters``; errors if there is none or several."""
    nb = json.loads(Path(notebook_path).read_text())
    cells = [c for c in nb.get("cells", [])
             if c.get("cell_type") == "code" and "parameters" in c.get("metadata", {}).get("tags", [])]
    if len(cells) != 1:
        raise ParameterError(f"{notebook_path}: expected exactly one code cell tagged 'parameters', "
                             f"found {len(cells)}")
    src = cells[0]["source"]
    return "".join(src) if isinstance(src, list) else src


def parse_parameters_cell(source: str, origin: str = "parameters cell") -> dict[str, ParamSpec]:
    """Parse ``name: type = literal  # meaning [lo, hi]`` lines into specs (in declaration order)."""
    comments: dict[int, str] = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            comments[tok.start[0]] = tok.string.lstrip("#").strip()
    specs: dict[str, ParamSpec] = {}
    for node in ast.parse(source).body:
        if not (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value):
            raise ParameterError(f"{origin}, line {node.lineno}: every statement must be "
                                 f"'name: type = literal  # meaning'; got {ast.unparse(node)!r}")
        name, type_name = node.target.id, ast.unparse(node.annotation).replace(" ", "")
        if type_name not in SUPPORTED_TYPES:
            raise ParameterError(f"{origin}: parameter {name!r} has type {type_name!r}; "
                                 f"allowed types: {', '.join(SUPPORTED_TYPES)}")
        try:
            default = ast.literal_eval(node.value)
        except ValueError as e:
            raise ParameterError(f"{origin}: the default of {name!r} must be a literal ({e})") from None
        comment = comments.get(node.lineno, "")
        if not comment:
            raise ParameterError(f"{origin}: parameter {name!r} needs a comment saying what it means")
        spec = _spec_from_comment(name, type_name, default, comment, origin)
        # The defaults themselves must obey the declared rules.
        validate_value(spec, default, f"{origin} (default)")
        specs[name] = spec
    return specs


def _spec_from_comment(name: str, type_name: str, default: Any, comment: str, origin: str) -> ParamSpec:
    elem = type_name[5:-1] if type_name.startswith("list[") else type_name
    m = _CHOICES.search(comment)
    if m:
        raw = [c.strip().strip("'\"") for c in m.group(1).split(",") if c.strip()]
        try:
            choices = tuple(int(c) if elem == "int" else float(c) if elem == "float" else c for c in raw)
        except ValueError:
            raise ParameterError(f"{origin}: choices of {name!r} do not match its type {type_name}") from None
        return ParamSpec(name, type_name, default, comment[: m.start()].strip(), choices=choices)
    m = _RANGE.search(comment)
    if m and elem in ("int", "float"):
        try:
            low, high = (float(ast.literal_eval(v)) if v.strip() not in ("inf", "-inf") else float(v)
                         for v in m.groups())
        except (ValueError, SyntaxError):
            raise ParameterError(f"{origin}: range of {name!r} must be two numbers, got [{m.group(1)}, "
                                 f"{m.group(2)}]") from None
        return ParamSpec(name, type_name, default, comment[: m.start()].strip(), low=low, high=high)
    return ParamSpec(name, type_name, default, comment)


def read_parameter_specs(notebook: str | Path) -> dict[str, ParamSpec]:
    """Specs of a notebook, given its path or its name (``01_trl_hpo_mnist``)."""
    path = Path(notebook)
    if path.suffix != ".ipynb":
        path = paths.NOTEBOOKS_DIR / f"{notebook}.ipynb"
    return parse_parameters_cell(parameters_cell_source(path), origin=f"{path.name} parameters cell")


# ----------------------------------------------------------------------------- validating values
def validate_value(spec: ParamSpec, value: Any, origin: str) -> Any:
    """Check one value against its spec; return it coerced (an int where a float is declared)."""
    def fail(why: str) -> ParameterError:
        return ParameterError(f"{origin}: parameter {spec.name!r} {why}; allowed: {spec.allowed()}")

    def check_scalar(v: Any, elem: str) -> Any:
        if elem == "bool":
            if not isinstance(v, bool):
                raise fail(f"must be true or false, got {v!r}")
            return v
        if elem == "int":
            if isinstance(v, bool) or not isinstance(v, int):
                raise fail(f"must be an integer, got {v!r} ({type(v).__name__})")
        elif elem == "float":
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise fail(f"must be a number, got {v!r} ({type(v).__name__})")
            v = float(v)
            if math.isnan(v):
                raise fail("must not be NaN")
        elif elem == "str" and not isinstance(v, str):
            raise fail(f"must be a string, got {v!r} ({type(v).__name__})")
        if spec.choices is not None and v not in spec.choices:
            raise fail(f"is {v!r}")
        if spec.low is not None and not (spec.low <= v <= spec.high):
            raise fail(f"is {v!r}, outside its range")
        return v

    if spec.type_name.startswith("list["):
        if not isinstance(value, (list, tuple)):
            raise fail(f"must be a list, got {value!r}")
        return [check_scalar(v, spec.element_type) for v in value]
    return check_scalar(value, spec.type_name)


def validate_values(specs: Mapping[str, ParamSpec], values: Mapping[str, Any], origin: str) -> dict[str, Any]:
    """Validate ``values`` (a subset of the parameters); unknown keys are errors. Returns coerced values."""
    unknown = sorted(set(values) - set(specs))
    if unknown:
        raise ParameterError(f"{origin}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
                             f"allowed: {', '.join(specs)}")
    return {k: validate_value(specs[k], v, origin) for k, v in values.items()}


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (PyYAML keeps the last silently)."""

    def construct_mapping(self, node, deep=False):
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} is given twice (lines {seen[key]} and {key_node.start_mark.line + 1}); "
                    "keep one", key_node.start_mark)
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def read_params_file(path: Path) -> dict[str, Any]:
    """A profile's YAML file as a dict (an empty file is an empty dict); a key given twice is an error."""
    try:
        data = yaml.load(Path(path).read_text(), Loader=_UniqueKeyLoader) or {}
    except yaml.YAMLError as e:
        raise ParameterError(f"{path}: not valid YAML ({e})") from None
    if not isinstance(data, dict):
        raise ParameterError(f"{path}: must be a mapping of parameter names to values")
    return data


def profile_params(notebook: str, profile: str) -> dict[str, Any]:
    """Validated parameters of ``notebook`` at ``profile``: defaults overridden by the YAML file."""
    if profile not in paths.PROFILES:
        raise ParameterError(f"profile must be one of {{{', '.join(paths.PROFILES)}}}, got {profile!r}")
    specs = read_parameter_specs(notebook)
    path = paths.PARAMS_DIR / profile / f"{notebook}.yaml"
    if not path.exists():
        raise ParameterError(f"{path}: missing; every notebook needs a parameter file per profile "
                             f"({', '.join(paths.PROFILES)})")
    shown = path.relative_to(paths.REPO_ROOT) if path.is_relative_to(paths.REPO_ROOT) else path
    values = validate_values(specs, read_params_file(path), origin=str(shown))
    if "profile" in specs:
        if values.get("profile", profile) != profile:
            raise ParameterError(f"{path}: parameter 'profile' is {values['profile']!r} but the file "
                                 f"belongs to profile {profile!r}")
        values["profile"] = profile
    merged = {**{k: s.default for k, s in specs.items()}, **values}
    check_combination(notebook, merged, origin=str(shown))
    return merged


def check_combination(notebook: str, values: Mapping[str, Any], origin: str) -> None:
    """Raise one ParameterError listing every contradiction among ``values`` (the notebook's rules)."""
    from hpo_kit.parameter_rules import check_notebook

    problems = check_notebook(notebook, values)
    if problems:
        raise ParameterError(f"{origin}: parameters contradict each other:\n    * " + "\n    * ".join(problems))
