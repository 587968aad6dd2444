"""Cohort engines side by side: compiled per-mouse kernel, NumPy batch, per-mouse solve_ivp, libroadrunner.

Measures, in one run, for irf7-silenced, irf7-restored and ifn-dosed (issue 13):

* ``simulate_cohort`` at 200, 10,000 and 100,000 mice with engine="compiled" and engine="numpy": wall
  time after a warm-up, and the peak resident memory of the process (each size in a fresh subprocess,
  so that one measurement's memory does not carry into the next);
* 3 arms x 200 mice with the compiled engine (the notebooks' slider);
* the per-mouse ``sim.run`` loop (solve_ivp, LSODA, rtol = atol = 1e-6) and a libroadrunner loop over
  the SBML export (``sim.exchange.sbml``, loaded once; per mouse: reset, set its parameters, simulate
  to the end of follow-up, read the metastasis day from the detection event's flag), both on a sample
  of the mice and extrapolated to 10,000 (said so in the table);
* the largest metastasis-day error of each engine on that sample against tight per-mouse solves
  (``sim.run`` at rtol = atol = 1e-10);
* the wall time of ``tumorsim list``.

Run from the repository root with the fast and sbml extras installed:

    python benchmarks/engine_speed.py                 # full run, about 10 minutes on 2 cores
    python benchmarks/engine_speed.py --quick         # 200 and 2,000 mice, small samples, about a minute
    python benchmarks/engine_speed.py --json out.json

Progress goes to stderr, the Markdown report to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

SCENARIOS = ("irf7-silenced", "irf7-restored", "ifn-dosed")
TARGETS = {"seconds_10k": 1.0, "error_days": 0.01, "roadrunner_ratio": 5.0, "slider_seconds": 0.1,
           "peak_mb_100k": 400.0, "list_seconds": 0.3}
"""Issue 13's done-when, on this 2-core machine with the fast extra installed."""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def peak_mb() -> float:
    """Peak resident memory of this process and of its finished children [MB] (Linux reports kB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


# --- child: one timed cohort in a fresh process ---------------------------------------------------------


def child(spec: dict) -> dict:
    """Warm up, then time ``simulate_cohort`` once; return its time, peak memory and the sample's days."""
    from sim.cohort import simulate_cohort

    engine, seed = spec["engine"], spec["seed"]
    for name in spec["scenarios"]:  # warm-up: imports, compiled code from the cache, process pool start
        simulate_cohort(name, 200, seed + 1, engine=engine)
    before = peak_mb()
    start = time.perf_counter()
    cohorts = [simulate_cohort(name, spec["n"], seed, engine=engine) for name in spec["scenarios"]]
    seconds = time.perf_counter() - start
    sample = spec.get("sample", [])
    return {"seconds": seconds, "peak_mb": peak_mb(), "peak_mb_before": before,
            "days": [c.metastasis_day[sample].tolist() for c in cohorts],
            "endpoint_days": [c.endpoint_day[sample].tolist() for c in cohorts]}


def in_subprocess(**spec) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child {spec} failed:\n{done.stderr}")
    return json.loads(done.stdout.splitlines()[-1])


# --- per-mouse loops on the sample ---------------------------------------------------------------------


def sample_mice(n: int, size: int, days: np.ndarray) -> list[int]:
    """Mice spread evenly over the cohort, plus the latest metastases and some metastasis-free mice (hard cases)."""
    even = np.linspace(0, n - 1, size).astype(int).tolist()
    late = np.argsort(np.nan_to_num(days, nan=-1.0))[-max(1, size // 10):].tolist()
    free = np.flatnonzero(np.isnan(days))[: max(1, size // 10)].tolist()
    return sorted({*even, *late, *free})


def per_mouse_days(scenario, sampled: dict, mice: list[int], **tolerances) -> tuple[np.ndarray, float]:
    """Metastasis days of ``mice`` by one ``sim.run`` each, and the seconds per mouse."""
    import sim

    days = []
    start = time.perf_counter()
    for i in mice:
        result = sim.run(scenario, parameters={k: float(v[i]) for k, v in sampled.items()}, **tolerances)
        days.append(np.nan if result.metastasis_day is None else result.metastasis_day)
    return np.array(days), (time.perf_counter() - start) / len(mice)


def roadrunner_days(scenario, sampled: dict, mice: list[int]) -> tuple[np.ndarray, float, str]:
    """Metastasis days by libroadrunner over the SBML export (loaded once), and the seconds per mouse."""
    try:
        import roadrunner

        from sim.exchange import sbml
    except ImportError as exc:
        return np.full(len(mice), np.nan), float("nan"), f"not measured: {exc}"
    runner = roadrunner.RoadRunner(sbml(scenario))
    runner.integrator.relative_tolerance = 1e-6
    runner.integrator.absolute_tolerance = 1e-6
    days = []
    start = time.perf_counter()
    for i in mice:
        runner.resetAll()  # states, flags and parameters back to the model's values
        for name, values in sampled.items():
            runner[name] = float(values[i])
        runner.simulate(0.0, float(scenario.days), 2)
        detected, culled = runner["metastasis_detected"] > 0.5, runner["culled"] > 0.5
        day = runner["metastasis_day"] if detected else np.nan
        if culled and runner["endpoint_day"] < day:  # tumorsim's rule: culled before detection is no metastasis
            day = np.nan
        days.append(day)
    return np.array(days), (time.perf_counter() - start) / len(mice), f"libroadrunner {roadrunner.__version__}"


def max_error(days: np.ndarray, reference: np.ndarray) -> float:
    """Largest |day difference|; a mouse with metastasis in one and not the other counts as infinite."""
    if np.any(np.isnan(days) != np.isnan(reference)):
        return float("inf")
    both = ~np.isnan(reference)
    return float(np.max(np.abs(days[both] - reference[both]))) if both.any() else 0.0


# --- the run -------------------------------------------------------------------------------------------


def list_seconds(repeats: int = 5) -> float:
    """Best wall time of ``tumorsim list`` in a fresh process [s]."""
    command = shutil.which("tumorsim", path=str(Path(sys.executable).parent)) or "tumorsim"
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([command, "list"], capture_output=True, check=True)
        best = min(best, time.perf_counter() - start)
    return best


def bench(sizes: list[int], sample_size: int, seed: int) -> dict:
    import sim
    from sim.cohort import sample_parameters

    sized = {}
    for n in sizes:
        for engine in ("compiled", "numpy"):
            for name in SCENARIOS:
                log(f"{name}: {n:,} mice, {engine} engine")
                sized[(name, n, engine)] = in_subprocess(scenarios=[name], n=n, engine=engine, seed=seed)
    log("3 arms x 200 mice, compiled")
    slider = [in_subprocess(scenarios=list(SCENARIOS), n=200, engine="compiled", seed=seed)["seconds"] for _ in range(3)]

    n_ref = 10_000 if 10_000 in sizes else max(sizes)
    arms = {}
    for name in SCENARIOS:
        scenario = sim.load_scenario(name)
        sampled = sample_parameters(scenario, n_ref, seed)
        probe = in_subprocess(scenarios=[name], n=n_ref, engine="compiled", seed=seed, sample=list(range(n_ref)))
        mice = sample_mice(n_ref, sample_size, np.array(probe["days"][0]))
        log(f"{name}: {len(mice)} sample mice: tight reference, solve_ivp loop, libroadrunner loop")
        compiled = np.array(probe["days"][0])[mice]
        numpy_days = np.array(in_subprocess(scenarios=[name], n=n_ref, engine="numpy", seed=seed, sample=mice)["days"][0])
        tight, _ = per_mouse_days(scenario, sampled, mice, rtol=1e-10, atol=1e-10)
        loop, loop_seconds = per_mouse_days(scenario, sampled, mice)
        rr, rr_seconds, rr_note = roadrunner_days(scenario, sampled, mice)
        arms[name] = {"mice": len(mice), "free_in_sample": int(np.isnan(tight).sum()),
                      "error_compiled": max_error(compiled, tight), "error_numpy": max_error(numpy_days, tight),
                      "error_loop": max_error(loop, tight), "error_roadrunner": max_error(rr, tight),
                      "loop_seconds_per_mouse": loop_seconds, "roadrunner_seconds_per_mouse": rr_seconds,
                      "roadrunner": rr_note}
    return {"sized": {f"{k[0]}|{k[1]}|{k[2]}": v for k, v in sized.items()}, "slider_seconds": slider,
            "arms": arms, "n_ref": n_ref, "list_seconds": list_seconds()}


def verdict(value: float, target: float, higher_is_better: bool = False) -> str:
    ok = value >= target if higher_is_better else value <= target
    if ok:
        return "met"
    factor = target / value if higher_is_better else value / target
    return f"MISSED ({factor:.2g}x {'short' if higher_is_better else 'over'})"


def report(out: dict, info: dict, sizes: list[int]) -> str:
    n_ref, sized, arms = out["n_ref"], out["sized"], out["arms"]

    def cell(name, n, engine, key="seconds"):
        row = sized[f"{name}|{n}|{engine}"]
        return row[key]

    lines = [f"Machine: {info['machine']}; Python {info['python']}, numpy {info['numpy']}, numba {info['numba']}; "
             f"tumorsim {info['tumorsim']}",
             f"Date: {info['date']}; load average at start {info['load_start']}, at end {info['load_end']}; "
             f"benchmark wall time {info['seconds']:.0f} s; seed {info['seed']}", "",
             "Wall time of simulate_cohort after a warm-up, default workers (compiled: one thread per core; numpy: "
             "one process per core), and peak resident memory of the process (a fresh one per size):", "",
             "| scenario | " + " | ".join(f"{n:,} compiled | {n:,} numpy | ratio" for n in sizes) + " |",
             "|---|" + "---|---|---|" * len(sizes)]
    for name in SCENARIOS:
        cells = []
        for n in sizes:
            c, p = cell(name, n, "compiled"), cell(name, n, "numpy")
            cells.append(f"{c:.3g} s, {cell(name, n, 'compiled', 'peak_mb'):.0f} MB | {p:.3g} s, "
                         f"{cell(name, n, 'numpy', 'peak_mb'):.0f} MB | {p / c:.1f}x")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += ["", f"Per-mouse loops on a sample of the {n_ref:,}-mouse cohort, extrapolated to {n_ref:,} mice "
              "(time per mouse x cohort size); errors are the largest |metastasis day - tight reference| on the sample "
              "(sim.run at rtol = atol = 1e-10):", "",
              "| scenario | sample (free) | solve_ivp loop, extrapolated | vs compiled | libroadrunner loop, extrapolated "
              "| vs compiled | error compiled | error numpy | error solve_ivp loop | error libroadrunner |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for name in SCENARIOS:
        a, c = arms[name], cell(name, n_ref, "compiled")
        loop, rr = a["loop_seconds_per_mouse"] * n_ref, a["roadrunner_seconds_per_mouse"] * n_ref
        lines.append(f"| {name} | {a['mice']} ({a['free_in_sample']}) | {loop:.0f} s | {loop / c:.0f}x | {rr:.1f} s "
                     f"| {rr / c:.1f}x | {a['error_compiled']:.2g} | {a['error_numpy']:.2g} | {a['error_loop']:.2g} "
                     f"| {a['error_roadrunner']:.2g} |")
    slider = min(out["slider_seconds"])
    lines += ["", f"3 arms x 200 mice, compiled, best of 3 processes: {slider:.3f} s "
              f"(each: {', '.join(f'{s:.3f}' for s in out['slider_seconds'])} s). "
              f"`tumorsim list`, best of 5: {out['list_seconds']:.3f} s.", "", "Targets (issue 13):", ""]
    for name in SCENARIOS:
        a = arms[name]
        parts = []
        if 10_000 in sizes:
            parts.append(f"10,000 mice <= 1 s: {verdict(cell(name, 10_000, 'compiled'), TARGETS['seconds_10k'])}")
            ratio = a["roadrunner_seconds_per_mouse"] * n_ref / cell(name, n_ref, "compiled")
            parts.append(f">= 5x libroadrunner: {verdict(ratio, TARGETS['roadrunner_ratio'], True)}")
        parts.append(f"error <= 0.01 day: {verdict(a['error_compiled'], TARGETS['error_days'])}")
        if 100_000 in sizes:
            peak = cell(name, 100_000, "compiled", "peak_mb")
            parts.append(f"100,000 mice <= 400 MB: {verdict(peak, TARGETS['peak_mb_100k'])}")
        lines.append(f"- {name}: " + "; ".join(parts))
    lines += [f"- 3 arms x 200 mice <= 0.1 s: {verdict(slider, TARGETS['slider_seconds'])}",
              f"- tumorsim list <= 0.3 s: {verdict(out['list_seconds'], TARGETS['list_seconds'])}"]
    return "\n".join(lines)


def machine_info(seed: int) -> dict:
    import numba

    import sim

    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):  # not Linux: the platform's own name
        cpu = next(line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                   if line.startswith("model name"))
    return {"machine": f"{cpu}; os.cpu_count() = {os.cpu_count()}", "python": platform.python_version(),
            "numpy": np.__version__, "numba": numba.__version__, "tumorsim": sim.__version__,
            "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "load_start": list(os.getloadavg()), "seed": seed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="200 and 2,000 mice, samples of 20 (about a minute)")
    parser.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(json.loads(args.child))))
        return 0
    sizes, sample_size = ([200, 2_000], 20) if args.quick else ([200, 10_000, 100_000], 100)
    info = machine_info(args.seed)
    start = time.perf_counter()
    out = bench(sizes, sample_size, args.seed)
    info["seconds"], info["load_end"] = time.perf_counter() - start, list(os.getloadavg())
    print(report(out, info, sizes))
    if args.json:
        Path(args.json).write_text(json.dumps({"machine": info, "results": out}, indent=2) + "\n", encoding="utf-8")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
