"""Parameters: value, unit, meaning and source, loaded from plain TOML files.

A parameter file holds one model's default values, each with its source, and
named presets (tumour lines, hosts) that override some of them. Users can
copy a file, edit it and point a scenario at the copy.

An uncertain parameter may declare ``range = [low, high]`` (in its unit, with
``low <= value <= high``) and say where the range comes from in
``range_source``; the global sensitivity analysis (``sim.sensitivity``)
samples these ranges. A range describes the uncertainty around the file's
value: when a tumour line, a host, a scenario or ``--set`` changes the value,
the range moves with it by the same factor.
"""

from __future__ import annotations

import math
import os
import stat
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import InputError
from .naming import closest

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised only on Python 3.10
    import tomli as tomllib

BASES = ("literature", "public-code", "derived", "teaching", "genotype", "schedule")
"""How a value was arrived at: read in the cited paper; copied from public code,
curated model files or later papers quoting the cited paper, never checked in
the paper itself; computed from sourced numbers; chosen to make the model teach
well (a guess); a switch for the genotype of the tumour line or host; or set by
the scenario's schedule."""

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Parameter:
    """One model parameter.

    Attributes
    ----------
    value : float
        Current value, in ``unit``.
    unit : str
        Unit of the value ("1" for dimensionless).
    meaning : str
        One line on what the parameter does.
    source : str
        Paper, table or reasoning the value comes from.
    basis : str
        One of ``BASES``; "teaching" marks a guess.
    positive : bool
        True when zero is not allowed (the value divides something).
    maximum : float or None
        Largest allowed value, if any.
    range : tuple of float or None
        Plausible (low, high) values for sensitivity analysis, in ``unit``;
        None when the parameter is not treated as uncertain.
    range_source : str
        Why the range is plausible (paper, or "chosen for teaching: why").
    narrowed_range : tuple of float or None
        A part of ``range`` kept when a finding of the paper itself is taken as
        evidence (so checking that finding over it is partly circular).
    narrowed_by : str
        The finding that narrows the range, and how.
    """

    name: str
    value: float
    unit: str
    meaning: str
    source: str
    basis: str
    positive: bool = False
    maximum: float | None = None
    range: tuple[float, float] | None = None
    range_source: str = ""
    narrowed_range: tuple[float, float] | None = None
    narrowed_by: str = ""

    def allowed(self) -> str:
        upper = f" and <= {self.maximum:g}" if self.maximum is not None else ""
        return ("a number > 0" if self.positive else "a number >= 0") + upper


class ParameterSet(Mapping[str, Parameter]):
    """An ordered, immutable collection of parameters, looked up by name."""

    def __init__(self, parameters: Mapping[str, Parameter]):
        self._parameters = dict(parameters)

    def __getitem__(self, name: str) -> Parameter:
        return self._parameters[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parameters)

    def __len__(self) -> int:
        return len(self._parameters)

    def values_dict(self) -> dict[str, float]:
        """Plain ``name -> value`` mapping, as the model equations take it."""
        return {name: p.value for name, p in self._parameters.items()}

    def override(self, values: Mapping[str, Any], source: str, where: str) -> ParameterSet:
        """Return a copy with ``values`` replacing the defaults.

        ``source`` is recorded as the new values' source; ``where`` names the
        file or flag the values came from, for error messages.
        """
        updated = dict(self._parameters)
        for name, raw in values.items():
            if name not in updated:
                raise InputError(f"{where}: unknown parameter '{name}'{closest(name, updated)}")
            param = updated[name]
            value = checked_number(raw, f"{where}: parameter '{name}'", param)
            updated[name] = replace(param, value=value, source=source, range=_moved_range(param.range, param, value),
                                    narrowed_range=_moved_range(param.narrowed_range, param, value))
        return ParameterSet(updated)


def _moved_range(bounds: tuple[float, float] | None, param: Parameter, value: float) -> tuple[float, float] | None:
    """``bounds`` of ``param`` scaled by ``value / param.value``, capped at the maximum; None if nothing is left to vary."""
    if bounds is None or value == param.value:
        return bounds
    if param.value == 0 or value == 0:
        return None
    low, high = (bound * value / param.value for bound in bounds)
    high = high if param.maximum is None else min(high, param.maximum)
    return (low, high) if low < high else None


def checked_number(raw: Any, what: str, param: Parameter | None = None) -> float:
    """Return ``raw`` as a finite float allowed for ``param``, else raise InputError.

    Without ``param`` the number must be finite and >= 0 (state values).
    """
    allowed = param.allowed() if param else "a number >= 0"
    if isinstance(raw, bool):
        raise InputError(f"{what} must be {allowed}, not {raw!r}")
    try:
        value = float(raw)
    except (TypeError, ValueError, OverflowError):
        raise InputError(f"{what} must be {allowed}, not {raw!r:.60}") from None
    too_big = param is not None and param.maximum is not None and value > param.maximum
    if not math.isfinite(value) or value < 0 or too_big or (param is not None and param.positive and value == 0):
        raise InputError(f"{what} must be {allowed}, not {raw!r}")
    return value


MAX_FILE_BYTES = 1_000_000
"""Largest scenario, parameter or conclusions file read (the shipped ones are under 30 kB)."""


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file; a missing, unreadable, oversized, non-UTF-8 or malformed file raises InputError naming it."""
    try:
        # without blocking: a FIFO with no writer would otherwise wait forever in open()
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    info = os.fstat(descriptor)
    problem = ("is a folder, not a TOML file" if stat.S_ISDIR(info.st_mode)
               else "is not a regular file (a pipe, device or socket); give a TOML file" if not stat.S_ISREG(info.st_mode)
               else f"larger than {MAX_FILE_BYTES:,} bytes; is it really a tumorsim TOML file?"
               if info.st_size > MAX_FILE_BYTES else None)  # all refused before reading
    if problem:
        os.close(descriptor)
        raise InputError(f"{path}: {problem}")
    with os.fdopen(descriptor, "rb") as handle:
        try:
            raw = handle.read(MAX_FILE_BYTES + 1)
        except OSError as exc:
            raise InputError(f"{path}: cannot read: {exc.strerror}") from None
    if len(raw) > MAX_FILE_BYTES:
        raise InputError(f"{path}: larger than {MAX_FILE_BYTES:,} bytes; is it really a tumorsim TOML file?")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"{path}: not UTF-8 text (byte {exc.start}); save the file as UTF-8") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"{path}: malformed TOML: {exc}") from None
    except RecursionError:
        raise InputError(f"{path}: arrays or tables nested too deeply") from None


def require_table(value: Any, where: str) -> dict[str, Any]:
    """``value`` if it is a TOML table, else InputError naming ``where``."""
    if not isinstance(value, dict):
        raise InputError(f"{where} must be a table of name = value, not {value!r:.60}")
    return value


def require_text(value: Any, where: str) -> str:
    """``value`` if it is text, else InputError naming ``where``."""
    if not isinstance(value, str):
        raise InputError(f"{where} must be text in quotes, not {value!r:.60}")
    return value


def reject_unknown_keys(table: Mapping[str, Any], allowed: set[str], where: str) -> None:
    """Raise InputError naming the first key of ``table`` not in ``allowed``."""
    for key in table:
        if key not in allowed:
            raise InputError(f"{where}: unknown key '{key}'{closest(key, allowed)}; allowed: {', '.join(sorted(allowed))}")


@dataclass(frozen=True)
class Preset:
    """Named overrides (a tumour line, a host) with their description and source."""

    name: str
    description: str
    source: str
    values: Mapping[str, float]


@dataclass(frozen=True)
class Variability:
    """Inter-animal spread of one parameter: log-normal around the scenario's value.

    Each mouse's value is ``value * exp(sigma * z)`` with ``z`` standard normal,
    so the scenario's value is the cohort's median.
    """

    parameter: str
    sigma: float
    rationale: str


@dataclass(frozen=True)
class ParameterFile:
    """A model's parameter file: defaults, named presets and inter-animal variability."""

    path: Path
    model: str
    title: str
    parameters: ParameterSet
    tumor_lines: Mapping[str, Preset]
    hosts: Mapping[str, Preset]
    variability: Mapping[str, Variability]


_PARAMETER_KEYS = {"value", "unit", "meaning", "source", "basis", "positive", "maximum", "range", "range_source",
                   "narrowed_range", "narrowed_by"}
_PRESET_KEYS = {"description", "source", "parameters"}


def load_parameter_file(path: Path | str) -> ParameterFile:
    """Load and validate a parameter file (see ``sim/data/parameters/irf7.toml``)."""
    path = Path(path)
    data = read_toml(path)
    reject_unknown_keys(data, {"model", "title", "parameters", "tumor_lines", "hosts", "variability"}, str(path))
    for key in ("model", "title", "parameters"):
        if key not in data:
            raise InputError(f"{path}: missing key '{key}'")
    entries = require_table(data["parameters"], f"{path}: parameters")
    parameters = ParameterSet({name: _parse_parameter(name, entry, path) for name, entry in entries.items()})
    return ParameterFile(
        path=path,
        model=require_text(data["model"], f"{path}: model"),
        title=require_text(data["title"], f"{path}: title"),
        parameters=parameters,
        tumor_lines=_parse_presets(data.get("tumor_lines", {}), parameters, path, "tumor_lines"),
        hosts=_parse_presets(data.get("hosts", {}), parameters, path, "hosts"),
        variability=_parse_variability(data.get("variability", {}), parameters, path),
    )


def _parse_parameter(name: str, entry: Any, path: Path) -> Parameter:
    where = f"{path}: parameters.{name}"
    if not isinstance(entry, dict):
        raise InputError(f"{where} must be a table with keys value, unit, meaning, source, basis")
    reject_unknown_keys(entry, _PARAMETER_KEYS, where)
    for key in ("value", "unit", "meaning", "source", "basis"):
        if key not in entry:
            raise InputError(f"{where}: missing key '{key}'")
    if entry["basis"] not in BASES:
        raise InputError(f"{where}.basis must be one of {', '.join(BASES)}, not {entry['basis']!r:.60}")
    positive = entry.get("positive", False)
    if not isinstance(positive, bool):
        raise InputError(f"{where}.positive must be true or false, not {positive!r:.60}")
    maximum = entry.get("maximum")
    param = Parameter(
        name=name,
        value=math.nan,
        unit=require_text(entry["unit"], f"{where}.unit"),
        meaning=require_text(entry["meaning"], f"{where}.meaning"),
        source=require_text(entry["source"], f"{where}.source"),
        basis=entry["basis"],
        positive=positive,
        maximum=None if maximum is None else checked_number(maximum, f"{where}.maximum"),
    )
    param = replace(param, value=checked_number(entry["value"], f"{where}.value", param))
    if "range" in entry:
        param = replace(param, range=_parse_range(entry["range"], param, where),
                        range_source=require_text(entry.get("range_source", ""), f"{where}.range_source"))
    elif "range_source" in entry:
        raise InputError(f"{where}: 'range_source' without a 'range = [low, high]'")
    if "narrowed_range" in entry:
        if param.range is None:
            raise InputError(f"{where}: 'narrowed_range' without a 'range = [low, high]'")
        narrowed = _parse_range(entry["narrowed_range"], param, where, "narrowed_range")
        if narrowed[0] < param.range[0] or narrowed[1] > param.range[1]:
            raise InputError(f"{where}.narrowed_range must lie inside range [{param.range[0]:g}, {param.range[1]:g}], "
                             f"not [{narrowed[0]:g}, {narrowed[1]:g}]")
        param = replace(param, narrowed_range=narrowed,
                        narrowed_by=require_text(entry.get("narrowed_by", ""), f"{where}.narrowed_by"))
    elif "narrowed_by" in entry:
        raise InputError(f"{where}: 'narrowed_by' without a 'narrowed_range = [low, high]'")
    return param


def _parse_range(raw: Any, param: Parameter, where: str, key: str = "range") -> tuple[float, float]:
    """``key = [low, high]``: two numbers allowed for ``param`` with low <= value <= high and low < high."""
    what = f"{where}.{key}"
    if not isinstance(raw, list) or len(raw) != 2:
        raise InputError(f"{what} must be a list of two numbers [low, high], not {raw!r}")
    low, high = (checked_number(bound, f"{what} {side}", param) for bound, side in zip(raw, ("low", "high")))
    if not low <= param.value <= high or low == high:
        raise InputError(f"{what} must satisfy low <= value <= high with low < high, not [{low:g}, {high:g}] "
                         f"around value {param.value:g}")
    return low, high


def _parse_presets(table: Any, parameters: ParameterSet, path: Path, section: str) -> dict[str, Preset]:
    presets = {}
    for name, entry in require_table(table, f"{path}: {section}").items():
        where = f"{path}: {section}.{name}"
        reject_unknown_keys(require_table(entry, where), _PRESET_KEYS, where)
        values = require_table(entry.get("parameters", {}), f"{where}.parameters")
        parameters.override(values, "", where)  # validates names and values
        presets[name] = Preset(name, require_text(entry.get("description", ""), f"{where}.description"),
                               require_text(entry.get("source", ""), f"{where}.source"), values)
    return presets


def _parse_variability(table: Any, parameters: ParameterSet, path: Path) -> dict[str, Variability]:
    spreads = {}
    for name, entry in require_table(table, f"{path}: variability").items():
        where = f"{path}: variability.{name}"
        if name not in parameters:
            raise InputError(f"{where}: unknown parameter '{name}'{closest(name, parameters)}")
        reject_unknown_keys(require_table(entry, where), {"sigma", "rationale"}, where)
        if "sigma" not in entry or "rationale" not in entry:
            raise InputError(f"{where}: needs 'sigma' (log-normal spread) and 'rationale'")
        spreads[name] = Variability(name, checked_number(entry["sigma"], f"{where}.sigma"),
                                    require_text(entry["rationale"], f"{where}.rationale"))
    return spreads
