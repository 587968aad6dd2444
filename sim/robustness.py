"""How sure is the model? The paper's conclusions checked on cohorts across the parameters' uncertainty.

The conclusions are data (``sim/data/conclusions/bidwell2012.toml``), in three
forms: orderings ("this arm metastasises before that one"), differences ("this
arm has at least 0.4 more mice free on day 60 than that one") and delays ("this
arm's median is at least 2 days later"). Each is checked on virtual cohorts with
chance in the bone (``sim.cohort``), one cohort per arm in each "possible
world", all arms of a world sharing its parameter values and schedule:

* **defaults**: the shipped values and schedule;
* **one at a time**: every parameter that describes biology or the experiment
  (basis neither ``schedule`` nor ``genotype``, value not zero) halved and
  doubled in turn, capped at its maximum;
* **ranges**: a Latin-hypercube sample of the declared parameter ranges and of
  the schedule's declared uncertainty (surgery day, dose start and size,
  depletion window), all at once. Each range is sampled as ``sim.sensitivity``
  does (log-uniformly when it spans more than a factor 10); a range moves with
  a value that a tumour line or host changes. Pass rates are given over the
  full ranges and, separately, over the samples that fall inside the ranges
  narrowed by the paper's own findings (``narrowed_range`` in the parameter
  file), where checking those findings is partly circular.

An ordering holds in a world when the earlier arm's median metastasis day is
more than ``tie_days`` before the later arm's (a median not reached counts as
beyond follow-up), or, when neither median is reached, when the earlier arm's
fraction free at the end of follow-up is lower by more than ``tie_fraction``.
An ordering may be declared ``by_construction`` (the wiring of the model makes
it hold whatever the parameters): it is still checked and shown, but the report
does not count it as evidence.

The declared conclusions and the schedule's uncertainty are read by ``sim.conclusions``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from . import kernel
from .analysis import format_table
from .checks import check_seed, check_size
from .cohort import choose_engine, sample_parameters, simulate_cohort
from .conclusions import (
    Conclusion,
    DeclaredConclusions,
    DelaySpec,
    Difference,
    ScheduleRange,
    load_conclusions,
    shifted_schedule,
)
from .errors import InputError
from .parallel import check_workers, run_all
from .scenarios import Scenario, load_scenario
from .sensitivity import range_distribution
from .survival import kaplan_meier
from .version import __version__

FACTORS = (0.5, 2.0)
"""One-at-a-time changes: each parameter halved, then doubled."""
FIXED_BASES = ("schedule", "genotype")
"""Parameters of these bases say what was done to the mouse, not how biology works: never varied."""
DEFAULT_N = 128
DEFAULT_MICE = 100
MAX_SAMPLES = 100_000
MAX_MICE = 10_000
REQUIRED = 0.9
"""Fraction of worlds in which a conclusion should hold to count as robust (the figure marks it)."""


def varied_parameters(scenario: Scenario) -> list[str]:
    """Parameters changed one at a time: not fixed by the schedule or the genotype, and not zero."""
    return [name for name, p in scenario.parameters.items() if p.basis not in FIXED_BASES and p.value != 0]


def ranged_parameters(scenario: Scenario) -> list[str]:
    """Parameters with a declared range that are sampled together (not fixed by schedule or genotype)."""
    return [name for name, p in scenario.parameters.items() if p.range is not None and p.basis not in FIXED_BASES]


@dataclass(frozen=True)
class Worlds:
    """Each arm's cohort in each world, read as Kaplan-Meier medians and fractions free.

    Attributes
    ----------
    labels : tuple of str
        One label per world ("defaults", "cd8_death x0.5", "sample 3", ...).
    median : dict of str to ndarray
        Each arm's median metastasis day in each world [day]; inf when not reached in follow-up.
    free : dict of str to dict of float to ndarray
        Each arm's fraction metastasis-free on each needed day [day] (NaN: not estimated).
    end : dict of str to float
        Each arm's follow-up [day].
    """

    labels: tuple[str, ...]
    median: dict[str, np.ndarray]
    free: dict[str, dict[float, np.ndarray]]
    end: dict[str, float]

    def holds(self, conclusion: Conclusion | Difference | DelaySpec, tie_days: float,
              tie_fraction: float) -> np.ndarray:
        """True in each world where the conclusion holds (see the module docstring)."""
        with np.errstate(invalid="ignore"):
            if isinstance(conclusion, Difference):
                difference = self.free[conclusion.arm][conclusion.day] - self.free[conclusion.reference][conclusion.day]
                return difference >= conclusion.at_least - 1e-12
            if isinstance(conclusion, DelaySpec):
                return self.delay(conclusion) >= conclusion.at_least
            earlier, later = self.median[conclusion.earlier], self.median[conclusion.later]
            by_fraction = (self.free[conclusion.earlier][self.end[conclusion.earlier]]
                           < self.free[conclusion.later][self.end[conclusion.later]] - tie_fraction)
            return np.where(np.isfinite(earlier), earlier < later - tie_days, np.isinf(later) & by_fraction)

    def delay(self, spec: DelaySpec) -> np.ndarray:
        """``arm`` minus ``reference`` median [day]; inf where the arm's is not reached; NaN where the reference's is not."""
        reference = np.where(np.isinf(self.median[spec.reference]), np.nan, self.median[spec.reference])
        return self.median[spec.arm] - reference


def _world_days(scenario: Scenario, worlds: Mapping[str, np.ndarray], mice: int, seed: int, engine: str,
                threads: int | None) -> np.ndarray:
    """Metastasis and endpoint days, shape (2, worlds, mice), of one cohort per world [day].

    ``worlds`` holds each world's value of the parameters it changes (all the same length). Every world has the
    same mice: the scenario's variability multiplies the world's values with the same draws (fixed by ``seed``).
    """
    count = len(next(iter(worlds.values()))) if worlds else 1
    spread = sample_parameters(scenario, mice, seed)
    values = {name: np.repeat(np.asarray(v, float), mice) for name, v in worlds.items()}
    for name, drawn in spread.items():
        param = scenario.parameters[name]
        base = values.get(name, np.full(count * mice, param.value))
        mouse = base * np.tile(drawn / param.value, count)
        values[name] = mouse if param.maximum is None else np.minimum(mouse, param.maximum)
    cohort = simulate_cohort(scenario, count * mice, seed, extra=values or None, engine=engine, workers=threads)
    return np.stack([cohort.metastasis_day, cohort.endpoint_day]).reshape(2, count, mice)


def _read(scenario: Scenario, days: np.ndarray, needed: Sequence[float]) -> tuple[np.ndarray, dict[float, np.ndarray]]:
    """Each world's Kaplan-Meier median (inf: not reached) and fraction free on each ``needed`` day."""
    metastasis, endpoint = days
    medians = np.full(len(metastasis), np.inf)
    free = {day: np.full(len(metastasis), np.nan) for day in needed}
    for w, (met, end) in enumerate(zip(metastasis, endpoint)):
        culled = np.isnan(met) & ~np.isnan(end)
        curve = kaplan_meier(met, np.where(culled, end, scenario.days))
        medians[w] = np.inf if curve.median is None else curve.median
        for day in needed:
            if day <= scenario.days and curve.known_at(day):
                free[day][w] = float(curve.at(day))
    return medians, free


def _solve_worlds(arms: Mapping[str, Sequence[Scenario]], worlds: Mapping[str, Mapping[str, np.ndarray]],
                  labels: Sequence[str], needed: Mapping[str, Sequence[float]], mice: int, seed: int, engine: str,
                  workers: int | None, executor: Executor | None) -> Worlds:
    """Solve every arm in every world: ``arms`` maps an arm to one scenario, or to one per world (own schedules)."""
    jobs, owners = [], []
    for name, scenarios in arms.items():
        values = worlds[name]
        if len(scenarios) == 1:
            jobs.append((scenarios[0], values, mice, seed, engine))
        else:
            jobs.extend((s, {k: v[w:w + 1] for k, v in values.items()}, mice, seed, engine)
                        for w, s in enumerate(scenarios))
        owners.extend([name] * (1 if len(scenarios) == 1 else len(scenarios)))
    if engine == "compiled" and executor is None:  # the compiled engine runs threads itself: no processes
        solved = [_world_days(*job, workers) for job in jobs]
    else:
        solved = run_all(_world_days, [(*job, 1) for job in jobs], workers=workers, executor=executor)
    medians, free = {}, {}
    for name, scenarios in arms.items():
        days = np.concatenate([d for d, owner in zip(solved, owners) if owner == name], axis=1)
        medians[name], free[name] = _read(scenarios[0], days, needed[name])
    return Worlds(tuple(labels), medians, free, {name: s[0].days for name, s in arms.items()})


def _one_at_a_time(scenario: Scenario, names: Sequence[str]) -> dict[str, np.ndarray]:
    """Column 0: defaults; then each name halved and doubled (capped at its maximum)."""
    columns = 1 + len(FACTORS) * len(names)
    values = {}
    for k, name in enumerate(names):
        param = scenario.parameters[name]
        column = np.full(columns, param.value)
        changed = param.value * np.array(FACTORS)
        column[1 + len(FACTORS) * k:1 + len(FACTORS) * (k + 1)] = (
            changed if param.maximum is None else np.minimum(changed, param.maximum))
        values[name] = column
    return values


def _sampled(scenario: Scenario, names: Sequence[str], unit_sample: np.ndarray) -> dict[str, np.ndarray]:
    """Map a unit-cube sample (worlds x names) onto this arm's ranges."""
    return {name: range_distribution(*scenario.parameters[name].range).ppf(unit_sample[:, k])
            for k, name in enumerate(names)}


def _inside_narrowed(scenario: Scenario, values: Mapping[str, np.ndarray], count: int) -> np.ndarray:
    """True for the ``count`` worlds whose values lie inside every narrowed range."""
    inside = np.ones(count, bool)
    for name, column in values.items():
        narrowed = scenario.parameters[name].narrowed_range
        if narrowed is not None:
            inside &= (column >= narrowed[0]) & (column <= narrowed[1])
    return inside


@dataclass(frozen=True)
class ConclusionCheck:
    """How often one conclusion holds: at the defaults, one at a time, over the full and the narrowed ranges."""

    conclusion: Conclusion | Difference | DelaySpec
    at_defaults: bool
    one_at_a_time: float
    failures: tuple[str, ...]
    over_ranges: float
    over_narrowed: float

    @property
    def evidence(self) -> bool:
        """False when the model's wiring makes the conclusion hold whatever the parameters."""
        return not self.conclusion.by_construction

    @property
    def robust(self) -> bool:
        return self.at_defaults and self.one_at_a_time >= REQUIRED and self.over_ranges >= REQUIRED


@dataclass(frozen=True)
class DelaySummary:
    """A delay of medians [day] at the defaults and its distribution over the ranges (inf: the arm's median is
    beyond follow-up; NaN: the reference's is, so there is no delay to measure)."""

    spec: DelaySpec
    at_defaults: float
    values: np.ndarray = field(repr=False)
    arm_beyond: np.ndarray = field(repr=False)  # per sample: the arm's median lies beyond follow-up

    @property
    def measured(self) -> int:
        """Samples in which the reference's median is reached, so that the delay is defined."""
        return int(np.sum(~np.isnan(self.values)))

    def quantiles(self, levels: Sequence[float] = (0.05, 0.5, 0.95)) -> list[float]:
        """Quantiles over the ``measured`` samples; inf when the arm's median is beyond follow-up."""
        defined = self.values[~np.isnan(self.values)]
        if not len(defined):
            return [float("nan")] * len(levels)
        return [float(q) for q in np.quantile(defined, levels, method="inverted_cdf")]

    @property
    def free_fraction(self) -> float:
        """Fraction of all samples in which more than half of the arm's mice stay metastasis-free through follow-up."""
        return float(np.mean(self.arm_beyond))


@dataclass(frozen=True)
class Robustness:
    """Result of ``check_robustness``: each conclusion's checks and each delay's spread."""

    title: str
    tie_days: float
    tie_fraction: float
    n: int
    mice: int
    seed: int
    engine: str
    varied: tuple[str, ...]
    ranged: tuple[str, ...]
    schedule: tuple[ScheduleRange, ...]
    narrowed: tuple[str, ...]
    inside_narrowed: int
    checks: tuple[ConclusionCheck, ...]
    delays: tuple[DelaySummary, ...]
    version: str = __version__

    @property
    def evidence(self) -> tuple[ConclusionCheck, ...]:
        """The checks that could fail: those not declared to hold by construction."""
        return tuple(c for c in self.checks if c.evidence)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers, with the sample size, mice, seed, varied parameters and version."""
        return {
            "title": self.title,
            "tie_days": self.tie_days,
            "tie_fraction": self.tie_fraction,
            "required_fraction": REQUIRED,
            "samples_over_ranges": self.n,
            "mice_per_arm_and_world": self.mice,
            "seed": self.seed,
            "engine": self.engine,
            "chance": True,
            "one_at_a_time_parameters": list(self.varied),
            "one_at_a_time_factors": list(FACTORS),
            "ranged_parameters": list(self.ranged),
            "schedule_ranges": {r.name: {"range": [r.low, r.high], "unit": r.unit, "meaning": r.meaning,
                                         "source": r.source} for r in self.schedule},
            "ranges_narrowed_by_the_findings": list(self.narrowed),
            "samples_inside_the_narrowed_ranges": self.inside_narrowed,
            "conclusions": [{
                "kind": type(c.conclusion).__name__.removesuffix("Spec").lower(),
                **{k: v for k, v in vars(c.conclusion).items()},
                "counts_as_evidence": c.evidence,
                "at_defaults": c.at_defaults,
                "one_at_a_time_fraction": c.one_at_a_time, "one_at_a_time_failures": list(c.failures),
                "over_ranges_fraction": c.over_ranges,
                "over_narrowed_ranges_fraction": _json_fraction(c.over_narrowed)} for c in self.checks],
            "delays": [{
                "arm": d.spec.arm, "reference": d.spec.reference, "meaning": d.spec.meaning,
                "at_defaults": _json_days(d.at_defaults),
                "over_ranges": dict(zip(("p5", "median", "p95"), map(_json_days, d.quantiles()))),
                "samples_with_a_reference_median": d.measured,
                "median_beyond_follow_up_fraction": d.free_fraction} for d in self.delays],
            "version": self.version,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> str:
        """One row per conclusion: holds at the defaults, fraction one at a time, over the full and narrowed ranges."""
        rows = [[c.conclusion.label, "by construction" if not c.evidence else "yes",
                 "yes" if c.at_defaults else "NO", f"{c.one_at_a_time:.0%}", f"{c.over_ranges:.0%}",
                 _percent(c.over_narrowed)] for c in self.checks]
        return format_table(("conclusion", "evidence", "at defaults", f"x{FACTORS[0]:g}/x{FACTORS[1]:g} one at a time",
                             f"over ranges (n={self.n})", f"narrowed (n={self.inside_narrowed})"), rows)

    def sentences(self) -> list[str]:
        """Plain words, computed from the numbers of this run."""
        evidence = self.evidence
        robust = [c for c in evidence if c.robust]
        schedule = f" and {len(self.schedule)} schedule uncertainties" if self.schedule else ""
        lines = [f"Each arm in each world is a cohort of {self.mice} mice with chance in the bone (seed {self.seed}). "
                 f"{len(robust)} of the {len(evidence)} conclusions that could fail hold at the defaults and in at least "
                 f"{REQUIRED:.0%} of both the one-at-a-time changes ({len(self.varied)} parameters, each halved and "
                 f"doubled) and the {self.n} samples of {len(self.ranged)} parameter ranges{schedule}."]
        for c in evidence:
            if c.robust and not c.failures:
                continue
            label = "Holds, with exceptions" if c.robust else "Fragile"
            shown = ", ".join(c.failures[:6]) + (f" and {len(c.failures) - 6} more" if len(c.failures) > 6 else "")
            failed = f", fails for {shown}" if c.failures else ""
            lines.append(f"{label}: {c.conclusion.claim}: {'holds' if c.at_defaults else 'does NOT hold'} at the "
                         f"defaults, in {c.one_at_a_time:.0%} of one-at-a-time changes{failed}; in {c.over_ranges:.0%} "
                         "of samples over the ranges.")
        built_in = [c for c in self.checks if not c.evidence]
        if built_in:
            reasons = {}
            for c in built_in:
                reasons.setdefault(c.conclusion.by_construction, []).append(c)
            why = "; ".join(f"{reason} ({len(group)} of them)" for reason, group in reasons.items())
            lines.append(f"Not counted as evidence: {len(built_in)} conclusions hold by construction (they held in "
                         f"{min(c.over_ranges for c in built_in):.0%} or more of the samples over the ranges; a failure "
                         f"is a tie or chance), because {why}.")
        for d in self.delays:
            low, median, high = d.quantiles()
            lines.append(f"{d.spec.meaning[0].upper()}{d.spec.meaning[1:]} (median against median): "
                         f"{_days_text(d.at_defaults)} at the defaults; over the {d.measured} samples in which the "
                         f"{d.spec.reference} median is reached, a median of {_days_text(median)}, 90 % between "
                         f"{_days_text(low)} and {_days_text(high)}. More than half of the {d.spec.arm} mice stay "
                         f"metastasis-free through follow-up in {d.free_fraction:.0%} of all {self.n} samples.")
        if self.narrowed:
            lines.append(f"The range of {', '.join(self.narrowed)} is narrowed by the paper's own findings (see "
                         f"narrowed_by in the parameter file); {self.inside_narrowed} of the {self.n} samples fall "
                         "inside the narrowed ranges, and the pass rates over them are given apart.")
        return lines

    def summary(self) -> str:
        return "\n".join([self.title, "", self.table(), "", *self.sentences()])


def _percent(fraction: float) -> str:
    return "-" if np.isnan(fraction) else f"{fraction:.0%}"


def _json_fraction(fraction: float) -> float | None:
    return None if np.isnan(fraction) else float(fraction)


def _json_days(days: float) -> float | str | None:
    if np.isnan(days):
        return None
    return "beyond follow-up" if np.isinf(days) else float(days)


def _days_text(days: float) -> str:
    if np.isnan(days):
        return "undefined (the reference median is not reached)"
    return "more than the follow-up" if np.isinf(days) else f"{days:.1f} days"


def _arm(name: str, declared: DeclaredConclusions) -> Scenario:
    """The scenario an arm of the conclusions file names, with chance on; errors name the file."""
    try:
        return load_scenario(name).with_changes(chance=True)
    except InputError as error:
        raise InputError(f"{declared.source}: arm '{name}': {error}") from None


def check_robustness(
    conclusions: str | Path | DeclaredConclusions | None = None,
    *,
    n: int = DEFAULT_N,
    mice: int = DEFAULT_MICE,
    seed: int = 0,
    changes: Mapping[str, Any] | None = None,
    engine: str = "auto",
    workers: int | None = None,
    executor: Executor | None = None,
) -> Robustness:
    """Check every declared conclusion on cohorts at the defaults, one parameter at a time, and over the ranges.

    Parameters
    ----------
    conclusions : path or DeclaredConclusions, optional
        The conclusions (default: Bidwell et al. 2012's, ``CONCLUSIONS_FILE``).
    n : int
        Latin-hypercube samples of the declared parameter and schedule ranges.
    mice : int
        Mice per arm in each world (each a cohort with chance in the bone).
    seed : int
        Seed of the sample and of the mice: the same seed gives the same numbers.
    changes : mapping, optional
        Parameter values to change in every arm first (``--set``).
    engine : str
        "auto", "compiled" or "numpy", as for ``sim.cohort.simulate_cohort``. With the compiled engine
        the default check takes well under a minute on 2 cores; the NumPy engine takes many minutes.
    workers, executor
        Threads (compiled engine) or processes (NumPy engine) to use (default: one per core), or any
        ``concurrent.futures`` executor.
    """
    declared = conclusions if isinstance(conclusions, DeclaredConclusions) else load_conclusions(conclusions)
    workers = check_workers(workers, "workers (--workers)")
    n = check_size(n, "n (--n)", MAX_SAMPLES, ", the most range samples")
    mice = check_size(mice, "mice (--mice)", MAX_MICE, ", the most mice per arm and world")
    seed = check_seed(seed, "seed (--seed)")
    arms = {name: _arm(name, declared) for name in declared.arms}
    if changes:
        arms = {name: s.with_changes(parameters=changes, where="changes (--set)") for name, s in arms.items()}
    first_name, first = next(iter(arms.items()))
    if any(s.model is not first.model for s in arms.values()) or first.model.detection_state is None:
        raise InputError(f"{declared.source}: every arm must be a scenario of one model with a metastasis readout")
    for difference in declared.differences:
        follow_up = min(arms[name].days for name in difference.arms)
        if difference.day > follow_up:
            raise InputError(f"{declared.source}: the difference of {difference.arm} and {difference.reference} is read "
                             f"on day {difference.day:g}, after their follow-up of {follow_up:g} days")
    engine = choose_engine(engine, first)
    if engine == "numpy" and not kernel.available():
        print(f"tumorsim: robustness on the NumPy engine takes minutes (about 10 at the defaults on 2 cores); the "
              f"compiled engine takes seconds: {kernel.INSTALL}", file=sys.stderr)
    varied, ranged = varied_parameters(first), ranged_parameters(first)
    needed = {name: sorted({s.days, *(d.day for d in declared.differences if name in d.arms)}) for name, s in arms.items()}

    labels = ["defaults"] + [f"{name} x{f:g}" for name in varied for f in FACTORS]
    local = _solve_worlds({a: [s] for a, s in arms.items()}, {a: _one_at_a_time(s, varied) for a, s in arms.items()},
                          labels, needed, mice, seed, engine, workers, executor)
    unit_sample = qmc.LatinHypercube(d=len(ranged) + len(declared.schedule), seed=np.random.default_rng(seed)).random(n)
    shifts = [{r.name: float(v) for r, v in zip(declared.schedule, row)} for row in
              (np.column_stack([range_distribution(r.low, r.high).ppf(unit_sample[:, len(ranged) + k])
                                for k, r in enumerate(declared.schedule)]) if declared.schedule else np.empty((n, 0)))]
    values = {a: _sampled(s, ranged, unit_sample) for a, s in arms.items()}
    sampled = _solve_worlds({a: [shifted_schedule(s, shift) for shift in shifts] if declared.schedule else [s]
                             for a, s in arms.items()}, values, [f"sample {i}" for i in range(n)], needed, mice,
                            seed, engine, workers, executor)
    inside = _inside_narrowed(first, values[first_name], n)

    checks = []
    for c in declared.checked:
        holds = local.holds(c, declared.tie_days, declared.tie_fraction)
        over = sampled.holds(c, declared.tie_days, declared.tie_fraction)
        checks.append(ConclusionCheck(c, bool(holds[0]), float(holds[1:].mean()),
                                      tuple(labels[i] for i in np.flatnonzero(~holds[1:]) + 1), float(over.mean()),
                                      float(over[inside].mean()) if inside.any() else float("nan")))
    delays = tuple(DelaySummary(d, float(local.delay(d)[0]), sampled.delay(d), np.isinf(sampled.median[d.arm]))
                   for d in declared.delays)
    narrowed = tuple(name for name in ranged if first.parameters[name].narrowed_range is not None)
    return Robustness(declared.title, declared.tie_days, declared.tie_fraction, n, mice, seed, engine, tuple(varied),
                      tuple(ranged), declared.schedule, narrowed, int(inside.sum()), tuple(checks), delays)
