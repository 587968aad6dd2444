"""Scenarios: one experimental arm as a plain TOML file.

A scenario names the model, the tumour line, the host, the follow-up, any
parameter or initial-state overrides and the schedule of treatments. The
shipped scenarios live in ``sim/data/scenarios``; a user's own file is loaded
by its path. See the README for the format.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import InputError
from .models import MODELS, Model, get_model
from .naming import closest
from .parameters import (
    DATA,
    ParameterSet,
    Variability,
    checked_number,
    load_parameter_file,
    read_toml,
    reject_unknown_keys,
)
from .schedule import Schedule, build_schedule

SCENARIO_DIR = DATA / "scenarios"
PARAMETER_DIR = DATA / "parameters"

MAX_DAYS = 36_500.0
"""Longest follow-up: a century, far beyond any mouse or patient; more is a typo that would keep the solver busy."""

ARGUMENTS = {"chance": "chance", "seed": "seed", "replicates": "replicates",
             "parameters": "parameters", "initial": "initial", "days": "days", "surgery": "surgery", "dose": "dose",
             "dose_start": "dose_start", "dose_every": "dose_every", "dose_count": "dose_count", "deplete": "deplete"}
"""How errors name the changes a run takes (``Scenario.with_changes``, ``sim.treatments``): by the Python arguments ..."""
FLAGS = {"chance": "--chance/--mean-field", "seed": "--seed", "replicates": "--replicates",
         "parameters": "--set", "initial": "--init", "days": "--days", "surgery": "--surgery", "dose": "--dose",
         "dose_start": "--dose-start", "dose_every": "--dose-every", "dose_count": "--dose-count", "deplete": "--deplete"}
"""... or, for the command line, by its flags."""

_KEYS = {
    "name", "description", "mirrors", "notice", "model", "parameter_file", "tumor_line", "host",
    "days", "parameters", "initial", "schedule", "variability", "chance",
}


@dataclass(frozen=True)
class Scenario:
    """One arm of an experiment, ready to solve.

    Attributes
    ----------
    name, description, mirrors, notice : str
        What the arm is, which experiment it mirrors, what a learner should notice.
    model : Model
        The equations.
    parameters : ParameterSet
        Resolved values (defaults, tumour line, host, scenario, user), with sources.
    days : float
        Follow-up [day].
    schedule_entries : tuple of dict
        The ``[[schedule]]`` entries as written (see ``sim.schedule``).
    initial_overrides : dict
        Initial values set explicitly; other states start at the model's default.
    variability : dict
        Inter-animal spread of parameters, for virtual cohorts.
    chance : bool
        True: a small bone burden is whole cells that arrive, divide and die by chance (``sim.chance``), so a
        mouse's fate depends on its draws; False: the mean-field view, the ODEs alone. Only for models with a
        ``chance_state``.
    origin : Scenario or None
        The scenario as shipped (or as written in the user's file) that this one
        changes; None when this one is exactly that. ``changes`` lists the
        differences, so printed text can tell a shipped run from a changed one.

    ``initial`` and ``schedule`` are derived from these, so a copy made with
    ``dataclasses.replace`` or ``with_changes`` is always consistent.
    """

    name: str
    description: str
    mirrors: str
    notice: str
    model: Model
    parameters: ParameterSet
    days: float
    source: Path
    tumor_line: str = ""
    host: str = ""
    schedule_entries: tuple[Mapping[str, Any], ...] = field(default=(), repr=False)
    initial_overrides: Mapping[str, float] = field(default_factory=dict, repr=False)
    variability: Mapping[str, Variability] = field(default_factory=dict, repr=False)
    chance: bool = False
    origin: Scenario | None = field(default=None, repr=False, compare=False)

    @cached_property
    def changes(self) -> tuple[str, ...]:
        """How this scenario differs from its origin, one plain phrase per change (empty: it is the origin)."""
        return () if self.origin is None else tuple(differences(self.origin, self))

    @property
    def as_shipped(self) -> bool:
        """True when this is a shipped scenario exactly as shipped, so its hand-written text holds for it."""
        reference = self.origin or self
        return is_shipped(reference.source) and not self.changes

    @cached_property
    def initial(self) -> dict[str, float]:
        """Initial value of every state, in the state's unit."""
        defaults = self.model.initial_state(self.parameters.values_dict())
        return {**{name: float(value) for name, value in defaults.items()}, **self.initial_overrides}

    @cached_property
    def schedule(self) -> Schedule:
        """Resection, doses and depletions as jumps and windows."""
        return build_schedule(self.schedule_entries, self.model, self.parameters.values_dict(), str(self.source),
                              self.days)

    def mean_field(self) -> Scenario:
        """This scenario in the mean-field view (chance off): the expected course, the same on every run.

        Analyses that follow a quantity smoothly through parameter space (sensitivities, sweeps' typical course,
        the robustness check) use it; one mouse with chance would add its own luck to every difference.
        """
        return replace(self, chance=False) if self.chance else self

    def with_changes(
        self,
        parameters: Mapping[str, Any] | None = None,
        initial: Mapping[str, Any] | None = None,
        days: float | None = None,
        schedule: list[Mapping[str, Any]] | None = None,
        name: str | None = None,
        description: str | None = None,
        variability: Mapping[str, float] | None = None,
        chance: bool | None = None,
        where: str | None = None,
        names: Mapping[str, str] = ARGUMENTS,
    ) -> Scenario:
        """Return a copy with parameter values, initial states, follow-up, schedule or labels changed.

        Initial states not given explicitly are recomputed from the new parameters;
        ``schedule`` replaces the whole list of ``[[schedule]]`` entries;
        ``variability`` sets log-normal spreads (sigma) by parameter name; ``chance``
        switches chance in the bone on or off (see the class). Errors
        name the changes by ``names`` (``ARGUMENTS``, or ``FLAGS`` for the command
        line), the parameters by ``where`` if given.
        """
        where = where or names["parameters"]
        for key, value in (("parameters", parameters), ("initial", initial), ("variability", variability)):
            if value is not None and not isinstance(value, Mapping):
                raise InputError(f"{names.get(key, key)} must be a mapping of name to value, not {value!r:.60}")
        if schedule is not None and (isinstance(schedule, (str, bytes)) or not isinstance(schedule, Sequence)):
            raise InputError(f"schedule must be a list of [[schedule]] tables (dicts), not {schedule!r:.60}")
        changed = replace(
            self,
            parameters=self.parameters.override(parameters or {}, f"set by user ({where})", where),
            initial_overrides={**self.initial_overrides,
                               **_checked_initial(initial or {}, self.model, names["initial"])},
            days=self.days if days is None else checked_days(days, names["days"]),
            schedule_entries=self.schedule_entries if schedule is None else tuple(schedule),
            name=self.name if name is None else name,
            description=self.description if description is None else description,
            variability=_variability(self.variability, variability or {}, self.parameters, Path(where),
                                     "set by user"),
            chance=self.chance if chance is None else _checked_chance(chance, self.model, names.get("chance", "chance")),
            origin=self.origin or self,
        )
        changed.schedule  # noqa: B018 - build now, so a bad entry is reported here
        return changed


def differences(origin: Scenario, changed: Scenario) -> list[str]:
    """What ``changed`` does differently from ``origin``, one plain phrase each (names and texts are not compared)."""
    found = []
    if changed.chance != origin.chance:
        found.append(f"{_view(changed.chance)} (was {_view(origin.chance)})")
    if changed.days != origin.days:
        found.append(f"follow-up {changed.days:g} days (was {origin.days:g})")
    for key, label in (("tumor_line", "tumour line"), ("host", "host")):
        if getattr(changed, key) != getattr(origin, key):
            found.append(f"{label} {getattr(changed, key) or '-'} (was {getattr(origin, key) or '-'})")
    found += [f"{name} = {param.value:g} (was {origin.parameters[name].value:g})"
              for name, param in changed.parameters.items()
              if name in origin.parameters and param.value != origin.parameters[name].value]
    found += [f"initial {name} = {changed.initial[name]:g} (was {origin.initial[name]:g})"
              for name in changed.initial_overrides if changed.initial[name] != origin.initial[name]]
    now, before = changed.schedule.brief(), origin.schedule.brief()
    added, removed = [p for p in now if p not in before], [p for p in before if p not in now]
    if added and removed:
        found.append(f"treatment: {'; '.join(added)} (was: {'; '.join(removed)})")
    elif added:
        found.append(f"treatment added: {'; '.join(added)}")
    elif removed:
        found.append(f"treatment removed: {'; '.join(removed)}")
    found += [f"variability of {name}: sigma {spread.sigma:g} (was {origin.variability[name].sigma:g})"
              if name in origin.variability else f"variability of {name}: sigma {spread.sigma:g} (was none)"
              for name, spread in changed.variability.items()
              if name not in origin.variability or spread.sigma != origin.variability[name].sigma]
    return found


def _view(chance: bool) -> str:
    return "chance in the bone" if chance else "mean-field bone burden"


def _checked_chance(raw: Any, model: Model, what: str) -> bool:
    """``raw`` as the chance switch: True or False, and True only for a model with a chance state."""
    if not isinstance(raw, bool):
        raise InputError(f"{what} must be true or false, not {raw!r:.40}")
    if raw and model.chance_state is None:
        raise InputError(f"{what}: model '{model.name}' has no bone burden left to chance; only the irf7 model has")
    return raw


def is_shipped(source: Path) -> bool:
    """True for a file that ships with tumorsim (a scenario, or a model's parameter file)."""
    return source.parent.resolve() in (SCENARIO_DIR.resolve(), PARAMETER_DIR.resolve())


def distinct_names(scenarios: Sequence[Scenario], labels: Sequence[str]) -> list[Scenario]:
    """The scenarios, renamed where two share a name, so every arm of one command has its own label.

    A clashing arm is named by ``labels`` (what the user typed for it: a name or
    a file's path), then numbered if that still clashes. Renaming changes no value.
    """
    names = [s.name for s in scenarios]
    names = [label if names.count(name) > 1 else name for name, label in zip(names, labels)]
    numbered = []
    for k, name in enumerate(names):
        count = names[:k].count(name)
        numbered.append(name if names.count(name) == 1 else f"{name} ({count + 1})")
    return [s if s.name == name else replace(s, name=name) for s, name in zip(scenarios, numbered)]


def scenario_names(model: str | None = None) -> list[str]:
    """Names of the scenarios shipped with tumorsim, sorted; only ``model``'s if given."""
    paths = sorted(SCENARIO_DIR.glob("*.toml"), key=lambda p: p.stem)
    return [p.stem for p in paths if model is None or read_toml(p).get("model", "irf7") == model]


def _source(name_or_path: str | Path) -> tuple[dict[str, Any], Path]:
    """The scenario table and its file: a path, a shipped scenario, or a model with its defaults."""
    text = str(name_or_path)
    if text.endswith(".toml") or "/" in text or "\\" in text:
        return read_toml(Path(text)), Path(text)
    path = SCENARIO_DIR / f"{text}.toml"
    if path.exists():
        return read_toml(path), path
    if text in MODELS:
        model = MODELS[text]
        description = f"{model.title}, with its published parameters and initial state"
        return {"name": text, "description": description, "model": text, "days": model.default_days}, (
            PARAMETER_DIR / f"{text}.toml")
    known = scenario_names() + list(MODELS)
    raise InputError(f"unknown scenario or model '{text}'{closest(text, known)}; run 'tumorsim list' to see them")


def load_scenario(name_or_path: str | Path) -> Scenario:
    """Load a shipped scenario by name, a scenario file by path, or a model by name (its defaults)."""
    data, path = _source(name_or_path)
    where = str(path)
    if not data:
        raise InputError(f"{where}: empty scenario file; it needs at least 'model' or 'tumor_line' (copy a shipped "
                         "scenario from 'tumorsim list' to start)")
    reject_unknown_keys(data, _KEYS, where)
    model = get_model(_text(data, "model", "irf7", where), where)
    param_file = _parameter_file_path(data, model, path)
    defaults = load_parameter_file(param_file)
    if defaults.model != model.name:
        raise InputError(f"{param_file}: holds parameters of model '{defaults.model}', not '{model.name}'")
    _check_complete(defaults.parameters, model, param_file)

    params = defaults.parameters
    tumor_line = _text(data, "tumor_line", "", where)
    host = _text(data, "host", "", where)
    for key, chosen, presets in (("tumor_line", tumor_line, defaults.tumor_lines), ("host", host, defaults.hosts)):
        if not chosen:
            continue
        if chosen not in presets:
            raise InputError(f"{where}: {key} '{chosen}' is unknown{closest(chosen, presets)}; allowed: {', '.join(presets)}")
        preset = presets[chosen]
        params = params.override(preset.values, f"{key.replace('_', ' ')} {chosen}: {preset.source}", where)
    params = params.override(_table(data, "parameters", where), f"set in scenario {path.name}", where)

    schedule_entries = data.get("schedule", [])
    if not isinstance(schedule_entries, list):
        raise InputError(f"{where}: 'schedule' must be a list of [[schedule]] tables")
    initial_overrides = _checked_initial(_table(data, "initial", where), model, where)
    name, origin = _name_and_origin(_text(data, "name", path.stem, where), path)
    scenario = Scenario(
        name=name,
        description=_text(data, "description", "", where),
        mirrors=_text(data, "mirrors", "", where),
        notice=_text(data, "notice", "", where),
        model=model,
        parameters=params,
        days=checked_days(data.get("days", 120.0), f"{where}: 'days'"),
        source=path,
        tumor_line=tumor_line,
        host=host,
        schedule_entries=tuple(schedule_entries),
        initial_overrides=initial_overrides,
        variability=_variability(defaults.variability, _table(data, "variability", where), params, path),
        chance=_checked_chance(data.get("chance", False), model, f"{where}: 'chance'"),
        origin=origin,
    )
    scenario.schedule  # noqa: B018 - build now, so a bad entry is reported on loading
    return scenario


def _name_and_origin(name: str, path: Path) -> tuple[str, Scenario | None]:
    """A user's file keeps its own name unless that is a shipped scenario's (a copy): then it is named after the
    file, and the shipped scenario becomes its origin, so the run reports what the copy changed."""
    if is_shipped(path) or name not in scenario_names():
        return name, None
    return path.stem, load_scenario(name)


def _text(data: Mapping[str, Any], key: str, default: str, where: str) -> str:
    value = data.get(key, default)
    if not isinstance(value, str):
        raise InputError(f"{where}: '{key}' must be text in quotes, not {value!r}")
    return value


def _check_complete(parameters: ParameterSet, model: Model, path: Path) -> None:
    """A copied parameter file must define exactly the parameters of the shipped one."""
    shipped = load_parameter_file(PARAMETER_DIR / f"{model.name}.toml").parameters
    missing = [name for name in shipped if name not in parameters]
    extra = [name for name in parameters if name not in shipped]
    if missing:
        raise InputError(f"{path}: missing parameter(s) {', '.join(missing)} of model '{model.name}'")
    if extra:
        raise InputError(f"{path}: unknown parameter '{extra[0]}'{closest(extra[0], shipped)} for model '{model.name}'")


def _parameter_file_path(data: Mapping[str, Any], model: Model, scenario_file: Path) -> Path:
    if "parameter_file" not in data:
        return PARAMETER_DIR / f"{model.name}.toml"
    name = _text(data, "parameter_file", "", str(scenario_file))
    if not name.strip():
        raise InputError(f"{scenario_file}: 'parameter_file' must name a TOML file, not an empty text")
    candidate = scenario_file.parent / name
    return candidate if candidate.exists() else PARAMETER_DIR / name


def _variability(
    defaults: Mapping[str, Variability],
    sigmas: Mapping[str, Any],
    params: ParameterSet,
    path: Path,
    rationale: str | None = None,
) -> dict[str, Variability]:
    """The parameter file's spreads, with the scenario's ``[variability]`` sigmas added or replacing them."""
    spreads = dict(defaults)
    for name, raw in sigmas.items():
        if name not in params:
            raise InputError(f"{path}: variability: unknown parameter '{name}'{closest(name, params)}")
        sigma = checked_number(raw, f"{path}: variability.{name}")
        spreads[name] = Variability(name, sigma, rationale or f"set in scenario {path.name}")
    return spreads


def _table(data: Mapping[str, Any], key: str, where: str) -> Mapping[str, Any]:
    table = data.get(key, {})
    if not isinstance(table, dict):
        raise InputError(f"{where}: '{key}' must be a table of name = value")
    return table


def _checked_initial(values: Mapping[str, Any], model: Model, where: str) -> dict[str, float]:
    checked = {}
    for name, raw in values.items():
        if name not in model.state_names:
            raise InputError(
                f"{where}: unknown state '{name}'{closest(name, model.state_names)}; states: {', '.join(model.state_names)}"
            )
        value = checked_number(raw, f"{where}: initial {name}")
        state = model.state(name)
        if value > state.maximum:
            unit = "" if state.unit == "1" else f" {state.unit}"
            raise InputError(f"{where}: initial {name} ({state.meaning}) must be between 0 and {state.maximum:g}{unit}, "
                             f"not {raw!r:.60}")
        checked[name] = value
    return checked


def checked_days(raw: Any, what: str) -> float:
    try:
        days = checked_number(raw, what)
    except InputError:
        days = -1.0
    if days <= 0 or days > MAX_DAYS:
        raise InputError(f"{what} must be a number of days > 0 and at most {MAX_DAYS:,.0f} (100 years), not {raw!r:.40}")
    return days
