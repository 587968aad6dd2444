"""Read a result: headline numbers and plain-language summaries."""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .errors import InputError
from .scenarios import is_shipped

if TYPE_CHECKING:
    from .result import Result
    from .scenarios import Scenario


def key_numbers(result: Result) -> dict[str, float | None]:
    """Headline numbers of a result (JSON-ready).

    For the Irf7 model: ``fate`` ("metastasis", "culled" or "free"),
    ``metastasis_day`` and ``endpoint_day`` [day] or None, ``final_bone_burden``
    [cells] (at the end of the run), ``peak_nk_fold`` and ``peak_mdsc_fold``
    (peak over starting level), ``peak_cd8_effectors`` and ``peak_cd8_memory``
    [cells] and ``mean_signalling`` (time-averaged S, 0-1). For other models: each state's ``final_``, ``min_`` and ``max_``
    value, in the state's unit.
    """
    if result.model == "irf7":
        return _irf7_numbers(result)
    numbers: dict[str, float | None] = {}
    for name in result.state_names:
        series = result[name]
        numbers.update({f"final_{name}": float(series[-1]), f"min_{name}": float(series.min()),
                        f"max_{name}": float(series.max())})
    return numbers


def _irf7_numbers(result: Result) -> dict[str, float | str | None]:
    t = result.time

    def peak_fold(name: str) -> float | None:
        series = result[name]
        return float(series.max() / series[0]) if series[0] > 0 else None

    signalling = result["S"]
    surgery = _first_resection(result)
    before = t <= (t[-1] if surgery is None else surgery)
    after = None
    if surgery is not None and surgery + MEMORY_LAG <= t[-1]:
        after = round(float(np.interp(surgery + MEMORY_LAG, t, result["M"])), 1)  # whole cells; no 1e-19 "cells"
    return {
        "fate": result.fate,
        "metastasis_day": result.metastasis_day,
        "endpoint_day": result.endpoint_day,
        "final_bone_burden": float(result["B"][-1]),
        "peak_nk_fold": peak_fold("N"),
        "peak_cd8_effectors": float(result["L"].max()),
        "peak_cd8_effectors_day": float(t[int(np.argmax(result["L"]))]),
        "cd8_effectors_before_surgery": float(result["L"][before].max()),
        "peak_cd8_memory": float(result["M"].max()),
        "peak_mdsc_fold": peak_fold("Q"),
        "mean_signalling": _mean(signalling, t),
        "surgery_day": surgery,
        "nk_fold_before_surgery": float(result["N"][before].max() / result["N"][0]) if result["N"][0] > 0 else None,
        "signalling_before_surgery": _mean(signalling[before], t[before]),
        "cd8_memory_after_surgery": after,
    }


IRF7_UNITS = {"metastasis_day": "day", "endpoint_day": "day", "final_bone_burden": "cells", "peak_nk_fold": "x start",
              "peak_cd8_effectors": "cells", "peak_cd8_effectors_day": "day", "cd8_effectors_before_surgery": "cells",
              "peak_cd8_memory": "cells", "peak_mdsc_fold": "x normal",
              "mean_signalling": "0-1", "surgery_day": "day", "nk_fold_before_surgery": "x start",
              "signalling_before_surgery": "0-1", "cd8_memory_after_surgery": "cells"}
"""Units of the Irf7 model's headline numbers (``key_numbers``); "x start": a multiple of the starting number."""


def key_units(result: Result) -> dict[str, str]:
    """The unit of each of ``key_numbers(result)``, by the same keys (``fate`` has none)."""
    if result.model == "irf7":
        return dict(IRF7_UNITS)
    units = {}
    for state in result.scenario.model.states:
        unit = "dimensionless" if state.unit == "1" else state.unit
        units.update({f"{kind}_{state.name}": unit for kind in ("final", "min", "max")})
    return units


MEMORY_LAG = 14.0
"""Days after surgery at which the memory CD8+ pool is read: the effectors have contracted by then."""


def _first_resection(result: Result) -> float | None:
    """Day of the first surgery that took place (None: never operated on, or culled first)."""
    model = result.scenario.model
    days = [j.day for j in result.scenario.schedule.jumps if j.state == model.resection_state and j.day <= result.time[-1]]
    return min(days) if days else None


def _mean(values: np.ndarray, t: np.ndarray) -> float:
    """Time average of ``values`` over ``t`` (trapezoid rule); the value itself over a single instant."""
    from scipy.integrate import trapezoid  # here, not at the top: 'tumorsim list' and 'show' start without scipy

    span = t[-1] - t[0]
    return float(trapezoid(values, t) / span) if span > 0 else float(values[0])


def heading(scenario: Scenario) -> list[str]:
    """What was run, in words: the scenario's description as shipped, then what this run changed.

    A changed scenario is introduced by its origin, so its description (written
    for the origin) is never presented as describing this run.
    """
    if not scenario.changes:
        return [f"{scenario.name}: {scenario.description}"]
    origin = scenario.origin or scenario
    if not is_shipped(origin.source):
        what = f"{origin.source} as written, changed for this run"
    elif scenario.source != origin.source:
        what = f"{scenario.source}, a changed copy of the shipped scenario '{origin.name}'"
    else:
        what = f"the shipped scenario '{origin.name}', changed for this run"
    return [f"{scenario.name}: {what}.", f"As written, it is: {origin.description}",
            f"Changes: {'; '.join(scenario.changes)}."]


def title(scenario: Scenario, width: int = 110) -> str:
    """A figure's title: the name and description, or for a changed scenario its name and what changed.

    A scenario given a new description along with its changes (by a script, say) keeps that description.
    """
    origin = scenario.origin or scenario
    if not scenario.changes or scenario.description != origin.description:
        text = f"{scenario.name}: {scenario.description}"
    else:
        source = "" if origin.name == scenario.name else f" from '{origin.name}'"
        text = f"{scenario.name}, changed{source}: {'; '.join(scenario.changes)}"
    return textwrap.fill(text, width)


def notice_lines(scenario: Scenario) -> list[str]:
    """The scenario's hand-written note, only when the run is the shipped scenario as shipped."""
    if not scenario.notice:
        return []
    if scenario.as_shipped:
        return [f"What to notice: {scenario.notice}"]
    return ["(The scenario's own note is not shown: it was written for the shipped scenario as shipped, and this run "
            "is not that.)"]


def describe(result: Result) -> str:
    """Plain sentences on what happened in the run, each computed from its numbers.

    The scenario's hand-written note follows only when the run is the shipped
    scenario unchanged (see ``notice_lines``).
    """
    lines = heading(result.scenario)
    lines += _irf7_sentences(result) if result.model == "irf7" else _state_sentences(result)
    lines += _chance_sentences(result)
    lines += notice_lines(result.scenario)
    return "\n".join(lines)


def _state_sentences(result: Result) -> list[str]:
    span = "dimensionless time units" if result.time_unit == "1" else f"{result.time_unit}s"
    lines = [f"Over {result.days:g} {span}:"]
    for state in result.scenario.model.states:
        series = result[state.name]
        unit = "" if state.unit == "1" else f" {state.unit}"
        lines.append(f"  {state.meaning} ({state.name}) went from {series[0]:.4g} to {series[-1]:.4g}{unit} "
                     f"(lowest {series.min():.4g}, highest {series.max():.4g}).")
    return lines


def _irf7_sentences(result: Result) -> list[str]:
    numbers = _irf7_numbers(result)
    params = result.scenario.parameters
    threshold, endpoint = params["detection_threshold"].value, params["endpoint_burden"].value
    end, bone = float(result.time[-1]), numbers["final_bone_burden"]
    if numbers["fate"] == "culled":
        lines = [f"Culled on day {numbers['endpoint_day']:.1f} at the humane endpoint: the primary tumour reached "
                 f"{endpoint:.1e} cells before any bone metastasis was detected (bone burden then {bone:.3g} cells, detection at "
                 f"{threshold:.0e})."]
    elif numbers["fate"] == "free":
        lines = [f"No bone metastasis within {result.days:g} days: the bone burden stayed below the detection "
                 f"threshold of {threshold:.0e} cells (final burden {bone:.3g} cells)."]
    else:
        lines = [f"Bone metastasis detected on day {numbers['metastasis_day']:.1f}: the bone burden crossed "
                 f"{threshold:.0e} cells (burden {bone:.3g} cells on day {end:g})."]
        if numbers["endpoint_day"] is not None:
            removed = ("it was never operated on" if numbers["surgery_day"] is None else
                       f"it grew back after surgery on day {numbers['surgery_day']:g}")
            lines.append(f"The primary tumour then reached the humane endpoint ({endpoint:.1e} cells) on day "
                         f"{numbers['endpoint_day']:.1f} ({removed}), and the mouse was culled.")
    surgery = numbers["surgery_day"]
    phase = f"Before surgery on day {surgery:g}" if surgery is not None else "Without surgery"
    memory = ("" if numbers["cd8_memory_after_surgery"] is None else
              f", and {MEMORY_LAG:g} days after surgery {numbers['cd8_memory_after_surgery']:.3g} memory cells remained")
    lines.append(
        f"Immune state: {phase}, NK cells {_fold_text(numbers['nk_fold_before_surgery'], 'their starting number')} and "
        f"host interferon signalling averaged {numbers['signalling_before_surgery']:.2f} (0 none, 1 full); "
        f"tumour-specific CD8+ T cells reached {numbers['cd8_effectors_before_surgery']:.3g} effector cells{memory}."
    )
    mdsc = f"MDSCs {_fold_text(numbers['peak_mdsc_fold'], 'their normal level')}."
    day, detected = numbers["peak_cd8_effectors_day"], numbers["metastasis_day"]
    if surgery is None or day <= surgery:  # the peak up to surgery, already reported, is the run's peak
        lines.append(mdsc)
        return lines
    after = " (after the bone metastasis was detected)" if detected is not None and day > detected else ""
    lines.append(f"Over the whole run, effector CD8+ T cells peaked at {numbers['peak_cd8_effectors']:.3g} on day "
                 f"{day:.0f}{after}; {mdsc}")
    return lines


def _chance_sentences(result: Result) -> list[str]:
    """With chance on: that this is one mouse's draws, and how often each fate came up among its replicates."""
    if not result.scenario.chance:
        return []
    limit = result.scenario.parameters["chance_limit"].value
    lines = [f"Chance: below {limit:g} cells the bone burden was whole cells that arrived, divided and died at random "
             f"(seed {result.solver['seed']}); another seed gives another mouse."]
    odds = result.odds
    if odds is not None:
        shares = [f"{100 * odds.share(fate):.0f} % {FATE_WORDS[fate]} ({_percent_interval(odds.interval(fate))})"
                  for fate in FATE_WORDS]
        lines.append(f"Of {odds.n} mice with the same parameters and other draws (this one the first): "
                     f"{', '.join(shares[:-1])} and {shares[-1]} (95 % intervals).")
    return lines


FATE_WORDS = {"free": "stayed free", "metastasis": "had bone metastasis", "culled": "were culled"}


def _percent_interval(interval: tuple[float, float]) -> str:
    low, high = interval
    return f"{100 * low:.0f}-{100 * high:.0f} %"


def _fold_text(fold: float | None, reference: str) -> str:
    """How far a population rose over ``reference``, in words that hold for the number."""
    if fold is None:
        return "were absent at the start"
    if fold < 1.005:
        return f"never rose above {reference}"
    return f"rose to {fold:.3g}x {reference}"


def when_text(result: Result) -> str:
    """'bone metastasis on day 29', 'culled on day 26 (humane endpoint)' or 'no bone metastasis within 120 days'."""
    if result.fate == "metastasis":
        return f"bone metastasis on day {result.metastasis_day:.0f}"
    if result.fate == "culled":
        return f"culled on day {result.endpoint_day:.0f} (humane endpoint)"
    return f"no bone metastasis within {result.days:.0f} days"


def format_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """Align columns of text; numbers are shown with 3-4 significant digits."""

    def cell(value: object) -> str:
        if value is None:
            return "none"
        if isinstance(value, float):
            return f"{value:.4g}"  # one rule for every size: 1e+04 and 1e+05, not 1e+04 and 1.000e+05
        return str(value)

    text_rows = [list(header)] + [[cell(v) for v in row] for row in rows]
    widths = [max(len(r[i]) for r in text_rows) for i in range(len(header))]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in text_rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


COMPARE_HEADER = ("scenario", "fate", "metastasis day", "endpoint day", "final bone burden [cells]",
                  "NK peak/start*", "mean IFN signalling* [0-1]", "CD8 memory** [cells]")


def compare_table(results: Sequence[Result]) -> str:
    """One row per result: the headline numbers side by side (final states for models without a readout)."""
    if all(r.model == "irf7" for r in results):
        rows = []
        for r in results:
            n = _irf7_numbers(r)
            rows.append([r.name, n["fate"], *[_or_dash(n[key]) for key in (
                "metastasis_day", "endpoint_day", "final_bone_burden", "nk_fold_before_surgery",
                "signalling_before_surgery", "cd8_memory_after_surgery")]])
        notes = ["* before surgery: from injection to the first resection (the whole run without one).",
                 f"** {MEMORY_LAG:g} days after surgery. '-': did not happen (see fate), or no surgery."]
        return "\n".join([format_table(COMPARE_HEADER, rows), *notes])
    if len({r.model for r in results}) > 1:
        raise InputError("compare: scenarios of different models cannot share a table; compare them separately")
    states = results[0].scenario.model.states
    header = ["scenario"] + [f"final {s.name} [{s.unit}]" for s in states]
    return format_table(header, [[r.name] + [float(r[s.name][-1]) for s in states] for r in results])


def _or_dash(value: float | None) -> float | str:
    return "-" if value is None else value


def p_text(p: float | None) -> str:
    """A p-value for people: '= 0.03', '< 1e-16' (below double precision's resolution), or '-'."""
    if p is None:
        return "-"
    return "< 1e-16" if p < 1e-16 else f"= {p:.2g}"


def _days_interval(summary: dict, unit: str = "") -> str:
    """'32.5 (31.9-33.1)', with ``unit`` after the median ('32.5 days (...)'), or 'not reached'."""
    median = summary["median_days"]
    if median is None:
        return "not reached"
    low, high = summary["median_ci"]
    return f"{median:.1f}{unit} ({low:.1f}-{'not reached' if high is None else f'{high:.1f}'})"


def cohort_table(summaries: Sequence[dict]) -> str:
    """One row per cohort: size, median metastasis-free survival (95 % CI), fractions free, mice culled, log-rank p.

    Fractions are Kaplan-Meier estimates: a mouse culled at the humane endpoint counts until its endpoint day.
    """
    header = ("scenario", "n", "median days (95% CI)", "free d30 (95% CI)", "free d60 (95% CI)", "free d90 (95% CI)",
              "free at end", "culled",
              "log-rank p vs first")
    rows = [[s["name"], s["n"], _days_interval(s), *(_fraction_interval(s, d) for d in ("30", "60", "90")),
             _or_dash(s["metastasis_free_fraction"]), s["fates"]["culled"], p_text(s.get("p_logrank_vs_first"))]
            for s in summaries]
    return format_table(header, rows)


def _fraction_interval(summary: dict, day: str) -> str:
    """'0.96 (0.95-0.97)': the fraction free on ``day`` with its 95 % band, or '-' where it is not known."""
    value = summary["metastasis_free_at"].get(day)
    if value is None:
        return "-"
    low, high = summary["metastasis_free_ci_at"][day]
    return f"{value:.2f} ({low:.2f}-{high:.2f})"


def _percent(value: float | None) -> str:
    return "unknown (every mouse left the study earlier)" if value is None else f"{value:.0%}"


def cohort_sentences(summaries: Sequence[dict]) -> list[str]:
    """Plain sentences comparing each cohort with the first."""
    first = summaries[0]
    lines = []
    for s in summaries[1:]:
        p = s["p_logrank_vs_first"]
        verdict = "significant at the 5 % level" if p is not None and p < 0.05 else "not significant at the 5 % level"
        lines.append(f"{s['name']} vs {first['name']}: median {_days_interval(s, ' days')} vs "
                     f"{_days_interval(first, ' days')}; "
                     f"{_percent(s['metastasis_free_fraction'])} vs {_percent(first['metastasis_free_fraction'])} "
                     f"metastasis-free at day {s['days']:g}; log-rank p {p_text(p)}, {verdict}.")
    lines.append(f"Each arm draws its own mice from seed {first['seed']} (as in an experiment), so the arms are "
                 "independent samples; the same seed gives the same numbers.")
    return lines


def _never_if_none(days: float | None) -> float:
    return float("inf") if days is None else days


def patient_table(summary: dict) -> str:
    """The two signature groups side by side."""
    rows = [[label, g["n"], _days_interval(g), g["metastasis_free_fraction"]] for label, g in summary["groups"].items()]
    return format_table(("group", "n", "median days (95% CI)", "free at end"), rows)


def patient_sentences(summary: dict) -> list[str]:
    """What the split shows, in words."""
    high, low = summary["groups"]["signature high"], summary["groups"]["signature low"]
    p = summary["p_logrank"]
    better = _never_if_none(high["median_days"]) > _never_if_none(low["median_days"]) or (
        high["median_days"] == low["median_days"] and high["metastasis_free_fraction"] > low["metastasis_free_fraction"])
    significant = p is not None and p < 0.05
    if better and significant:
        verdict = "Patients whose tumours score high on the Irf7 signature stay free of bone metastasis longer"
    elif better:
        verdict = "High-signature patients did a little better, but not significantly at the 5 % level"
    else:
        verdict = "In this draw high-signature patients did not do better (try a larger --n)"
    return [f"{verdict}: median {_days_interval(high, ' model days')} vs {_days_interval(low, ' model days')} "
            f"(log-rank p {p_text(p)}).",
            "The score is measured with noise, so some tumours with real Irf7 activity land in the low group and the "
            "curves are closer than the true activities would make them."]
