"""How sure is the model? The paper's conclusions checked across the parameters' uncertainty.

The conclusions are data (``sim/data/conclusions/bidwell2012.toml``): which
arm should see bone metastasis earlier than which, and which delays to
report. Every arm is solved in three kinds of run, all arms with the same
parameter changes (one "possible world" per run):

* **defaults**: the shipped values;
* **one at a time**: every parameter that describes biology or the experiment
  (basis neither ``schedule`` nor ``genotype``, value not zero) halved and
  doubled in turn, capped at its maximum;
* **ranges**: a Latin-hypercube sample of the declared parameter ranges, all at
  once (each range sampled as ``sim.sensitivity`` does: log-uniformly when it
  spans more than a factor 10). The same sample point is used in every arm; a
  range moves with a value that a tumour line or host changes.

A conclusion "earlier before later" holds in a run when the earlier arm's
metastasis is detected more than ``tie_days`` before the later arm's, or
before the later arm leaves the study without one (culled, or free at the end
of follow-up). Ties fail; an earlier arm without a detected metastasis fails.
All runs of one arm are solved as one vectorized batch (``sim.batch``).

Examples
--------
>>> from sim.robustness import load_conclusions
>>> declared = load_conclusions()
>>> declared.conclusions[0].claim
'restoring Irf7 in 4T1.2 delays bone metastasis'
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy.stats import qmc

from .analysis import format_table
from .batch import BATCH_ATOL, BATCH_RTOL, solve_batch
from .cohort import check_seed, check_size
from .errors import InputError
from .parallel import check_workers, run_all
from .parameters import DATA, checked_number, read_toml, reject_unknown_keys
from .scenarios import Scenario, load_scenario
from .sensitivity import range_distribution
from .version import __version__

CONCLUSIONS_FILE = DATA / "conclusions" / "bidwell2012.toml"
FACTORS = (0.5, 2.0)
"""One-at-a-time changes: each parameter halved, then doubled."""
FIXED_BASES = ("schedule", "genotype")
"""Parameters of these bases say what was done to the mouse, not how biology works: never varied."""
DEFAULT_N = 256
MAX_SAMPLES = 100_000
REQUIRED = 0.9
"""Fraction of runs in which a conclusion should hold to count as robust (the figure marks it)."""


@dataclass(frozen=True)
class Conclusion:
    """One qualitative finding: the ``earlier`` arm metastasizes before the ``later`` arm."""

    earlier: str
    later: str
    claim: str


@dataclass(frozen=True)
class DelaySpec:
    """A delay to report: ``arm``'s metastasis day minus ``reference``'s [day]."""

    arm: str
    reference: str
    meaning: str


@dataclass(frozen=True)
class DeclaredConclusions:
    """A conclusions file: its title, tie tolerance [day], conclusions and delays."""

    title: str
    tie_days: float
    conclusions: tuple[Conclusion, ...]
    delays: tuple[DelaySpec, ...]
    source: Path

    @property
    def arms(self) -> list[str]:
        """Every scenario named, in order of first mention."""
        names = [n for c in self.conclusions for n in (c.earlier, c.later)] + [
            n for d in self.delays for n in (d.arm, d.reference)]
        return list(dict.fromkeys(names))


def load_conclusions(path: str | Path | None = None) -> DeclaredConclusions:
    """Read a conclusions file (default: the paper's, ``CONCLUSIONS_FILE``)."""
    path = Path(path) if path is not None else CONCLUSIONS_FILE
    data = read_toml(path)
    where = str(path)
    reject_unknown_keys(data, {"title", "tie_days", "conclusion", "delay"}, where)
    tie = checked_number(data.get("tie_days", 0.1), f"{where}: 'tie_days'")
    conclusions = tuple(Conclusion(**_entry(e, ("earlier", "later", "claim"), f"{where}: conclusion {i}"))
                        for i, e in enumerate(_entries(data, "conclusion", where), start=1))
    delays = tuple(DelaySpec(**_entry(e, ("arm", "reference", "meaning"), f"{where}: delay {i}"))
                   for i, e in enumerate(_entries(data, "delay", where, required=False), start=1))
    return DeclaredConclusions(str(data.get("title", path.stem)), tie, conclusions, delays, path)


def _entries(data: Mapping[str, Any], key: str, where: str, required: bool = True) -> list:
    entries = data.get(key, [])
    if not isinstance(entries, list) or (required and not entries):
        raise InputError(f"{where}: needs at least one [[{key}]] table" if required
                         else f"{where}: '{key}' must be a list of [[{key}]] tables")
    return entries


def _entry(entry: Any, keys: tuple[str, ...], here: str) -> dict[str, str]:
    if not isinstance(entry, Mapping):
        raise InputError(f"{here}: must be a table with keys {', '.join(keys)}")
    reject_unknown_keys(entry, set(keys), here)
    missing = [k for k in keys if not isinstance(entry.get(k), str) or not entry[k].strip()]
    if missing:
        raise InputError(f"{here}: '{missing[0]}' must be text in quotes")
    return {k: entry[k] for k in keys}


def varied_parameters(scenario: Scenario) -> list[str]:
    """Parameters changed one at a time: not fixed by the schedule or the genotype, and not zero."""
    return [name for name, p in scenario.parameters.items() if p.basis not in FIXED_BASES and p.value != 0]


def ranged_parameters(scenario: Scenario) -> list[str]:
    """Parameters with a declared range that are sampled together (not fixed by schedule or genotype)."""
    return [name for name, p in scenario.parameters.items() if p.range is not None and p.basis not in FIXED_BASES]


@dataclass(frozen=True)
class Runs:
    """Each run's outcome in every arm: metastasis day and where a mouse without one left the study [day]."""

    labels: tuple[str, ...]
    metastasis_day: dict[str, np.ndarray]  # NaN: none detected
    leaves_day: dict[str, np.ndarray]  # metastasis day, endpoint day if culled first, else follow-up

    def holds(self, conclusion: Conclusion, tie_days: float) -> np.ndarray:
        """True in each run where the conclusion holds (see the module docstring)."""
        earlier = self.metastasis_day[conclusion.earlier]
        later = self.leaves_day[conclusion.later]
        with np.errstate(invalid="ignore"):
            return ~np.isnan(earlier) & (earlier < later - tie_days)

    def delay(self, spec: DelaySpec) -> np.ndarray:
        """``arm`` minus ``reference`` metastasis day [day]; inf where the arm has none; NaN where the reference has none."""
        arm = np.where(np.isnan(self.metastasis_day[spec.arm]), np.inf, self.metastasis_day[spec.arm])
        return arm - self.metastasis_day[spec.reference]


def _solve_arm(scenario: Scenario, values: dict[str, np.ndarray], rtol: float, atol: float) -> np.ndarray:
    outcome = solve_batch(scenario, values, rtol=rtol, atol=atol)
    culled = np.isnan(outcome.metastasis_day) & ~np.isnan(outcome.endpoint_day)
    leaves = np.where(np.isnan(outcome.metastasis_day), np.where(culled, outcome.endpoint_day, scenario.days),
                      outcome.metastasis_day)
    return np.stack([outcome.metastasis_day, leaves])


def _solve_runs(arms: dict[str, Scenario], values: dict[str, dict[str, np.ndarray]], labels: Sequence[str],
                workers: int | None, executor: Executor | None, rtol: float, atol: float) -> Runs:
    jobs = [(arms[name], values[name], rtol, atol) for name in arms]
    solved = run_all(_solve_arm, jobs, workers=workers, executor=executor)
    return Runs(tuple(labels), {n: s[0] for n, s in zip(arms, solved)}, {n: s[1] for n, s in zip(arms, solved)})


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
    """Map a unit-cube sample (runs x names) onto this arm's ranges."""
    return {name: range_distribution(*scenario.parameters[name].range).ppf(unit_sample[:, k])
            for k, name in enumerate(names)}


@dataclass(frozen=True)
class ConclusionCheck:
    """How often one conclusion holds: at the defaults, one at a time, over the ranges."""

    conclusion: Conclusion
    at_defaults: bool
    default_days: tuple[float | None, float | None]
    one_at_a_time: float
    failures: tuple[str, ...]
    over_ranges: float


@dataclass(frozen=True)
class DelaySummary:
    """A delay [day] at the defaults and its distribution over the ranges (inf: the arm stays free)."""

    spec: DelaySpec
    at_defaults: float
    values: np.ndarray = field(repr=False)

    def quantiles(self, levels: Sequence[float] = (0.05, 0.5, 0.95)) -> list[float]:
        """Quantiles over the runs with a reference metastasis; inf when beyond follow-up."""
        defined = self.values[~np.isnan(self.values)]
        if not len(defined):
            return [float("nan")] * len(levels)
        return [float(q) for q in np.quantile(defined, levels, method="inverted_cdf")]

    @property
    def free_fraction(self) -> float:
        """Fraction of the runs in which the arm has no metastasis within follow-up."""
        return float(np.mean(np.isinf(self.values)))


@dataclass(frozen=True)
class Robustness:
    """Result of ``check_robustness``: each conclusion's checks and each delay's spread."""

    title: str
    tie_days: float
    n: int
    seed: int
    varied: tuple[str, ...]
    ranged: tuple[str, ...]
    checks: tuple[ConclusionCheck, ...]
    delays: tuple[DelaySummary, ...]
    narrowed: tuple[str, ...] = ()
    version: str = __version__

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready numbers, with the sample size, seed, varied parameters and version."""
        return {
            "title": self.title,
            "tie_days": self.tie_days,
            "required_fraction": REQUIRED,
            "samples_over_ranges": self.n,
            "seed": self.seed,
            "one_at_a_time_parameters": list(self.varied),
            "one_at_a_time_factors": list(FACTORS),
            "ranged_parameters": list(self.ranged),
            "ranges_narrowed_by_the_findings": list(self.narrowed),
            "conclusions": [{
                "earlier": c.conclusion.earlier, "later": c.conclusion.later, "claim": c.conclusion.claim,
                "at_defaults": c.at_defaults, "default_days": list(c.default_days),
                "one_at_a_time_fraction": c.one_at_a_time, "one_at_a_time_failures": list(c.failures),
                "over_ranges_fraction": c.over_ranges} for c in self.checks],
            "delays": [{
                "arm": d.spec.arm, "reference": d.spec.reference, "meaning": d.spec.meaning,
                "at_defaults": _json_days(d.at_defaults),
                "over_ranges": dict(zip(("p5", "median", "p95"), map(_json_days, d.quantiles()))),
                "free_fraction_over_ranges": d.free_fraction} for d in self.delays],
            "version": self.version,
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    def table(self) -> str:
        """One row per conclusion: holds at the defaults, fraction one at a time, fraction over the ranges."""
        rows = [[c.conclusion.earlier, c.conclusion.later, "yes" if c.at_defaults else "NO",
                 f"{c.one_at_a_time:.0%}", f"{c.over_ranges:.0%}"] for c in self.checks]
        return format_table(("earlier arm", "later arm", "at defaults",
                             f"x{FACTORS[0]:g}/x{FACTORS[1]:g} one at a time", f"over ranges (n={self.n})"), rows)

    def sentences(self) -> list[str]:
        """Plain words, computed from the numbers of this run."""
        robust = [c for c in self.checks if c.one_at_a_time >= REQUIRED and c.over_ranges >= REQUIRED]
        lines = [f"{len(robust)} of {len(self.checks)} conclusions hold in at least {REQUIRED:.0%} of both the "
                 f"one-at-a-time changes ({len(self.varied)} parameters, each halved and doubled) and the "
                 f"{self.n} samples of {len(self.ranged)} parameter ranges (seed {self.seed})."]
        for c in self.checks:
            if c in robust and not c.failures:
                continue
            label = "Fragile" if c not in robust else "Holds, with exceptions"
            shown = ", ".join(c.failures[:6]) + (f" and {len(c.failures) - 6} more" if len(c.failures) > 6 else "")
            failed = f", fails for {shown}" if c.failures else ""
            lines.append(f"{label}: {c.conclusion.claim}: {'holds' if c.at_defaults else 'does NOT hold'} at the "
                         f"defaults, in {c.one_at_a_time:.0%} of one-at-a-time changes{failed}; in {c.over_ranges:.0%} "
                         "of samples over the ranges.")
        for d in self.delays:
            low, median, high = d.quantiles()
            lines.append(f"{d.spec.meaning[0].upper()}{d.spec.meaning[1:]}: {_days_text(d.at_defaults)} at the defaults; "
                         f"over the ranges a median delay of {_days_text(median)}, 90 % of samples between "
                         f"{_days_text(low)} and {_days_text(high)} ({d.spec.arm} stays metastasis-free through "
                         f"follow-up in {d.free_fraction:.0%} of samples).")
        if self.narrowed:
            lines.append(f"The range of {', '.join(self.narrowed)} was narrowed using the paper's own findings (see its "
                         "range_source in the parameter file), so the share of samples in which the findings hold over "
                         "the ranges is partly built in.")
        return lines

    def summary(self) -> str:
        return "\n".join([self.title, "", self.table(), "", *self.sentences()])


def _json_days(days: float) -> float | str | None:
    if np.isnan(days):
        return None
    return "beyond follow-up" if np.isinf(days) else float(days)


def _days_text(days: float) -> str:
    if np.isnan(days):
        return "undefined (no reference metastasis)"
    return "more than the follow-up" if np.isinf(days) else f"{days:.1f} days"


def check_robustness(
    conclusions: str | Path | DeclaredConclusions | None = None,
    *,
    n: int = DEFAULT_N,
    seed: int = 0,
    changes: Mapping[str, Any] | None = None,
    workers: int | None = None,
    executor: Executor | None = None,
    rtol: float = BATCH_RTOL,
    atol: float = BATCH_ATOL,
) -> Robustness:
    """Check every declared conclusion at the defaults, one parameter at a time, and over the ranges.

    Parameters
    ----------
    conclusions : path or DeclaredConclusions, optional
        The conclusions (default: Bidwell et al. 2012's, ``CONCLUSIONS_FILE``).
    n : int
        Latin-hypercube samples of the declared ranges.
    seed : int
        Seed of the sample: the same seed gives the same numbers.
    changes : mapping, optional
        Parameter values to change in every arm first (``--set``).
    workers, executor
        Processes (default: one per core), or any ``concurrent.futures`` executor.
    """
    declared = conclusions if isinstance(conclusions, DeclaredConclusions) else load_conclusions(conclusions)
    workers = check_workers(workers, "workers (--workers)")
    n = check_size(n, "n (--n)", MAX_SAMPLES, ", the most range samples (about 10 minutes on 2 cores)")
    seed = check_seed(seed, "seed (--seed)")
    arms = {name: load_scenario(name).mean_field() for name in declared.arms}
    if changes:
        arms = {name: s.with_changes(parameters=changes, where="changes (--set)") for name, s in arms.items()}
    first = next(iter(arms.values()))
    if any(s.model is not first.model for s in arms.values()) or first.model.detection_state is None:
        raise InputError(f"{declared.source}: every arm must be a scenario of one model with a metastasis readout")
    varied, ranged = varied_parameters(first), ranged_parameters(first)

    labels = ["defaults"] + [f"{name} x{f:g}" for name in varied for f in FACTORS]
    local = _solve_runs(arms, {a: _one_at_a_time(s, varied) for a, s in arms.items()}, labels,
                        workers, executor, rtol, atol)
    unit_sample = qmc.LatinHypercube(d=len(ranged), seed=np.random.default_rng(seed)).random(n)
    sampled = _solve_runs(arms, {a: _sampled(s, ranged, unit_sample) for a, s in arms.items()},
                          [f"sample {i}" for i in range(n)], workers, executor, rtol, atol)

    checks = []
    for c in declared.conclusions:
        holds = local.holds(c, declared.tie_days)
        days = tuple(None if np.isnan(local.metastasis_day[a][0]) else float(local.metastasis_day[a][0])
                     for a in (c.earlier, c.later))
        checks.append(ConclusionCheck(c, bool(holds[0]), days, float(holds[1:].mean()),
                                      tuple(labels[i] for i in np.flatnonzero(~holds[1:]) + 1),
                                      float(sampled.holds(c, declared.tie_days).mean())))
    delays = tuple(DelaySummary(d, float(local.delay(d)[0]), sampled.delay(d)) for d in declared.delays)
    narrowed = tuple(name for name in ranged if "narrowed" in first.parameters[name].range_source)
    return Robustness(declared.title, declared.tie_days, n, seed, tuple(varied), tuple(ranged), tuple(checks), delays,
                      narrowed)
