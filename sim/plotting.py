"""Figures: one house style, a colour-blind-safe palette, labelled units.

Plot functions take optional Axes and return them; the house style is applied
through a style context, never by changing global settings at import.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

from . import analysis
from .fileio import Output, check_figure_path, write_all

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .phase import PhasePortrait
    from .result import Result
    from .robustness import Robustness
    from .survival import SurvivalCurve
    from .sweeps import DoseGrid, SurgeryTiming, Sweep

#: Okabe & Ito (2008) colour-blind-safe palette, black last (kept for thresholds)
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
LINESTYLES = ("-", "--", "-.", ":")
_NO_DATE = {".png": {"Software": None}, ".svg": {"Date": None}, ".pdf": {"CreationDate": None}}

STYLE = {
    "figure.dpi": 100,
    "savefig.dpi": 200,
    "savefig.bbox": "tight",
    "font.size": 10,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 8.5,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "lines.linewidth": 1.8,
    "svg.fonttype": "none",
    "svg.hashsalt": "tumorsim",  # stable ids: the same inputs give byte-identical SVGs
}


@contextlib.contextmanager
def house_style() -> Iterator[None]:
    """Apply tumorsim's figure style inside a ``with`` block."""
    with plt.rc_context(STYLE):
        yield


def line_style(index: int) -> dict:
    """Colour and dash pattern for the ``index``-th line: distinct in colour and in shape."""
    return {"color": PALETTE[index % 7], "linestyle": LINESTYLES[(index // 7 + index) % len(LINESTYLES)]}


def mark_schedule(ax: Axes, result: Result) -> None:
    """Mark surgery (dotted line), interferon doses (ticks on the time axis) and depletion (grey band)."""
    schedule = result.scenario.schedule
    resections = {j.day for j in schedule.jumps if j.state == result.scenario.model.resection_state}
    doses = sorted({j.day for j in schedule.jumps if j.state == result.scenario.model.dose_state})
    for day in resections:
        ax.axvline(day, color="0.35", linewidth=1, linestyle=(0, (1, 2)))
    if doses:
        ax.plot(doses, np.zeros(len(doses)), marker="|", linestyle="none", color="0.2", markersize=8,
                transform=ax.get_xaxis_transform(), clip_on=False)
    for window in schedule.windows:
        ax.axvspan(window.start, min(window.stop, result.days), color="0.85", alpha=0.5, linewidth=0)


def _schedule_key(result: Result) -> str:
    """Say what the schedule marks on the panels mean (only those present)."""
    model = result.scenario.model
    jumps = result.scenario.schedule.jumps
    marks = []
    if any(j.state == model.resection_state for j in jumps):
        marks.append("dotted line: surgery")
    if any(j.state == model.dose_state for j in jumps):
        marks.append("ticks on the time axis: interferon doses")
    if result.scenario.schedule.windows:
        marks.append("grey band: antibody depletion")
    return "; ".join(marks)


def _log_panel(ax: Axes, result: Result, states: Sequence[str], title: str, ylabel: str) -> None:
    model = result.scenario.model
    for i, name in enumerate(states):
        series = np.where(result[name] > 0, result[name], np.nan)
        ax.plot(result.time, series, label=f"{model.state(name).meaning} ({name})", **line_style(i))
    ax.set_yscale("log")
    ax.set_title(title, loc="left")
    ax.set_ylabel(ylabel)
    ax.legend(loc="best")


def plot_result(result: Result, axes: np.ndarray | None = None) -> np.ndarray:
    """Panels of one run; returns the array of Axes.

    For the Irf7 model: tumour, immune cells, interferon and signalling, with
    surgery (dotted line), interferon doses (ticks) and antibody depletion
    (grey band) marked. For other models: one panel per state, cell counts on
    a log axis.
    """
    with house_style():
        axes = _irf7_panels(result, axes) if result.model == "irf7" else _state_panels(result, axes)
        flat = np.ravel(axes)
        for ax in flat:
            mark_schedule(ax, result)
        key = _schedule_key(result)
        flat[0].figure.suptitle(analysis.title(result.scenario) + (f"\n{key}" if key else ""), fontsize=10)
    return axes


def time_label(result: Result) -> str:
    """x-axis label in the model's time unit."""
    if result.time_unit == "1":
        return "dimensionless time"
    return "days after tumour cell injection" if result.model == "irf7" else f"time ({result.time_unit}s)"


def _state_panels(result: Result, axes: np.ndarray | None) -> np.ndarray:
    states = result.scenario.model.states
    if axes is None:
        _, axes = plt.subplots(len(states), 1, figsize=(8, 2.4 * len(states) + 0.8), sharex=True, layout="constrained",
                               squeeze=False)
    flat = np.ravel(axes)
    for ax, state in zip(flat, states):
        series = result[state.name]
        logarithmic = state.unit == "cells" and series.max() > 100 * max(series.min(), 1e-300)
        ax.plot(result.time, np.where(series > 0, series, np.nan) if logarithmic else series, **line_style(0))
        if logarithmic:
            ax.set_yscale("log")
        ax.set_title(f"{state.meaning} ({state.name})", loc="left")
        ax.set_ylabel(state.unit if state.unit != "1" else "dimensionless")
    flat[-1].set_xlabel(time_label(result))
    return axes


def _irf7_panels(result: Result, axes: np.ndarray | None) -> np.ndarray:
    if axes is None:
        _, axes = plt.subplots(2, 2, figsize=(10, 6.5), sharex=True, layout="constrained")
    flat = np.ravel(axes)
    threshold = result.scenario.parameters["detection_threshold"].value
    _log_panel(flat[0], result, ("P", "B"), "Tumour", "cells")
    flat[0].axhline(threshold, color="black", linewidth=1, linestyle="--", label="detection threshold")
    flat[0].set_ylim(bottom=1)
    flat[0].legend(loc="best")
    _log_panel(flat[1], result, ("N", "L", "M"), "Immune cells", "cells")
    flat[1].set_ylim(bottom=1)
    flat[1].legend(loc="best")
    _log_panel(flat[2], result, ("I",), "Type I interferon (I): host-made, tumour-made, dosed", "IU/mL")
    flat[2].get_legend().remove()  # one line, named in the title
    flat[3].plot(result.time, result["S"], **line_style(0), label="host interferon signalling (S)")
    flat[3].set_ylim(-0.02, 1.02)
    flat[3].set_title("Interferon signalling in host immune cells", loc="left")
    flat[3].set_ylabel("fraction of maximum (0-1)")
    flat[3].legend(loc="best")
    for ax in flat[-2:]:
        ax.set_xlabel(time_label(result))
    return axes


BURDEN_LEGEND = {"legend_loc": "center right", "legend_options": {"bbox_to_anchor": (1.0, 0.36)}}
"""Where a burden plot of arms that rise and arms that fall keeps its legend clear of the lines: right, below
the detection threshold (5e5 cells) and above the falling arms."""


def plot_burden(
    results: Sequence[Result],
    ax: Axes | None = None,
    title: str = "Bone metastasis: burden over time (dots: day of detection)",
    legend_loc: str = "lower right",
    legend_options: dict | None = None,
) -> Axes:
    """Bone burden of several runs on a log axis, threshold, surgery and metastasis days marked."""
    with house_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
        threshold = results[0].scenario.parameters["detection_threshold"].value
        for i, result in enumerate(results):
            style = line_style(i)
            day = result.metastasis_day
            when = f"metastasis day {day:.0f}" if day is not None else f"no metastasis by day {result.days:g}"
            burden = np.where(result["B"] > 0, result["B"], np.nan)
            ax.plot(result.time, burden, label=f"{result.name} ({when})", **style)
            if day is not None:
                ax.plot([day], [threshold], marker="o", color=style["color"], markersize=6, zorder=3)
        ax.axhline(threshold, color="black", linewidth=1, linestyle="--", label=f"detection threshold ({threshold:.0e} cells)")
        surgeries = sorted({j.day for r in results for j in r.scenario.schedule.jumps
                            if j.state == r.scenario.model.resection_state})
        for k, day in enumerate(surgeries):
            ax.axvline(day, color="0.35", linewidth=1, linestyle=(0, (1, 2)),
                       label=f"surgery (day {', '.join(f'{d:g}' for d in surgeries)})" if k == 0 else None)
        ax.set_yscale("log")
        ax.set_ylim(1, None)
        ax.set_xlabel("days after tumour cell injection")
        ax.set_ylabel("bone metastatic burden (cells)")
        ax.set_title(title, loc="left")
        ax.legend(**{"loc": legend_loc, **(legend_options or {})})
    return ax


def plot_state(
    results: Sequence[Result],
    state: str,
    ax: Axes | None = None,
    log: bool | None = None,
    title: str | None = None,
    ylabel: str | None = None,
) -> Axes:
    """One state of several runs over time, labelled with its unit; the first run's schedule marked.

    ``log`` defaults to a log axis for cell counts and interferon, linear otherwise;
    ``ylabel`` defaults to the state's meaning and unit.
    """
    with house_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.2), layout="constrained")
        described = results[0].scenario.model.state(state)
        for i, result in enumerate(results):
            ax.plot(result.time, result[state], label=result.name, **line_style(i))
        positive = any(np.any(result[state] > 0) for result in results)  # a log axis needs something above 0
        if positive and (log if log is not None else described.unit in ("cells", "IU/mL")):
            ax.set_yscale("log")
        mark_schedule(ax, results[0])
        ax.set_xlabel(time_label(results[0]))
        default = f"{described.meaning} ({described.unit})" if described.unit != "1" else described.meaning
        ax.set_ylabel(ylabel or default)
        ax.set_title(title or f"{described.meaning[:1].upper()}{described.meaning[1:]} ({state})", loc="left")
        ax.legend(loc="best")
    return ax


def plot_survival(
    curves: Sequence[tuple[str, SurvivalCurve]],
    ax: Axes | None = None,
    title: str = "Metastasis-free survival (Kaplan-Meier, shaded: 95 % confidence band)",
    legend_options: dict | None = None,
) -> Axes:
    """Kaplan-Meier curves with confidence bands, censoring marks and numbers at risk under the axis.

    ``curves`` pairs a legend label with each curve. A "+" marks where mice
    left follow-up still metastasis-free.
    """
    with house_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(10, 5.2 + 0.25 * len(curves)), layout="constrained")
        end = max(float(np.max(c.time)) for _, c in curves)
        for i, (label, curve) in enumerate(curves):
            style = line_style(i)
            median = curve.median
            when = f"median {median:.0f} d" if median is not None else "median not reached"
            ax.step(curve.time, curve.survival, where="post", label=f"{label} ({when})", **style)
            ax.fill_between(curve.time, curve.lower, curve.upper, step="post", color=style["color"], alpha=0.15,
                            linewidth=0)
            if len(curve.censor_days):
                censored = np.unique(curve.censor_days)
                ax.plot(censored, curve.at(censored), marker="+", markersize=9, linestyle="none",
                        color=style["color"])
        ax.set_xlim(0, end * 1.02)
        ax.set_ylim(-0.02, 1.02)
        ax.set_xlabel("days after tumour cell injection")
        ax.set_ylabel("fraction metastasis-free")
        ax.set_title(title, loc="left")
        ax.legend(**{"loc": "upper left", "bbox_to_anchor": (1.01, 1.0), **(legend_options or {})})
        _numbers_at_risk(ax, curves, end)
    return ax


def _numbers_at_risk(ax: Axes, curves: Sequence[tuple[str, SurvivalCurve]], end: float) -> None:
    """A small table of mice still at risk, under the time axis, one row per curve."""
    ticks = [t for t in ax.get_xticks() if 0 <= t <= end]
    transform = ax.get_xaxis_transform()
    ax.text(-0.04, -0.17, "number at risk", transform=ax.transAxes, ha="right", va="top", fontsize=8,
            fontweight="bold")
    for i, (label, curve) in enumerate(curves):
        y = -0.17 - 0.055 * (i + 1)
        color = line_style(i)["color"]
        ax.text(-0.04, y, label, transform=ax.transAxes, ha="right", va="top", fontsize=8, color=color)
        for tick, count in zip(ticks, curve.at_risk(np.array(ticks))):
            ax.text(tick, y, f"{count}", transform=transform, ha="center", va="top", fontsize=8, color=color)


def plot_sweep(
    sweep: Sweep,
    ax: Axes | None = None,
    marks: dict[str, float] | None = None,
    title: str | None = None,
    labels: dict[str, str] | None = None,
) -> Axes:
    """Metastasis day (solid) and cohort median survival (dotted, if run) across a parameter sweep.

    Triangles at the top mark values with no metastasis within follow-up, crosses
    values where the mouse was culled at the humane endpoint first (at the day of cull);
    ``marks`` draws labelled vertical lines (e.g. where the paper's arms sit);
    ``labels`` renames scenarios in the legend.
    """
    with house_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 4.8), layout="constrained")
        for i, scenario in enumerate(sweep.scenarios):
            style = line_style(i)
            name = (labels or {}).get(scenario, scenario)
            days = sweep.metastasis_day[i]
            ax.plot(sweep.values, days, marker="o", markersize=3.5, label=f"{name}: metastasis day", **style)
            culled = sweep.culled[i]
            free = np.isnan(days) & ~culled
            if free.any():
                ax.plot(sweep.values[free], np.full(free.sum(), sweep.follow_up), marker="^", linestyle="none",
                        color=style["color"], label=f"{name}: no metastasis by day {sweep.follow_up:g}")
            if culled.any():
                ax.plot(sweep.values[culled], sweep.endpoint_day[i][culled], marker="X", markersize=8, linestyle="none",
                        color=style["color"], label=f"{name}: culled at the humane endpoint first (day of cull)")
            if sweep.median_survival is not None:
                ax.plot(sweep.values, sweep.median_survival[i], color=style["color"], linestyle=":", linewidth=1.4,
                        label=f"{name}: cohort median metastasis-free survival")
        middle = (sweep.values[0] + sweep.values[-1]) / 2
        for k, (label, value) in enumerate((marks or {}).items()):
            ax.axvline(value, color="0.4", linewidth=1, linestyle=(0, (2, 2)))
            right = value > middle  # label on the inner side of the line, so it stays inside the axes
            ax.annotate(label, (value, 1.0), xycoords=("data", "axes fraction"), xytext=(-3 if right else 3, -4 - 11 * k),
                        textcoords="offset points", fontsize=8, va="top", ha="right" if right else "left", color="0.25")
        ax.set_ylim(0, sweep.follow_up * 1.05)
        unit = "" if sweep.unit == "1" else f" [{sweep.unit}]"
        ax.set_xlabel(f"{sweep.parameter}{unit}")
        ax.set_ylabel("days after tumour cell injection")
        ax.set_title(title or f"Bone metastasis across {sweep.parameter}", loc="left")
        ax.legend(loc="best", fontsize=8)
    return ax


def plot_surgery_timing(timing: SurgeryTiming, axes: Sequence[Axes] | None = None,
                        labels: dict[str, str] | None = None) -> Sequence[Axes]:
    """Left: the typical mouse's metastasis day against the surgery day; right: cohort fraction still free.

    "no surgery" sits at the right of each axis. Filled circles: metastasis
    detected; crosses: culled at the humane endpoint (at the endpoint day);
    triangles: metastasis-free at the end of follow-up.
    """
    from matplotlib.lines import Line2D

    operated = ~np.isnan(timing.resection_days)
    never = float(np.nanmax(timing.resection_days)) + 5.0
    x = np.where(operated, timing.resection_days, never)
    with house_style():
        if axes is None:
            _, axes = plt.subplots(1, 2 if timing.free_fraction is not None else 1, figsize=(12, 5),
                                   layout="constrained", squeeze=False)
            axes = axes[0]
        left = axes[0]
        for i, name in enumerate(timing.scenarios):
            style = line_style(i)
            label = (labels or {}).get(name, name)
            met = timing.metastasis_day[i]
            left.plot(x[operated], met[operated], marker="o", markersize=5, label=label, **style)
            culled = timing.fate[i] == "culled"
            nudge = 0.6 * (i - (len(timing.scenarios) - 1) / 2)  # side by side where arms share a day
            left.plot(x[culled] + nudge, timing.endpoint_day[i][culled], marker="X", markersize=9, linestyle="none",
                      color=style["color"])
            free = timing.fate[i] == "free"
            left.plot(x[free] + nudge, np.full(free.sum(), timing.follow_up), marker="^", markersize=8,
                      linestyle="none", color=style["color"])
            if timing.free_fraction is not None:
                axes[1].plot(x[operated], timing.free_fraction[i][operated], marker="o", markersize=5, label=label,
                             **style)
                axes[1].plot(x[~operated] + nudge, timing.free_fraction[i][~operated], marker="X", markersize=9,
                             linestyle="none", color=style["color"])
        ticks = sorted(set(x[operated].tolist())) + [never]
        names = [f"{t:g}" for t in ticks[:-1]] + ["no\nsurgery"]
        for ax in axes:
            ax.set_xticks(ticks, names)
            ax.axvline((never + float(np.nanmax(timing.resection_days))) / 2, color="0.6", linewidth=0.8)
            ax.set_xlabel("day the primary tumour is removed")
        left.set_ylim(0, timing.follow_up * 1.06)
        left.set_ylabel("day of the event (days after tumour cell injection)")
        left.set_title("Typical mouse: when is bone metastasis detected?", loc="left")
        marks = [Line2D([], [], color="0.3", marker="o", linestyle="none", label="metastasis detected"),
                 Line2D([], [], color="0.3", marker="X", linestyle="none", markersize=8,
                        label="culled at the humane endpoint (primary too large)"),
                 Line2D([], [], color="0.3", marker="^", linestyle="none",
                        label=f"metastasis-free at day {timing.follow_up:g}")]
        handles, _ = left.get_legend_handles_labels()
        left.legend(handles=handles + marks, loc="upper left", bbox_to_anchor=(0.0, -0.2), ncol=2, fontsize=8)
        if timing.free_fraction is not None:
            right = axes[1]
            right.set_ylim(-0.02, 1.02)
            right.set_ylabel(f"fraction metastasis-free and not culled on day {timing.window:g}")
            right.set_title(f"Virtual cohorts: who is still free on day {timing.window:g}?", loc="left")
            right.legend(loc="upper left", bbox_to_anchor=(0.0, -0.2), ncol=3, fontsize=8)
    return axes


def plot_robustness(robustness: Robustness, axes: Sequence[Axes] | None = None) -> Sequence[Axes]:
    """Left: how often each declared conclusion holds; right: the delays of the median over the sampled ranges.

    Bars: fraction of one-at-a-time changes (x0.5 and x2), of samples over the full
    ranges and of samples inside the narrowed ranges in which the conclusion holds,
    with the required fraction as a dashed line; conclusions that hold by
    construction are labelled so and drawn paler. Right: each delay's distribution over
    the samples; samples in which the arm's median lies beyond follow-up are counted in
    a bar at the right.
    """
    from .robustness import REQUIRED

    checks = robustness.checks
    with house_style():
        if axes is None:
            _, axes = plt.subplots(1, 2, figsize=(14, 0.6 * len(checks) + 2.8), layout="constrained",
                                   gridspec_kw={"width_ratios": [1.35, 1]})
        left, right = axes
        rows = np.arange(len(checks))[::-1]
        alpha = [1.0 if c.evidence else 0.45 for c in checks]
        bars = ((f"one parameter at a time, halved or doubled ({len(robustness.varied)} parameters)",
                 [c.one_at_a_time for c in checks], PALETTE[0]),
                (f"{robustness.n} samples of {len(robustness.ranged)} parameter ranges and the schedule",
                 [c.over_ranges for c in checks], PALETTE[4]),
                (f"the {robustness.inside_narrowed} samples inside the ranges narrowed by the paper's findings",
                 [0.0 if np.isnan(c.over_narrowed) else c.over_narrowed for c in checks], PALETTE[2]))
        for k, (_, fractions, colour) in enumerate(bars):
            for row, fraction, shade in zip(rows, fractions, alpha):
                left.barh(row + 0.27 * (1 - k), fraction, height=0.26, color=colour, alpha=shade)
        required = left.axvline(REQUIRED, color="black", linewidth=1, linestyle="--")
        handles = [Patch(color=colour, label=label) for label, _, colour in bars]  # full colours: pale rows are built in
        left.set_yticks(rows, [_wrapped(c.conclusion.label) + ("" if c.evidence else "\n(by construction: not evidence)")
                               + ("" if c.at_defaults else " (NOT at defaults)") for c in checks], fontsize=7.5)
        left.grid(axis="y", visible=False)
        left.set_xlim(0, 1.0)
        left.set_xlabel("fraction of worlds in which the conclusion holds (cohorts with chance)")
        left.set_title(f"Does each finding of the paper hold when the uncertain numbers change?\n"
                       f"({robustness.mice} mice per arm in each world)", loc="left")
        left.legend([*handles, required], [*(h.get_label() for h in handles), f"{REQUIRED:.0%}, paler: by construction"],
                    loc="lower left", fontsize=8, bbox_to_anchor=(0.0, 1.08))
        finite = np.concatenate([d.values[np.isfinite(d.values)] for d in robustness.delays] + [np.array([1.0])])
        top, bottom = float(finite.max()), min(0.0, float(finite.min()))  # a delay can be negative: an arm earlier
        bins = np.linspace(bottom, top, 25)
        width = bins[1] - bins[0]
        for i, delay in enumerate(robustness.delays):
            style = line_style(i)
            values = delay.values[~np.isnan(delay.values)]
            low, median, high = delay.quantiles()
            share = np.histogram(values[np.isfinite(values)], bins=bins)[0] / max(len(values), 1)
            right.stairs(share, bins, color=style["color"], linewidth=1.8,
                         label=f"{delay.spec.arm} vs {delay.spec.reference}:\nmedian {_days(median)}, "
                               f"90 % between {_days(low)} and {_days(high)}")
            beyond = float(np.mean(np.isinf(values))) if len(values) else 0.0  # of the same samples as the stairs
            right.bar(top + width * (1.5 + i), beyond, width=width, color=style["color"], alpha=0.7)
        end = top + width * (2.5 + len(robustness.delays))
        clear = top + 2 * width - 0.15 * (end - bottom)  # day ticks stay clear of the last label
        days = [t for t in right.get_xticks() if bottom <= t <= clear]
        right.set_xticks([*days, top + 2 * width], [*[f"{t:g}" for t in days], "arm's median\nbeyond follow-up"])
        right.set_xlim(bottom, end)
        right.set_xlabel("delay of the median metastasis day [days]")
        right.set_ylabel("fraction of the samples with a reference median")
        right.set_title("How many days does protection buy?\n(over the sampled parameter ranges)", loc="left")
        right.legend(loc="upper center", fontsize=8)
    return axes


def _wrapped(label: str, width: int = 48) -> str:
    return "\n".join(textwrap.wrap(label, width))


def _days(value: float) -> str:
    return "beyond follow-up" if np.isinf(value) else f"{round(value)} d"  # round(-0.3) is 0, never "-0"


def plot_dose_grid(grid: DoseGrid, axes: np.ndarray | None = None) -> np.ndarray:
    """Heat maps of the delay in bone metastasis bought by each interferon course, one panel per start day.

    Colour and number: days gained over the untreated arm; "free" marks
    courses after which no metastasis appeared within follow-up. When the
    untreated arm itself has no metastasis there is no delay to measure, and
    the panels show each course's day of metastasis instead.
    """
    free = np.isnan(grid.metastasis_day)
    if np.isnan(grid.untreated):
        top, shown, number = grid.follow_up, np.where(free, grid.follow_up, grid.metastasis_day), "day {:.0f}"
        what = "day of bone metastasis"
        headline = (f"no interferon: no metastasis by day {grid.follow_up:g}, so no delay to measure; "
                    "colour and number: day of metastasis")
    else:
        top = grid.follow_up - grid.untreated
        shown, number = np.where(free, top, grid.metastasis_day - grid.untreated), "{:+.0f}"
        what = "delay of bone metastasis (days)"
        headline = f"days gained over no interferon (metastasis on day {grid.untreated:.0f})"
    with house_style():
        if axes is None:
            _, axes = plt.subplots(1, len(grid.starts), figsize=(4.2 * len(grid.starts) + 1.2, 4.2), sharey=True,
                                   layout="constrained", squeeze=False)
        flat = np.ravel(axes)
        image = None
        for ax, start, block, unseen in zip(flat, grid.starts, shown, free):
            image = ax.imshow(block, origin="lower", cmap="cividis", vmin=0, vmax=top, aspect="auto")
            for (row, col), value in np.ndenumerate(block):
                ax.text(col, row, "free" if unseen[row, col] else number.format(value), ha="center", va="center",
                        fontsize=8.5, color="black" if value > 0.6 * top else "white")
            ax.set_xticks(range(len(grid.amounts)), [f"{a:.0e}" for a in grid.amounts])
            ax.set_yticks(range(len(grid.intervals)), [f"{i:g}" for i in grid.intervals])
            ax.set_xlabel("dose per injection (IU)")
            ax.set_title(f"course starts day {start:g}", loc="left")
            ax.grid(False)
        flat[0].set_ylabel("days between doses")
        bar = flat[0].figure.colorbar(image, ax=list(flat), shrink=0.9)
        bar.set_label(what)
        flat[0].figure.suptitle(f"Four-week interferon courses ({grid.scenario}): {headline}\n"
                                f"'free': no bone metastasis by day {grid.follow_up:g}", fontsize=10)
    return axes


def plot_phase_portrait(portrait: PhasePortrait, ax: Axes | None = None, x_scale: float = 1e6,
                        title: str = "Phase portrait") -> Axes:
    """Vector field, nullclines, equilibria, separatrix and trajectories of a two-state model.

    The second state is drawn on a log axis when the portrait was computed so;
    the first is divided by ``x_scale`` (millions of cells by default).
    Filled circles are stable equilibria, open ones unstable; the thick dashed
    line is the separatrix; trajectories are coloured by where they end.
    """
    x_state, y_state = portrait.model.states

    def y_plot(values: np.ndarray) -> np.ndarray:
        return np.log10(np.maximum(values, 1e-300)) if portrait.y_log else values

    with house_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 6.5), layout="constrained")
        gx, gy = np.meshgrid(portrait.x_values / x_scale, y_plot(portrait.y_values))
        vx, vy = portrait.velocity
        vy_plot = vy / (portrait.y_values[:, None] * np.log(10)) if portrait.y_log else vy
        ax.streamplot(gx, gy, vx / x_scale, vy_plot, color="0.75", density=1.1, linewidth=0.7, arrowsize=0.8)
        for velocity, color, state in ((vx, PALETTE[2], x_state), (vy, PALETTE[3], y_state)):
            ax.contour(gx, gy, velocity, levels=[0], colors=[color], linewidths=1.6, linestyles="dashdot")
            ax.plot([], [], color=color, linestyle="dashdot", label=f"{state.name}-nullcline (d{state.name}/dt = 0)")
        for k, path in enumerate(portrait.separatrices):
            ax.plot(path[0] / x_scale, y_plot(path[1]), color="black", linestyle="--", linewidth=2.2,
                    label="separatrix (stable manifold of the saddle)" if k == 0 else None)
        fates = sorted({id(t.fate): t.fate for t in portrait.trajectories if t.fate}.values(),
                       key=lambda e: list(e.state.values())[1])
        for trajectory in portrait.trajectories:
            index = next(i for i, f in enumerate(fates) if f is trajectory.fate) if trajectory.fate else 6
            color = PALETTE[(0, 1, 4, 5)[index % 4]]
            ax.plot(trajectory.path[0] / x_scale, y_plot(trajectory.path[1]), color=color, linewidth=1.4)
            ax.plot(trajectory.path[0, 0] / x_scale, y_plot(trajectory.path[1, :1]), marker="o", markersize=3.5,
                    color=color)
        for i, fate in enumerate(fates):
            ax.plot([], [], color=PALETTE[(0, 1, 4, 5)[i % 4]],
                    label=f"trajectories ending at the {fate.type} ({y_state.name} = {list(fate.state.values())[1]:.3g})")
        for e in portrait.equilibria:
            x, y = e.state.values()
            if not (portrait.x_values[0] <= x <= portrait.x_values[-1] and portrait.y_values[0] <= y <= portrait.y_values[-1]):
                continue
            stable = e.type.startswith("stable")
            ax.plot(x / x_scale, y_plot(np.array(y)), marker="o", markersize=9, zorder=5, markeredgecolor="black",
                    markerfacecolor="black" if stable else "white", linestyle="none")
            ax.annotate(e.type, (x / x_scale, float(y_plot(np.array(y)))), xytext=(8, 6), textcoords="offset points",
                        fontsize=8.5, zorder=6)
        ax.plot([], [], marker="o", color="black", linestyle="none", label="stable equilibrium")
        ax.plot([], [], marker="o", markerfacecolor="white", markeredgecolor="black", linestyle="none",
                label="unstable equilibrium (saddle)")
        ax.set_xlim(portrait.x_values[0] / x_scale, portrait.x_values[-1] / x_scale)
        ax.set_ylim(y_plot(portrait.y_values[[0, -1]]))
        millions = " (millions)" if x_scale == 1e6 else ""
        ax.set_xlabel(f"{x_state.meaning} {x_state.name} [{x_state.unit}]{millions}")
        if portrait.y_log:
            ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"$10^{{{v:.0f}}}$"))
        ax.set_ylabel(f"{y_state.meaning} {y_state.name} [{y_state.unit}]" + (", log scale" if portrait.y_log else ""))
        ax.set_title(title, loc="left")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8.5)
        ax.grid(False)
    return ax


#: Where the learner scripts in ``experiments/`` write their figures unless given ``--out``: a folder in the
#: current working directory, so following the lesson plan never changes the gallery in ``figures/``
#: (only ``tumorsim figures --out figures`` rebuilds it).
SCRIPT_OUTPUT = Path("output")


def add_out_option(parser: argparse.ArgumentParser) -> None:
    """Give a learner script's ``parser`` the ``--out DIR`` option, defaulting to :data:`SCRIPT_OUTPUT`."""
    parser.add_argument("--out", type=Path, default=SCRIPT_OUTPUT,
                        help=f"folder for the figure files (default: {SCRIPT_OUTPUT}/ in the current folder; "
                             "'tumorsim figures --out figures' rebuilds the gallery)")


def save_figure_set(figure: Figure, folder: Path | str, stem: str) -> list[Path]:
    """Save ``figure`` as ``stem.png`` and ``stem.svg`` in ``folder`` (created if needed), replacing old copies.

    The figure set's formats: a PNG to look at and an SVG to scale. Returns both paths, PNG first.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{stem}.png", folder / f"{stem}.svg"]
    save_figure(figure, paths, overwrite=True)
    return paths


def save_script_figure(figure: Figure, folder: Path | str, stem: str) -> None:
    """Save a learner script's figure set (:func:`save_figure_set`) and print where it went."""
    png, svg = save_figure_set(figure, folder, stem)
    print(f"\nFigure saved to {png} and {svg}")


def changes_in_effect(changes: Mapping[str, float] | None = None, scenario: str | None = None,
                      **settings: tuple[object, object]) -> str:
    """The line a learner script prints about the edits in effect, or ``""`` when it runs as shipped.

    Parameters
    ----------
    changes
        The script's ``CHANGES`` (parameter name -> value); each is named with the value in force
        without it, taken from ``scenario`` (a parameter set or scenario name). Changes equal to that
        value are not in effect and are left out.
    scenario
        Where the unchanged parameter values come from, e.g. ``"irf7-silenced"`` (needed with ``changes``).
    **settings
        ``NAME=(value, shipped value)`` for the other constants a lesson step tells learners to edit.

    >>> changes_in_effect({"cd8_kill_max": 0.2}, "irf7-silenced", FIRST_LATE_DOSE=(15, 15))
    'Changes in effect: cd8_kill_max = 0.2 (without the change: 0.5).'
    >>> changes_in_effect({}, "irf7-silenced")
    ''
    """
    from .api import prepare

    defaults = prepare(scenario).parameters.values_dict() if changes else {}
    items = [f"{name} = {value:g} (without the change: {defaults[name]:g})" if name in defaults
             else f"{name} = {value:g} (not a parameter of {scenario})"
             for name, value in (changes or {}).items() if defaults.get(name) != value]
    items += [f"{name} = {value!r} (as shipped: {shipped!r})" for name, (value, shipped) in settings.items()
              if not _same(value, shipped)]
    return f"Changes in effect: {'; '.join(items)}." if items else ""


def _same(value: object, shipped: object) -> bool:
    """Whether a script setting still has its shipped value (arrays compare element by element)."""
    return np.shape(value) == np.shape(shipped) and bool(np.all(np.asarray(value) == np.asarray(shipped)))


def print_changes(changes: Mapping[str, float] | None = None, scenario: str | None = None,
                  **settings: tuple[object, object]) -> None:
    """Print :func:`changes_in_effect` when the script does not run as shipped."""
    line = changes_in_effect(changes, scenario, **settings)
    if line:
        print(line)


def run_script(main: Callable[[], object]) -> None:
    """Run a learner script's ``main()``; a reader that closes the pipe early (``| head``) ends it quietly.

    Like the command line, and like a Unix tool killed by SIGPIPE: no traceback, exit status 141
    (128 + SIGPIPE) when standard output was closed before the script finished printing.
    """
    try:
        main()
        sys.stdout.flush()
    except BrokenPipeError:
        # point stdout at /dev/null so that Python's own flush at exit does not fail again
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        sys.exit(128 + 13)  # 13: SIGPIPE


def save_figure(figure: Figure, paths: Sequence[Path | str], overwrite: bool = False, flag: str = "path",
                outputs: Sequence[Output] = ()) -> None:
    """Save ``figure`` to each path (format from the suffix), together with any other ``outputs``,
    all or none, then close it."""
    try:
        write_all([*outputs, *figure_outputs(figure, paths, flag)], overwrite)
    finally:
        plt.close(figure)


def figure_outputs(figure: Figure, paths: Sequence[Path | str], flag: str) -> list[Output]:
    """``figure`` at each path as outputs for ``sim.fileio.write_all``; an unknown suffix is an InputError."""
    paths = [Path(p) for p in paths]
    for path in paths:
        check_figure_path(path, flag)

    def draw(suffix: str, tmp: Path) -> None:
        with house_style():  # no creation date in the file: the same inputs give the same bytes
            figure.savefig(tmp, format=suffix[1:], metadata=_NO_DATE[suffix])

    return [Output(p, functools.partial(draw, p.suffix.lower()), flag) for p in paths]


if TYPE_CHECKING:
    from .sensitivity import LocalSensitivity, SobolAnalysis


def _parameter_labels(ax: Axes, entries: Sequence) -> np.ndarray:
    """Rows for horizontal bars, the first entry at the top, labelled meaning over name; returns the rows."""
    from .sensitivity import short_meaning

    rows = np.arange(len(entries))[::-1]
    ax.set_yticks(rows, [f"{short_meaning(e.meaning, 64)}\n{e.name}" for e in entries], fontsize=8)
    ax.set_ylim(-0.6, len(entries) - 0.4)
    ax.grid(axis="y", visible=False)
    return rows


def plot_tornado(local: LocalSensitivity, ax: Axes | None = None, top: int = 15, title: str | None = None) -> Axes:
    """Tornado chart of local sensitivities: the ``top`` parameters by |S|, largest at the top.

    Blue bars (S > 0): raising the parameter delays bone metastasis; orange
    bars (S < 0): raising it brings metastasis forward. Hatched bars rest on
    runs without metastasis within follow-up (censored); "one-sided" marks
    parameters at their maximum, differenced downwards only.
    """
    from matplotlib.patches import Patch

    entries = local.entries[:top]
    with house_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 0.36 * len(entries) + 1.8), layout="constrained")
        rows = _parameter_labels(ax, entries)
        colours = [PALETTE[0] if e.index > 0 else PALETTE[1] for e in entries]
        bars = ax.barh(rows, [e.index for e in entries], color=colours, height=0.7)
        for bar, entry in zip(bars, entries):
            if entry.censored:
                bar.set_hatch("///")
            note = " (one-sided)" if entry.difference != "central" else ""
            ax.annotate(f"{entry.index:+.2f}{note}", (entry.index, bar.get_y() + bar.get_height() / 2),
                        xytext=(3 if entry.index >= 0 else -3, 0), textcoords="offset points", va="center",
                        ha="left" if entry.index >= 0 else "right", fontsize=7.5, color="0.2")
        ax.axvline(0, color="black", linewidth=0.8)
        low, high = min(0.0, *(e.index for e in entries)), max(0.0, *(e.index for e in entries))
        pad = 0.22 * (high - low or 1.0)
        ax.set_xlim(low - pad * (low < 0), high + pad * (high > 0))
        ax.set_xlabel("normalised sensitivity S = (dM/M) / (dp/p): % change in the metastasis day per 1 % rise "
                      "(dimensionless)")
        handles = [Patch(color=PALETTE[0], label="raising it delays metastasis (S > 0)"),
                   Patch(color=PALETTE[1], label="raising it brings metastasis forward (S < 0)")]
        if any(e.censored for e in entries):
            handles.append(Patch(facecolor="white", edgecolor="0.3", hatch="///",
                                 label=f"rests on runs without metastasis by day {local.follow_up:g} (censored)"))
        ax.legend(handles=handles, loc="lower left" if entries[0].index < 0 else "lower right")
        day = (f"no metastasis by day {local.follow_up:g}" if local.censored
               else f"metastasis on day {local.metastasis_day:.1f}")
        ax.set_title(title or f"Local sensitivity of the bone-metastasis day, {local.scenario} ({day}):\n"
                     f"the {len(entries)} strongest of {len(local.entries)} parameters, each changed by "
                     f"\u00b1{local.step * 100:g} %", loc="left")
    return ax


def plot_sobol(analysis: SobolAnalysis, ax: Axes | None = None, title: str | None = None) -> Axes:
    """Sobol indices of the metastasis day: total (bars) and first-order (narrow bars), with bootstrap intervals.

    Parameters are ranked by the total index, largest at the top.
    """
    from matplotlib.patches import Patch

    entries = analysis.entries
    with house_style():
        if ax is None:
            _, ax = plt.subplots(figsize=(9, 0.36 * len(entries) + 1.8), layout="constrained")
        rows = _parameter_labels(ax, entries)
        total = np.array([e.total_order for e in entries])
        first = np.array([e.first_order for e in entries])
        total_ci = np.array([e.total_order_ci for e in entries]).T
        first_ci = np.array([e.first_order_ci for e in entries]).T
        whisker = {"ecolor": "0.25", "elinewidth": 0.9, "capsize": 2}
        ax.barh(rows + 0.18, total, height=0.36, color=PALETTE[0], xerr=np.abs(total_ci - total), error_kw=whisker,
                label="total index: alone and through interactions")
        ax.barh(rows - 0.18, first, height=0.36, color=PALETTE[4], xerr=np.abs(first_ci - first), error_kw=whisker,
                label="first-order index: alone")
        ax.axvline(0, color="black", linewidth=0.8)
        ax.set_xlim(min(0.0, float(first_ci.min())) - 0.02, max(float(total_ci.max()), 0.1) * 1.08)
        ax.set_xlabel("Sobol index: share of the variance of the metastasis day (0-1)")
        handles, _ = ax.get_legend_handles_labels()
        handles.append(Patch(color="none", label=f"whiskers: {analysis.confidence:.0%} bootstrap intervals"))
        ax.legend(handles=handles, loc="lower right")
        ax.set_title(title or f"Global sensitivity (Sobol) of the bone-metastasis day, {analysis.scenario}:\n"
                     f"{analysis.evaluations} runs over the parameter file's ranges; {analysis.censored_fraction:.0%} "
                     f"without metastasis by day {analysis.follow_up:g} count as day {analysis.follow_up:g}", loc="left")
    return ax
