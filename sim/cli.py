"""The ``tumorsim`` command: parse, call the API, print. No modelling here.

Commands import their heavier modules (cohorts, statistics, sweeps) when they
run, so that ``tumorsim run NAME --json`` starts quickly.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import shutil
import signal
import sys
import textwrap
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from . import analysis, api
from .errors import InputError, SolverError
from .fileio import Output, check_figure_path, check_targets, write_all
from .models import MODELS
from .parameters import read_toml
from .scenarios import FLAGS, SCENARIO_DIR, distinct_names, load_scenario, scenario_names
from .solver import DEFAULT_ATOL, DEFAULT_RTOL
from .version import __version__


class _Parser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one line, not a usage block."""

    def error(self, message: str) -> None:
        raise InputError(f"{message} (see '{self.prog} --help')")


def _assignments(pairs: Sequence[str], flag: str) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise InputError(f"{flag} takes NAME=VALUE, not '{pair}'")
        values[name.strip()] = value.strip()
    return values


def _positive(raw: str | None, flag: str, below_one: bool = False) -> float | None:
    """``raw`` as a finite number > 0 (and < 1 if ``below_one``); None stays None."""
    if raw is None:
        return None
    allowed = "a number between 0 and 1" if below_one else "a number > 0"
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{flag} must be {allowed}, not '{raw}'") from None
    if not (math.isfinite(value) and value > 0 and (value < 1 or not below_one)):
        raise InputError(f"{flag} must be {allowed}, not '{raw}'")
    return value


def _add_run_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--days", help="follow-up in days (> 0); default: the scenario's")
    parser.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                        help="change a parameter (repeatable); 'tumorsim show NAME' lists them")
    parser.add_argument("--init", action="append", default=[], metavar="STATE=VALUE",
                        help="change an initial state value (repeatable)")
    treatment = parser.add_argument_group("treatment (each replaces the scenario's own of that kind)")
    treatment.add_argument("--surgery", metavar="DAY|none", help="remove the primary tumour on DAY, or never")
    treatment.add_argument("--dose", metavar="IU|none", help="interferon per injection (IU), or no interferon")
    treatment.add_argument("--dose-start", metavar="DAY", help="day of the first dose (default: the scenario's, or 1)")
    treatment.add_argument("--dose-every", metavar="DAYS", help="days between doses (default: the scenario's, or 3)")
    treatment.add_argument("--dose-count", metavar="N", help="number of doses (default: the scenario's, or 10)")
    treatment.add_argument("--deplete", action="append", default=[], metavar="nk|cd8:START-STOP",
                           help="deplete NK or CD8+ cells with antibody from day START to STOP (repeatable); 'none' "
                                "removes the scenario's depletions")
    view = parser.add_argument_group("chance in the bone (irf7 model)")
    either = view.add_mutually_exclusive_group()
    either.add_argument("--chance", action="store_true",
                        help="count a small bone burden cell by cell, its cells arriving, dividing and dying at random")
    either.add_argument("--mean-field", action="store_true",
                        help="follow the bone burden with the ODEs alone (fractions of a cell included)")
    view.add_argument("--seed", help="seed of the mouse's chance draws (default 0; with chance on)")
    parser.add_argument("--rtol", default=str(DEFAULT_RTOL), help=f"relative tolerance (default {DEFAULT_RTOL:g})")
    parser.add_argument("--atol", default=str(DEFAULT_ATOL), help=f"absolute tolerance (default {DEFAULT_ATOL:g})")
    parser.add_argument("--plot", metavar="PATH", help="save the figure (.png, .svg or .pdf)")
    parser.add_argument("--json", action="store_true", help="print a machine-readable summary instead of text")
    parser.add_argument("--force", action="store_true", help="replace output files that already exist")


def _command(commands, name: str, summary: str, examples: Sequence[str], details: str = "") -> argparse.ArgumentParser:
    """A subcommand whose --help opens with what it does and ends with examples to copy."""
    return commands.add_parser(
        name, help=summary, description=f"{summary[0].upper()}{summary[1:]}." + (f"\n\n{details}" if details else ""),
        epilog="examples:\n" + "\n".join(f"  {line}" for line in examples),
        formatter_class=argparse.RawDescriptionHelpFormatter)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tumorsim", description="ODE models of tumour-immune dynamics for teaching.",
                     epilog="'tumorsim COMMAND --help' describes each command, with examples.")
    parser.add_argument("--version", action="version", version=f"tumorsim {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    _command(commands, "list", "list the shipped scenarios, grouped by model, and the models",
             ["tumorsim list"])
    show = _command(commands, "show", "show a scenario: what it mirrors, its schedule, initial state and parameters",
                    ["tumorsim show irf7-restored", "tumorsim show irf7-restored --all   # with every source and range"])
    show.add_argument("scenario", help="scenario name or TOML file")
    show.add_argument("--all", action="store_true", help="the full parameter table: meaning, source and range of each")

    run = _command(commands, "run", "run one scenario and say what happened, in sentences computed from the run",
                   ["tumorsim run irf7-restored", "tumorsim run irf7-silenced --surgery none",
                    "tumorsim run irf7-silenced --dose 1e5 --dose-start 7", "tumorsim run irf7-restored --deplete nk:0-60",
                    "tumorsim run irf7-restored --set cd8_kill_max=0.3 --csv course.csv --plot course.png",
                    "tumorsim run ifn-dosed --chance --seed 3"])
    run.add_argument("scenario", help="scenario name or TOML file")
    _add_run_options(run)
    run.add_argument("--replicates", default=str(api.REPLICATES),
                     help=f"with chance: also solve this many mice with other draws, to say how likely each fate is "
                          f"(default {api.REPLICATES}; 0: none)")
    run.add_argument("--csv", metavar="PATH", help="write the time course: a time column, then one per state (units in "
                     "the headers); the run's parameters go beside it in PATH.meta.json")
    run.add_argument("--every", metavar="DAYS|solver", help="rows of --csv every DAYS days (default 1), or 'solver' for "
                     "every solver step")

    compare = _command(commands, "compare", "run several scenarios with the same changes: one table, one figure",
                       ["tumorsim compare irf7-silenced irf7-restored ifn-dosed --plot arms.png",
                        "tumorsim compare irf7-silenced irf7-restored --surgery none",
                        "tumorsim compare my-scenario.toml ifn-dosed --csv arms.csv"])
    compare.add_argument("scenarios", nargs="+", help="scenario names or TOML files")
    _add_run_options(compare)
    compare.add_argument("--csv", metavar="PATH", help="write the table, one row per arm (units in the headers)")

    equilibria = _command(commands, "equilibria", "every equilibrium of a model, with eigenvalues and type",
                          ["tumorsim equilibria kuznetsov1994", "tumorsim equilibria kuznetsov1994 --set s=2e4"])
    equilibria.add_argument("model", help="a classic model's name (tumorsim list), or a scenario of one whose "
                            "parameters to use")
    equilibria.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                            help="change a parameter (repeatable)")
    equilibria.add_argument("--json", action="store_true", help="print a machine-readable list instead of text")

    sweep = _command(commands, "sweep", "metastasis day across a range of one parameter, for several scenarios",
                     ["tumorsim sweep irf7-silenced irf7-restored --parameter irf7_activity --from 0 --to 1",
                      "tumorsim sweep irf7-restored --parameter nk_kill --from 1e-8 --to 1e-6 --log --plot nk.png"])
    sweep.add_argument("scenarios", nargs="+", help="scenario names or TOML files")
    sweep.add_argument("--parameter", required=True, help="parameter to vary ('tumorsim show NAME' lists them)")
    sweep.add_argument("--from", dest="low", required=True, help="lowest value, in the parameter's unit")
    sweep.add_argument("--to", dest="high", required=True, help="highest value")
    sweep.add_argument("--steps", default="11", help="number of values (>= 2, default 11)")
    sweep.add_argument("--log", action="store_true", help="space the values geometrically")
    doses = _command(commands, "doses", "interferon dose x interval x start day: delay of bone metastasis",
                     ["tumorsim doses", "tumorsim doses --amounts 1e5 --intervals 1,3 --starts 1,15 --plot doses.png"])
    doses.add_argument("scenario", nargs="?", default="ifn-dosed", help="scenario whose doses are replaced (default ifn-dosed)")
    doses.add_argument("--amounts", default="1e4,1e5,1e6", help="IU per injection, comma-separated")
    doses.add_argument("--intervals", default="1,2,3,7", help="days between doses, comma-separated")
    doses.add_argument("--starts", default="1,7,15", help="day of the first dose, comma-separated")
    for sub in (sweep, doses):
        sub.add_argument("--n", default="0", help="also run a cohort of N mice per point (median survival; default 0: off)")
        sub.add_argument("--seed", default="0", help="seed of the cohorts (whole number >= 0)")
        sub.add_argument("--workers", help="processes to use (default: one per core)")
        sub.add_argument("--plot", metavar="PATH", help="save the figure (.png, .svg or .pdf)")
        sub.add_argument("--json", action="store_true", help="print a machine-readable result instead of text")
        sub.add_argument("--force", action="store_true", help="replace output files that already exist")

    sensitivity = _command(commands, "sensitivity", "which parameters decide the metastasis day",
                           ["tumorsim sensitivity irf7-silenced --plot tornado.png",
                            "tumorsim sensitivity irf7-restored --global --n 256 --seed 1 --plot sobol.png"],
                           "Local sensitivities (a tornado chart of +-1 % changes) or, with --global, Sobol indices "
                           "over the parameter ranges declared in the parameter file.")
    sensitivity.add_argument("scenario", help="scenario name or TOML file (e.g. irf7-restored)")
    sensitivity.add_argument("--global", dest="sobol", action="store_true",
                             help="Sobol indices over the ranges declared in the parameter file (default: local, +-1 %%)")
    sensitivity.add_argument("--n", help="--global: base samples, a power of 2 (default 512; runs N x (ranged "
                             "parameters + 2) models)")
    sensitivity.add_argument("--seed", help="--global: seed of the samples and intervals (whole number >= 0, default 0)")
    sensitivity.add_argument("--workers", help="processes to use (default: one per core)")
    sensitivity.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                             help="change a parameter first (repeatable); a changed parameter's range moves with it")
    sensitivity.add_argument("--plot", metavar="PATH", help="save the tornado or Sobol chart (.png, .svg or .pdf)")
    sensitivity.add_argument("--json", action="store_true", help="print a machine-readable result instead of text")
    sensitivity.add_argument("--force", action="store_true", help="replace output files that already exist")

    robustness = _command(
        commands, "robustness", "how sure is the model: the paper's conclusions on cohorts across uncertainty",
        ["tumorsim robustness --n 256 --seed 1 --plot robustness.png"],
        "Check each conclusion of Bidwell et al. 2012 (declared as data: orderings, differences in the fraction "
        "free, delays of the median) on cohorts with chance in the bone: at the default parameters, with every "
        "parameter halved and doubled in turn, and over a Latin-hypercube sample of the declared parameter ranges and "
        "schedule uncertainty; orderings that hold by construction are shown but not counted as evidence.")
    robustness.add_argument("--conclusions", metavar="FILE", help="a conclusions TOML file (default: the paper's)")
    robustness.add_argument("--n", default="128", help="samples of the parameter and schedule ranges (default 128)")
    robustness.add_argument("--mice", default="100", help="mice per arm in each sample (default 100)")
    robustness.add_argument("--seed", default="0", help="seed of the sample and the mice (whole number >= 0)")
    robustness.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                            help="change a parameter in every arm first (repeatable); its range, and a narrowed "
                                 "range, move with it")
    robustness.add_argument("--engine", default="auto", choices=("auto", "compiled", "numpy"),
                            help="how the cohorts are integrated (default: compiled if the fast extra is installed)")
    robustness.add_argument("--workers", help="threads or processes to use (default: one per core)")
    robustness.add_argument("--plot", metavar="PATH", help="save the figure (.png, .svg or .pdf)")
    robustness.add_argument("--json", action="store_true", help="print a machine-readable result instead of text")
    robustness.add_argument("--force", action="store_true", help="replace output files that already exist")

    export = _command(commands, "export", "write a scenario's model as SBML (Level 3 Version 2) or Antimony",
                      ["tumorsim export irf7-restored --out irf7-restored.xml",
                       "tumorsim export ifn-dosed --format antimony --out ifn-dosed.ant",
                       "tumorsim export irf7-silenced --set irf7_activity=0.5 --out half.xml"],
                      "The file holds the equations (traced from the right-hand side tumorsim integrates), the "
                      "parameter values with their meaning, source and basis, the initial state, the schedule as "
                      "events, units, and the metastasis detection and humane endpoint as events that set flags. "
                      "Open it in COPASI (File > Import SBML), tellurium or libroadrunner. Needs the 'sbml' extra.")
    export.add_argument("scenario", help="scenario name or TOML file")
    export.add_argument("--format", default="sbml", choices=("sbml", "antimony"), help="file format (default sbml)")
    export.add_argument("--out", metavar="PATH", help="file to write (default: print to standard output)")
    export.add_argument("--days", help="follow-up in days (> 0); default: the scenario's")
    export.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                        help="change a parameter (repeatable)")
    export.add_argument("--force", action="store_true", help="replace the output file if it exists")

    figures = _command(commands, "figures", "regenerate the whole figure gallery (runs every experiments/ script)",
                       ["tumorsim figures --out figures --force"],
                       "Needs the source checkout (git clone, then pip install -e .): the scripts are not installed.")
    figures.add_argument("--out", default="figures", help="folder for the figures (default: figures/)")
    figures.add_argument("--workers", help="scripts to run at once (default 2)")
    figures.add_argument("--force", action="store_true", help="replace figures that already exist")

    cohort = _command(commands, "cohort", "virtual cohorts: metastasis-free survival of N mice per scenario",
                      ["tumorsim cohort irf7-silenced irf7-restored ifn-dosed",
                       "tumorsim cohort irf7-silenced irf7-silenced-ifnar-ko --n 200 --seed 3 --plot km.png",
                       "tumorsim cohort irf7-restored ifn-dosed --chance"],
                      "Each mouse gets its own parameter values, drawn from the spreads in the parameter file; the "
                      "first scenario is the reference of the log-rank tests.")
    cohort.add_argument("scenarios", nargs="+", help="scenario names or TOML files (the first is the reference)")
    cohort.add_argument("--set", action="append", default=[], metavar="PARAM=VALUE",
                        help="change a parameter in every scenario (repeatable)")
    cohort.add_argument("--engine", default="auto", choices=("auto", "compiled", "numpy"),
                        help="compiled (per-mouse kernel, needs the fast extra; threads), numpy (vectorized batch; "
                             "processes) or auto (default: compiled when installed); they agree to 0.01 day")
    view = cohort.add_mutually_exclusive_group()
    view.add_argument("--chance", action="store_true",
                      help="mice differ in their chance draws too: a small bone burden is whole cells born and killed "
                           "at random")
    view.add_argument("--mean-field", action="store_true", help="the bone burden follows the ODEs alone")
    patients = _command(commands, "patients", "virtual patients split by a noisy Irf7 signature (a model analogue)",
                        ["tumorsim patients", "tumorsim patients --n 400 --seed 2 --plot patients.png"])
    patients.add_argument("--spec", help="patient specification TOML (default: the shipped one)")
    for sub in (cohort, patients):
        sub.add_argument("--n", default=str(DEFAULT_COHORT_SIZE),
                         help=f"virtual mice or patients per group (whole number >= 1, default {DEFAULT_COHORT_SIZE})")
        sub.add_argument("--seed", default=str(DEFAULT_SEED),
                         help=f"random seed (whole number >= 0, default {DEFAULT_SEED}): the same seed gives the same numbers")
        sub.add_argument("--days", help="follow-up in days (> 0); default: the scenario's")
        sub.add_argument("--workers", help="processes to use (default: one per core)")
        sub.add_argument("--plot", metavar="PATH", help="save the Kaplan-Meier figure (.png, .svg or .pdf)")
        sub.add_argument("--csv", metavar="PATH", help="write one row per virtual mouse or patient")
        sub.add_argument("--json", action="store_true", help="print a machine-readable summary instead of text")
        sub.add_argument("--force", action="store_true", help="replace output files that already exist")
    return parser


DEFAULT_COHORT_SIZE = 500
"""Mice (or patients) per group when --n is not given."""
DEFAULT_SEED = 1


def _list() -> str:
    lines = ["Scenarios, by model ('tumorsim show NAME' for details, 'tumorsim run NAME' to run one):"]
    for model in MODELS.values():
        names = scenario_names(model.name)
        if not names:
            continue
        width = max(len(name) for name in names)
        lines += ["", textwrap.fill(f"{model.name}: {model.title}", _width())]
        # the description only, not the whole scenario with its parameter files: 'list' starts in well under 0.3 s
        lines += [textwrap.fill(read_toml(SCENARIO_DIR / f"{name}.toml").get("description", ""), _width(),
                                initial_indent=f"  {name:{width}s}  ",
                                subsequent_indent=" " * (width + 4), break_on_hyphens=False) for name in names]
    width = max(len(name) for name in MODELS)
    lines += ["", "Models (each also runs by its name, with its published parameters):"]
    lines += [textwrap.fill(model.title, _width(), initial_indent=f"  {name:{width}s}  ",
                            subsequent_indent=" " * (width + 4)) for name, model in MODELS.items()]
    return "\n".join(lines)


def _width() -> int:
    """Characters per line of 'list' and 'show': the terminal's width (COLUMNS), 100 when not a terminal."""
    return min(max(shutil.get_terminal_size((100, 24)).columns, 80), 240)


def _show(target: str, full: bool) -> str:
    scenario = load_scenario(target)
    lines = [
        *[textwrap.fill(line, _width()) for line in analysis.heading(scenario)],
        textwrap.fill(f"Mirrors: {scenario.mirrors}", _width()),
        textwrap.fill(f"Model: {scenario.model.name} ({scenario.model.title})", _width()),
        f"Tumour line: {scenario.tumor_line or '-'}    host: {scenario.host or '-'}    follow-up: {scenario.days:g} days",
        f"File: {scenario.source}",
        "",
        "Schedule:",
    ]
    lines += [f"  {line}" for line in scenario.schedule.describe()] or ["  (none)"]
    lines += ["", "Initial state:"]
    lines += [f"  {s.name:3s} = {scenario.initial[s.name]:<12.4g} {s.unit:7s} {s.meaning}" for s in scenario.model.states]
    lines += ["", textwrap.fill("Parameters (basis: teaching = chosen for teaching, a guess; public-code = copied from "
                                "public code, never checked in the paper; genotype = set by the tumour line or host):",
                                _width())]
    params = list(scenario.parameters.values())
    if full:
        table = analysis.format_table(("parameter", "value", "unit", "basis", "meaning"),
                                      [[p.name, p.value, p.unit, p.basis, p.meaning] for p in params]).splitlines()
        lines += table[:2]
        for row, param in zip(table[2:], params):
            lines += [row, f"      source: {param.source}"]
            if param.range is not None:
                lines.append(f"      range for sensitivity analysis: {param.range[0]:g} to {param.range[1]:g}"
                             + (f" ({param.range_source})" if param.range_source else ""))
    else:
        table = analysis.format_table(("parameter", "value", "basis"),
                                      [[p.name, _with_unit(p.value, p.unit), p.basis] for p in params]).splitlines()
        width = len(table[1]) + 2
        lines += [table[0].ljust(width) + "meaning", table[1] + "  -------"]
        lines += [row.ljust(width) + _clip(param.meaning, _width() - width) for row, param in zip(table[2:], params)]
        lines.append(f"\nSources and ranges of every parameter: tumorsim show {target} --all")
    if scenario.variability:
        lines += ["", "Variability between mice (virtual cohorts: value x exp(sigma z), z standard normal):"]
        lines += [f"  {v.parameter}: sigma {v.sigma:g}" + (f" ({v.rationale})" if full else "")
                  for v in scenario.variability.values()]
    return "\n".join(lines)


def _clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, with '...' where it was cut ('show --all' has it whole)."""
    return text if len(text) <= width else text[: width - 3].rstrip() + "..."


def _with_unit(value: float, unit: str) -> str:
    number = f"{value:.4g}" if abs(value) < 1e5 else f"{value:.3g}"
    return number if unit == "1" else f"{number} {unit}"


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse bad, clashing or existing output paths before any work is done or any file written."""
    targets = []
    for flag in ("plot", "csv"):
        given = getattr(args, flag, None)
        if given is not None and not str(given).strip():
            raise InputError(f"--{flag} needs a file name, not an empty one")
    if getattr(args, "plot", None):
        check_figure_path(Path(args.plot), "--plot")
        targets.append((Path(args.plot), "--plot"))
    if getattr(args, "csv", None):
        targets += [(Path(args.csv), "--csv"), (Path(f"{args.csv}.meta.json"), "--csv")]
    check_targets(targets, args.force)


def _write_outputs(args: argparse.Namespace, csv: list[Output] | None = None, figure=None) -> None:
    """Write the command's --csv files and --plot figure together: all of them, or none."""
    if figure is not None:
        from .plotting import save_figure

        save_figure(figure, [args.plot], overwrite=args.force, flag="--plot", outputs=csv or [])
    elif csv:
        write_all(csv, args.force)


def _changes(args: argparse.Namespace) -> dict:
    """The changes that run and compare share, as keyword arguments of ``sim.run``."""
    return {
        "days": _positive(args.days, "--days"),
        "parameters": _assignments(args.set, "--set"),
        "initial": _assignments(args.init, "--init"),
        "surgery": args.surgery, "dose": args.dose, "dose_start": args.dose_start, "dose_every": args.dose_every,
        "dose_count": args.dose_count, "deplete": args.deplete,
        "rtol": _positive(args.rtol, "--rtol", below_one=True),
        "atol": _positive(args.atol, "--atol"),
        "chance": True if args.chance else False if args.mean_field else None,
        "seed": args.seed,
        "names": FLAGS,
    }


def _csv_every(raw: str | None, csv: str | None) -> float | None:
    """Spacing of the --csv rows [day]: 1 by default, None for 'solver' (every solver step)."""
    if raw is not None and not csv:
        raise InputError("--every sets the rows of the --csv table; give --csv PATH too")
    if raw is not None and raw.strip().lower() == "solver":
        return None
    return _positive(raw, "--every") if raw is not None else 1.0


def _run(args: argparse.Namespace) -> str:
    _check_outputs(args)
    every = _csv_every(args.every, args.csv)
    result = api.run(args.scenario, replicates=args.replicates, **_changes(args))
    table = None
    if args.csv:
        table = result if every is None else result.on_grid(every)
    figure = None
    if args.plot:
        from .plotting import plot_result

        figure = np.ravel(plot_result(result))[0].figure
    _write_outputs(args, table.csv_outputs(args.csv, "--csv") if table else None, figure)
    if args.json:
        return json.dumps(result.to_dict(), indent=2)
    text = [result.summary(), "", "Schedule: " + ("; ".join(result.events) or "no timed events")]
    if table is not None:
        rows = "every solver step" if every is None else f"every {every:g} days"
        text.append(f"Wrote {args.csv} ({len(table.time)} rows, {rows}) and {args.csv}.meta.json")
    text += [f"Wrote {args.plot}"] if args.plot else []
    return "\n".join(text)


def _compare(args: argparse.Namespace) -> str:
    _check_outputs(args)
    scenarios = [api.prepare(name) for name in args.scenarios]
    models = sorted({s.model.name for s in scenarios})
    if len(models) > 1:
        raise InputError(f"compare: the scenarios belong to different models ({', '.join(models)}); compare "
                         "scenarios of one model, or run each with 'tumorsim run NAME'")
    if args.plot and scenarios[0].model.detection_state is None:
        raise InputError(f"--plot: compare draws the bone burden, which model '{models[0]}' does not have; use "
                         "'tumorsim run NAME --plot PATH' for each scenario")
    arms = api.compare(args.scenarios, **_changes(args))
    figure = None
    if args.plot:
        from .plotting import BURDEN_LEGEND, plot_burden

        figure = plot_burden(arms.results, **BURDEN_LEGEND).figure
    _write_outputs(args, arms.csv_outputs(args.csv, "--csv") if args.csv else None, figure)
    if args.json:
        return json.dumps({"version": __version__, "results": [r.to_dict() for r in arms]}, indent=2)
    text = [arms.table(), ""]
    for result in arms:
        text += [*analysis.heading(result.scenario), *analysis.notice_lines(result.scenario), ""]
    text += [f"Wrote {path}" for path in (args.csv, args.plot) if path]
    return "\n".join(text).rstrip()


def _cohort(args: argparse.Namespace) -> str:
    from .cohort import check_mice, check_seed, choose_engine, cohort_csv_outputs, simulate_cohort
    from .survival import logrank_p

    _check_outputs(args)
    n, seed, workers = check_mice(args.n), check_seed(args.seed), _workers(args.workers)
    days, changes = _positive(args.days, "--days"), _assignments(args.set, "--set")
    chance = True if args.chance else False if args.mean_field else None
    arms = distinct_names([api.prepare(name, days=days, parameters=changes, chance=chance, names=FLAGS)
                           for name in args.scenarios], args.scenarios)
    engines = [choose_engine(args.engine, arm, "--engine") for arm in arms]
    cohorts = [simulate_cohort(arm, n, seed, workers=workers, engine=engine) for arm, engine in zip(arms, engines)]
    reference = cohorts[0]
    summaries = []
    for cohort in cohorts:
        summary = cohort.summary(at_days=(30.0, 60.0, 90.0))
        summary["p_logrank_vs_first"] = (
            None if cohort is reference else logrank_p(reference.metastasis_day, cohort.metastasis_day, cohort.days))
        summaries.append(summary)
    figure = None
    if args.plot:
        from .plotting import plot_survival

        figure = plot_survival([(c.name, c.survival()) for c in cohorts]).figure
    _write_outputs(args, cohort_csv_outputs(cohorts, args.csv, "--csv") if args.csv else None, figure)
    if args.json:
        return json.dumps({"version": __version__, "cohorts": summaries}, indent=2)
    return "\n".join([analysis.cohort_table(summaries), "", *analysis.cohort_sentences(summaries),
                      *[f"Wrote {p}" for p in (args.csv, args.plot) if p]])


def _patients(args: argparse.Namespace) -> str:
    from .cohort import check_mice, check_seed, cohort_csv_outputs
    from .patients import DISCLAIMER, PatientSpec, simulate_patients

    _check_outputs(args)
    spec = PatientSpec.load(args.spec) if args.spec else PatientSpec.load()
    study = simulate_patients(check_mice(args.n), check_seed(args.seed), spec, days=_positive(args.days, "--days"),
                              workers=_workers(args.workers))
    summary = study.summary()
    figure = None
    if args.plot:
        from .plotting import plot_survival

        title = "Virtual patients by Irf7 signature: bone-metastasis-free survival (model analogue, not patient data)"
        figure = plot_survival(list(study.curves().items()), title=title).figure
    _write_outputs(args, cohort_csv_outputs([study.cohort], args.csv, "--csv") if args.csv else None, figure)
    if args.json:
        return json.dumps(summary, indent=2)
    return "\n".join([DISCLAIMER, "", analysis.patient_table(summary), "", *analysis.patient_sentences(summary),
                      *[f"Wrote {p}" for p in (args.csv, args.plot) if p]])


def _equilibria(args: argparse.Namespace) -> str:
    from .equilibria import find_equilibria

    scenario = api.prepare(args.model, parameters=_assignments(args.set, "--set"), names=FLAGS)
    found = find_equilibria(scenario.model, scenario.parameters.values_dict())
    if args.json:
        return json.dumps([e.to_dict() for e in found], indent=2)
    states = scenario.model.states
    header = [f"{s.name} [{s.unit}]" for s in states] + ["eigenvalues", "type"]
    rows = [[e.state[s.name] for s in states] + [", ".join(_complex_text(v) for v in e.eigenvalues), e.type]
            for e in found]
    changed = [f"With {'; '.join(scenario.changes)}."] if scenario.changes else []
    return "\n".join([f"Equilibria of {scenario.model.name} ({scenario.model.title}) in the non-negative orthant:",
                      *changed, "", analysis.format_table(header, rows)])


def _complex_text(value: complex) -> str:
    if abs(value.imag) <= 1e-12 * max(abs(value.real), 1e-300):
        return f"{value.real:.4g}"
    return f"{value.real:.4g}{value.imag:+.4g}i"


def _numbers(raw: str, flag: str) -> list[float]:
    values = []
    for part in raw.split(","):
        try:
            value = float(part)
        except ValueError:
            raise InputError(f"{flag} takes comma-separated numbers, not '{raw}'") from None
        if not math.isfinite(value) or value < 0:
            raise InputError(f"{flag} values must be numbers >= 0, not '{part.strip()}'")
        values.append(value)
    return values


def _sweep(args: argparse.Namespace) -> str:
    from .cohort import check_seed, check_size
    from .sweeps import MAX_SWEEP_POINTS, parameter_sweep, sweep_values

    _check_outputs(args)
    steps = check_size(args.steps, "--steps", MAX_SWEEP_POINTS, ", the most points a sweep may have; sweep a "
                       "narrower range in several runs")
    low, high = (_finite(v, flag) for v, flag in ((args.low, "--from"), (args.high, "--to")))
    if steps < 2 or high <= low:
        raise InputError(f"--from must be below --to and --steps at least 2, not --from {low:g} --to {high:g} --steps {steps}")
    if args.log and low <= 0:
        raise InputError(f"--log needs --from > 0, not {low:g}")
    scenarios = [api.prepare(name) for name in args.scenarios]
    if args.parameter not in scenarios[0].parameters:
        scenarios[0].with_changes(parameters={args.parameter: low}, where="--parameter")  # raises with a suggestion
    result = parameter_sweep(scenarios, args.parameter, sweep_values(low, high, steps, args.log),
                             cohort_n=check_seed(args.n, "--n"), seed=check_seed(args.seed), workers=_workers(args.workers),
                             progress=True)
    if args.plot:
        from .plotting import plot_sweep

        _write_outputs(args, figure=plot_sweep(result).figure)
    if args.json:
        return json.dumps({"version": __version__, **result.to_dict()}, indent=2)
    header = [f"{args.parameter} [{result.unit}]"] + [f"{name}: metastasis day" for name in result.scenarios]
    rows = [[float(v)] + [_day_cell(d, e) for d, e in zip(result.metastasis_day[:, k], result.endpoint_day[:, k])]
            for k, v in enumerate(result.values)]
    return "\n".join([analysis.format_table(header, rows), "", *_day_notes(rows, result.follow_up)])


def _day_cell(metastasis: float, endpoint: float) -> float | str:
    """A metastasis day [day] for a table: the day, 'culled day D' (humane endpoint first) or 'free'."""
    if not np.isnan(endpoint) and (np.isnan(metastasis) or endpoint < metastasis):
        return f"culled day {endpoint:.1f}"
    return "free" if np.isnan(metastasis) else float(metastasis)


def _day_notes(rows: Sequence[Sequence[object]], follow_up: float) -> list[str]:
    """What the words in a column of ``_day_cell``s mean, for the words that appear."""
    cells = [str(cell) for row in rows for cell in row]
    notes = []
    if "free" in cells:
        notes.append(f"'free': no bone metastasis within the {follow_up:g} days of follow-up.")
    if any(cell.startswith("culled") for cell in cells):
        notes.append("'culled day D': the primary tumour reached the humane endpoint before any bone metastasis was "
                     "detected.")
    return notes


def _finite(raw: str, flag: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        raise InputError(f"{flag} must be a number, not '{raw}'") from None
    if not math.isfinite(value):
        raise InputError(f"{flag} must be a finite number, not '{raw}'")
    return value


def _doses(args: argparse.Namespace) -> str:
    from .cohort import check_seed
    from .sweeps import COURSE_DAYS, dose_grid

    _check_outputs(args)
    grid = dose_grid(args.scenario, _numbers(args.amounts, "--amounts"), _numbers(args.intervals, "--intervals"),
                     _numbers(args.starts, "--starts"), cohort_n=check_seed(args.n, "--n"), seed=check_seed(args.seed),
                     workers=_workers(args.workers), progress=True)
    if args.plot:
        from .plotting import plot_dose_grid

        _write_outputs(args, figure=np.ravel(plot_dose_grid(grid))[0].figure)
    if args.json:
        return json.dumps({"version": __version__, **grid.to_dict()}, indent=2)
    rows = [[float(s), float(i), float(a), _day_cell(grid.metastasis_day[k, j, m], grid.endpoint_day[k, j, m])]
            for k, s in enumerate(grid.starts) for j, i in enumerate(grid.intervals) for m, a in enumerate(grid.amounts)]
    untreated = _day_cell(grid.untreated, grid.untreated_endpoint)
    without = (f"metastasis on day {untreated:.1f}" if isinstance(untreated, float) else
               f"no bone metastasis within {grid.follow_up:g} days" if untreated == "free" else untreated)
    return "\n".join([
        analysis.format_table(("first dose [day]", "every [days]", "dose [IU]", "metastasis day"), rows), "",
        f"Without interferon: {without}. Each course gives doses for four weeks ({COURSE_DAYS:g} days).",
        *_day_notes(rows, grid.follow_up),
    ])


def _sensitivity(args: argparse.Namespace) -> str:
    from .cohort import check_seed
    from .sensitivity import DEFAULT_N, check_base_samples, local_sensitivity, sobol_analysis

    _check_outputs(args)
    changes, workers = _assignments(args.set, "--set"), _workers(args.workers)
    if args.sobol:
        result = sobol_analysis(args.scenario, changes=changes, n=check_base_samples(args.n or DEFAULT_N),
                                seed=check_seed(args.seed or 0), workers=workers, progress=True)
    elif args.n is not None or args.seed is not None:
        raise InputError("--n and --seed apply only with --global (the local analysis draws no samples)")
    else:
        result = local_sensitivity(args.scenario, changes=changes, workers=workers)
    if args.plot:
        from .plotting import plot_sobol, plot_tornado

        ax = plot_sobol(result) if args.sobol else plot_tornado(result)
        _write_outputs(args, figure=ax.figure)
    if args.json:
        return json.dumps(result.to_dict(), indent=2)
    return "\n".join([result.table(), "", *result.sentences(), *([f"Wrote {args.plot}"] if args.plot else [])])


def _robustness(args: argparse.Namespace) -> str:
    from .robustness import check_robustness

    _check_outputs(args)
    result = check_robustness(args.conclusions, n=args.n, mice=args.mice, seed=args.seed,
                              changes=_assignments(args.set, "--set"), engine=args.engine, workers=_workers(args.workers))
    if args.plot:
        from .plotting import plot_robustness

        _write_outputs(args, figure=plot_robustness(result)[0].figure)
    if args.json:
        return result.to_json()
    return "\n".join([result.summary(), *([f"Wrote {args.plot}"] if args.plot else [])])


def _export(args: argparse.Namespace) -> str:
    from .exchange import export

    if args.out:
        check_targets([(Path(args.out), "--out")], args.force)
    scenario = api.prepare(args.scenario, days=_positive(args.days, "--days"), parameters=_assignments(args.set, "--set"),
                           names=FLAGS)
    text = export(scenario, args.format)
    if not args.out:
        return text.rstrip("\n")
    write_all([Output(Path(args.out), lambda tmp: tmp.write_text(text, encoding="utf-8"), "--out")], args.force)
    return f"Wrote {args.out} ({args.format}, model {scenario.model.name}, scenario {scenario.name})"


def _figures(args: argparse.Namespace) -> str:
    from .figures import build_figures

    written, seconds = build_figures(Path(args.out), workers=_workers(args.workers) or 2, overwrite=args.force)
    names = sorted({p.stem for p in written})
    return "\n".join([f"Wrote {len(written)} files ({len(names)} figures, PNG and SVG) to {args.out} in {seconds:.0f} s:",
                      *[f"  {name}" for name in names]])


def _workers(raw: str | None) -> int | None:
    from .parallel import check_workers

    return check_workers(raw)


class Terminated(SystemExit):
    """SIGTERM arrived: unwind like an exception, so temporary files are removed and workers stopped."""


@contextlib.contextmanager
def _sigterm_unwinds() -> Iterator[None]:
    """While a command runs, SIGTERM raises ``Terminated`` instead of killing the process outright."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def unwind(signum, frame):
        raise Terminated(128 + signal.SIGTERM)

    previous = signal.signal(signal.SIGTERM, unwind)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``tumorsim`` and ``python -m sim``; returns the exit code."""
    try:
        with _sigterm_unwinds():
            output = _dispatch(argv)
    except InputError as exc:
        print(f"tumorsim: error: {exc}", file=sys.stderr)
        return 2
    except SolverError as exc:
        print(f"tumorsim: solver error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tumorsim: interrupted; no output file was written or changed", file=sys.stderr)
        return 128 + signal.SIGINT
    except Terminated as exc:
        print("tumorsim: terminated; no output file was written or changed", file=sys.stderr)
        return int(exc.code)
    try:
        print(output)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader (e.g. `head`) closed the pipe: not an error
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - keeps Python's exit flush quiet
    except OSError as exc:
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the broken stream must not be flushed again at exit
        print(f"tumorsim: error: cannot write to standard output: {exc.strerror or exc}", file=sys.stderr)
        return 2
    return 0


def _dispatch(argv: Sequence[str] | None) -> str:
    args = build_parser().parse_args(argv)
    if args.command == "list":
        return _list()
    if args.command == "show":
        return _show(args.scenario, args.all)
    commands = {"run": _run, "compare": _compare, "equilibria": _equilibria, "cohort": _cohort,
                "patients": _patients, "sweep": _sweep, "doses": _doses, "figures": _figures,
                "sensitivity": _sensitivity, "robustness": _robustness, "export": _export}
    return commands[args.command](args)
