"""Time the vectorized cohort solver against the per-mouse loop, on the same mice (issue 3).

Run from the repository root::

    python benchmarks/cohort_speed.py            # full run, about 7-10 minutes on 2 cores
    python benchmarks/cohort_speed.py --quick    # smoke run, under 30 s
    python benchmarks/cohort_speed.py --json cohort_speed.json

For each scenario it measures, on mice drawn once with ``sim.cohort.sample_parameters``:

1. baseline: ``sim.run(scenario, parameters=<one mouse>)`` mouse by mouse (solve_ivp,
   default tolerances) on a sample of mice; time per mouse, extrapolated to the cohort;
2. vectorized: ``sim.cohort.simulate_cohort`` on the whole cohort, default workers and
   ``workers=1``; speed ratio = baseline time per mouse x cohort size / vectorized wall time;
3. accuracy: largest |difference| in metastasis day between the cohort and tight-tolerance
   per-mouse runs (rtol = atol = 1e-10) on the same sample (metastasis in one and not the
   other counts as an infinite error);
4. scaling: vectorized wall time from 100 to 100,000 mice;
5. tolerances: ``sim.batch.solve_batch`` (one process) at several rtol = atol on a sub-cohort,
   with time and accuracy, to choose the default;
6. chunk size: ``simulate_cohort`` on the cohort with other ``chunk_size`` values.

Timings are wall-clock (``time.perf_counter``) and include everything a user waits for
(process pool start-up, pickling, sampling). Other processes on the machine slow them down:
the load average is printed at the start and the end.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy

import sim
from sim.batch import BATCH_ATOL, BATCH_RTOL, solve_batch
from sim.cohort import default_chunk, sample_parameters, simulate_cohort
from sim.errors import SolverError
from sim.scenarios import Scenario, load_scenario

SCENARIOS = ("irf7-silenced", "irf7-restored", "ifn-dosed")
TARGET_RATIO = 100.0
TARGET_ERROR = 0.01  # day
TARGET_MICE = 10_000
TARGET_SECONDS = 1.0
TIGHT = 1e-10


@dataclass(frozen=True)
class Settings:
    cohort: int  # mice in the main cohort
    sample: int  # mice solved one by one (baseline timing and tight reference)
    sizes: tuple[int, ...]  # scaling
    tolerance_mice: int  # sub-cohort of the tolerance study
    tolerances: tuple[float, ...]
    chunks: tuple[int, ...]  # other chunk sizes tried on the cohort
    repeats: int  # best of this many for cohorts of at most 1,000 mice
    candidate_tol: float  # the cohort is also timed at this rtol = atol (a candidate default)


FULL = Settings(cohort=10_000, sample=200, sizes=(100, 1_000, 10_000, 100_000), tolerance_mice=2_000,
                tolerances=(1e-6, 1e-5, 3e-5, 1e-4), chunks=(1_000, 2_500), repeats=3, candidate_tol=1e-5)
QUICK = Settings(cohort=500, sample=8, sizes=(100, 500), tolerance_mice=250,
                 tolerances=(1e-6, 1e-5, 3e-5, 1e-4), chunks=(), repeats=1, candidate_tol=1e-5)


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def plain(value: Any) -> Any:
    """``value`` with NaN as null and infinities as the strings "inf"/"-inf", for strict JSON."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            cpu = next((line.split(":", 1)[1].strip() for line in handle if line.startswith("model name")), cpu)
    except OSError:
        pass
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None
    return {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "cpu": cpu,
        "cpu_count": os.cpu_count(),
        "usable_cpus": affinity,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "tumorsim": sim.__version__,
        "platform": platform.platform(),
    }


def load_average() -> list[float] | None:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):
        return None


def one_mouse(sampled: dict[str, np.ndarray], i: int) -> dict[str, float]:
    return {name: float(values[i]) for name, values in sampled.items()}


def day_of(result: sim.Result) -> float:
    return np.nan if result.metastasis_day is None else float(result.metastasis_day)


def day_errors(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| with NaN meaning "no metastasis": both NaN is 0, one NaN is infinite."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    none_a, none_b = np.isnan(a), np.isnan(b)
    error = np.abs(np.where(none_a | none_b, 0.0, a - b))
    error[none_a != none_b] = np.inf
    return error


def timed(function, repeats: int = 1):
    """(best wall time over ``repeats`` calls, value of the last call)."""
    best, value = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        value = function()
        best = min(best, time.perf_counter() - start)
    return best, value


def pick_sample(candidates: np.ndarray, days: np.ndarray, k: int) -> np.ndarray:
    """``k`` mice among ``candidates``: spread evenly over the cohort, plus the hard cases.

    Hard cases are mice without metastasis (up to a tenth of the sample, when the cohort
    has any) and the mice with the latest metastasis days, near the end of follow-up,
    where "metastasis or not" is decided by a small difference.
    """
    k = min(k, len(candidates))
    free = candidates[np.isnan(days[candidates])]
    detected = candidates[~np.isnan(days[candidates])]
    hard = []
    if len(free):
        hard.append(free[np.linspace(0, len(free) - 1, min(len(free), max(1, k // 10))).round().astype(int)])
    if len(detected):
        hard.append(detected[np.argsort(days[detected], kind="stable")[-max(1, k // 20):]])
    chosen = set(np.concatenate(hard).tolist()) if hard else set()
    for i in candidates[np.linspace(0, len(candidates) - 1, k).round().astype(int)]:
        if len(chosen) >= k:
            break
        chosen.add(int(i))
    for i in candidates:  # fill up if evenly spread picks collided with hard cases
        if len(chosen) >= k:
            break
        chosen.add(int(i))
    return np.array(sorted(chosen))[:k]


def per_mouse(
    scenario: Scenario, sampled: dict[str, np.ndarray], mice: np.ndarray, **tolerances: float
) -> tuple[float, np.ndarray, int]:
    """Solve ``mice`` one by one with ``sim.run``; (seconds, metastasis days, failures)."""
    days, failures = np.full(len(mice), np.nan), 0
    start = time.perf_counter()
    for j, i in enumerate(mice):
        try:
            days[j] = day_of(sim.run(scenario, parameters=one_mouse(sampled, int(i)), **tolerances))
        except SolverError:
            days[j], failures = -np.inf, failures + 1  # -inf: an error wherever compared
    return time.perf_counter() - start, days, failures


def bench_scenario(name: str, settings: Settings, seed: int) -> dict[str, Any]:
    scenario = load_scenario(name)
    n = settings.cohort
    out: dict[str, Any] = {"scenario": name, "cohort": n, "seed": seed, "load_start": load_average()}
    sampled = sample_parameters(scenario, n, seed)
    solve_batch(scenario, {k: v[:10] for k, v in sampled.items()})  # warm up imports and caches

    # 2. vectorized, on the whole cohort
    log(f"[{name}] vectorized cohort of {n:,} mice (default workers, then workers=1)")
    t_default, cohort = timed(lambda: simulate_cohort(scenario, n, seed))
    chunks = -(-n // default_chunk(n))
    if chunks > 1:
        t_one, cohort_one = timed(lambda: simulate_cohort(scenario, n, seed, workers=1))
    else:  # one chunk is solved in this process whatever the workers: the same run
        t_one, cohort_one = t_default, cohort
    days = cohort.metastasis_day
    out["vectorized"] = {
        "seconds_default_workers": t_default,
        "default_workers": min(os.cpu_count() or 1, chunks) if chunks > 1 else 1,
        "seconds_one_worker": t_one,
        "chunk_size": default_chunk(n),
        "rtol": BATCH_RTOL,
        "atol": BATCH_ATOL,
        "same_days_with_one_worker": bool(np.array_equal(days, cohort_one.metastasis_day, equal_nan=True)),
        "metastasis_free": int(np.isnan(days).sum()),
        "sampled_match": all(np.array_equal(cohort.sampled[k], v) for k, v in sampled.items()),
    }

    # 1 + 3. per-mouse loop on a sample spread over the cohort: default tolerances (the
    # baseline being timed) and tight tolerances (the reference for accuracy).
    sub = np.arange(0, n, max(1, n // settings.tolerance_mice))[: settings.tolerance_mice]
    mice = pick_sample(sub, days, settings.sample)
    log(f"[{name}] per-mouse sim.run on {len(mice)} mice (default tolerances, then rtol=atol={TIGHT:g})")
    t_base, base_days, base_fail = per_mouse(scenario, sampled, mice)
    t_tight, ref_days, ref_fail = per_mouse(scenario, sampled, mice, rtol=TIGHT, atol=TIGHT)
    per_mouse_s = t_base / len(mice)
    err_vec = day_errors(days[mice], ref_days)
    err_base = day_errors(base_days, ref_days)
    out["baseline"] = {
        "mice": len(mice),
        "seconds": t_base,
        "seconds_per_mouse": per_mouse_s,
        "extrapolated_seconds_for_cohort": per_mouse_s * n,
        "extrapolated_seconds_for_10000": per_mouse_s * TARGET_MICE,
        "failures": base_fail,
        "max_error_days_vs_tight": float(err_base.max()),
    }
    out["reference"] = {"mice": len(mice), "rtol": TIGHT, "atol": TIGHT, "seconds_per_mouse": t_tight / len(mice),
                        "failures": ref_fail, "metastasis_free": int(np.isnan(ref_days).sum())}
    worst = int(np.argmax(err_vec))
    out["accuracy"] = {
        "mice": len(mice),
        "metastasis_free_in_sample": int(np.isnan(ref_days).sum()),
        "max_error_days": float(err_vec.max()),
        "worst_mouse": int(mice[worst]),
        "worst_mouse_days": [float(days[mice[worst]]), float(ref_days[worst])],
        "mismatches": int(np.isinf(err_vec).sum()),
        "mice_indices": mice.tolist(),
    }
    out["ratio_default_workers"] = per_mouse_s * n / t_default
    out["ratio_one_worker"] = per_mouse_s * n / t_one

    # the cohort again at a candidate default tolerance, default workers
    tol = settings.candidate_tol
    log(f"[{name}] vectorized cohort of {n:,} mice at rtol=atol={tol:g}")
    t_candidate, candidate = timed(lambda: simulate_cohort(scenario, n, seed, rtol=tol, atol=tol))
    err_candidate = day_errors(candidate.metastasis_day[mice], ref_days)
    out["candidate"] = {"tol": tol, "seconds_default_workers": t_candidate,
                        "ratio_default_workers": per_mouse_s * n / t_candidate,
                        "max_error_days": float(err_candidate.max()), "mismatches": int(np.isinf(err_candidate).sum())}

    # 4. scaling (default workers; the cohort size is the run above)
    rows = []
    for size in settings.sizes:
        if size == n:
            seconds, change = t_default, 0.0
        else:
            log(f"[{name}] scaling: {size:,} mice")
            seconds, result = timed(lambda size=size: simulate_cohort(scenario, size, seed),
                                    settings.repeats if size <= 1_000 else 1)
            head = min(size, n)  # the first mice are the same mice (same seed), maybe in other chunks
            change = float(day_errors(result.metastasis_day[:head], days[:head]).max())
        rows.append({"mice": size, "seconds": seconds, "ms_per_mouse": seconds / size * 1e3,
                     "ratio": per_mouse_s * size / seconds, "max_change_vs_cohort": change})
    out["scaling"] = rows

    # 5. tolerances of the batch solver, one process, on a sub-cohort holding the sample
    subset = {k: v[sub] for k, v in sampled.items()}
    position = {int(i): j for j, i in enumerate(sub)}
    in_sub = np.array([position[int(i)] for i in mice])
    rows = []
    for tol in settings.tolerances:
        log(f"[{name}] solve_batch on {len(sub):,} mice at rtol=atol={tol:g}")
        seconds, outcome = timed(lambda tol=tol: solve_batch(scenario, subset, rtol=tol, atol=tol))
        tol_days = outcome.metastasis_day
        err = day_errors(tol_days[in_sub], ref_days)
        rows.append({"tol": tol, "mice": len(sub), "seconds": seconds, "ms_per_mouse": seconds / len(sub) * 1e3,
                     "single_core_ratio": per_mouse_s * len(sub) / seconds,
                     "max_error_days": float(err.max()), "mismatches": int(np.isinf(err).sum())})
    out["tolerances"] = rows

    # 6. chunk sizes (default workers): time, and how much a mouse's day depends on its batch-mates
    rows = []
    for chunk in settings.chunks:
        log(f"[{name}] cohort of {n:,} mice with chunk_size={chunk:,}")
        seconds, result = timed(lambda chunk=chunk: simulate_cohort(scenario, n, seed, chunk_size=chunk))
        rows.append({"chunk_size": chunk, "chunks": -(-n // chunk), "seconds": seconds,
                     "max_error_days": float(day_errors(result.metastasis_day[mice], ref_days).max()),
                     "max_change_vs_default_chunk": float(day_errors(result.metastasis_day, days).max())})
    rows.append({"chunk_size": default_chunk(n), "chunks": chunks, "seconds": t_default,
                 "max_error_days": float(err_vec.max()), "max_change_vs_default_chunk": 0.0})
    out["chunks"] = sorted(rows, key=lambda r: r["chunk_size"]) if settings.chunks else []
    out["load_end"] = load_average()
    return out


def verdict(value: float, target: float, higher_is_better: bool) -> str:
    if higher_is_better:
        return "met" if value >= target else f"MISSED ({target / value:.2g}x short)"
    if np.isinf(value):
        return "MISSED (a mouse disagrees on metastasis or not)"
    return "met" if value <= target else f"MISSED ({value / target:.2g}x over)"


def fmt(x: float, digits: int = 3) -> str:
    return "inf" if np.isinf(x) else f"{x:.{digits}g}"


def report(results: list[dict[str, Any]], info: dict[str, Any], settings: Settings) -> str:
    n = settings.cohort
    lines = [
        f"Machine: {info['cpu']}; os.cpu_count() = {info['cpu_count']} (usable {info['usable_cpus']}); "
        f"Python {info['python']}, numpy {info['numpy']}, scipy {info['scipy']}, tumorsim {info['tumorsim']}",
        f"Date: {info['date']}; load average (1, 5, 15 min) at start {info['load_start']}, at end {info['load_end']}; "
        f"wall time of the benchmark {info['seconds']:.0f} s; seed {info['seed']}"
        + ("; --quick" if info["quick"] else ""),
        "",
        f"Cohort of {n:,} mice, batch rtol = atol = {BATCH_RTOL:g}, chunk {default_chunk(n):,}. Baseline: sim.run per mouse "
        f"(solve_ivp LSODA, rtol = atol = 1e-6) on the sample; its {n:,}-mouse time is an extrapolation. "
        f"Ratio = baseline s/mouse x {n:,} / vectorized wall time.",
        "",
        "| scenario | baseline ms/mouse (mice) | baseline for "
        f"{n:,} (extrapolated) | vectorized, default workers | ratio | vectorized, 1 worker | ratio "
        "| max abs day error vs tight (mice, of which metastasis-free) | baseline's own error |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        b, v, a = r["baseline"], r["vectorized"], r["accuracy"]
        lines.append(
            f"| {r['scenario']} | {b['seconds_per_mouse'] * 1e3:.1f} ({b['mice']}) "
            f"| {b['extrapolated_seconds_for_cohort']:.0f} s "
            f"| {v['seconds_default_workers']:.2f} s ({v['default_workers']} proc.) | {r['ratio_default_workers']:.0f}x "
            f"| {v['seconds_one_worker']:.2f} s | {r['ratio_one_worker']:.0f}x "
            f"| {fmt(a['max_error_days'])} ({a['mice']}, {a['metastasis_free_in_sample']}) "
            f"| {fmt(b['max_error_days_vs_tight'])} |"
        )
    lines += ["", "Targets (issue 3):", ""]
    for r in results:
        v, a = r["vectorized"], r["accuracy"]
        parts = [f"ratio >= {TARGET_RATIO:g}x: {verdict(r['ratio_default_workers'], TARGET_RATIO, True)}",
                 f"error <= {TARGET_ERROR:g} day: {verdict(a['max_error_days'], TARGET_ERROR, False)}"]
        if n == TARGET_MICE:
            parts.append(f"{TARGET_MICE:,} mice <= {TARGET_SECONDS:g} s: "
                         f"{verdict(v['seconds_default_workers'], TARGET_SECONDS, False)}")
        else:
            parts.append(f"{TARGET_MICE:,} mice <= {TARGET_SECONDS:g} s: not measured (cohort of {n:,})")
        lines.append(f"- {r['scenario']}: " + "; ".join(parts))

    tol = settings.candidate_tol
    lines += ["", f"The same cohort at rtol = atol = {tol:g} (a candidate default; default workers, "
              "chunks as by default):", "",
              "| scenario | vectorized | ratio | max abs day error vs tight |", "|---|---|---|---|"]
    for r in results:
        c = r["candidate"]
        lines.append(f"| {r['scenario']} | {c['seconds_default_workers']:.2f} s | {c['ratio_default_workers']:.0f}x "
                     f"| {fmt(c['max_error_days'])} |")

    lines += ["", "Scaling (simulate_cohort, default workers; chunks of half the cohort, between "
              "1,000 and 5,000 mice):", ""]
    sizes = [row["mice"] for row in results[0]["scaling"]]
    lines.append("| scenario | " + " | ".join(f"{s:,} mice" for s in sizes) + " |")
    lines.append("|---|" + "---|" * len(sizes))
    for r in results:
        cells = [f"{row['seconds']:.3g} s, {row['ms_per_mouse']:.3g} ms/mouse, {row['ratio']:.0f}x" for row in r["scaling"]]
        lines.append(f"| {r['scenario']} | " + " | ".join(cells) + " |")

    lines += ["", f"Batch tolerance (solve_batch, one process, {results[0]['tolerances'][0]['mice']:,} mice; "
              "single-core ratio = baseline s/mouse / batch s/mouse; error vs the same tight reference):", ""]
    tols = [row["tol"] for row in results[0]["tolerances"]]
    lines.append("| scenario | " + " | ".join(f"rtol = atol = {t:g}" for t in tols) + " |")
    lines.append("|---|" + "---|" * len(tols))
    for r in results:
        cells = [f"{row['seconds']:.2f} s, {row['single_core_ratio']:.0f}x, error {fmt(row['max_error_days'])}"
                 for row in r["tolerances"]]
        lines.append(f"| {r['scenario']} | " + " | ".join(cells) + " |")

    if results[0]["chunks"]:
        lines += ["", f"Chunk size ({n:,} mice, default workers, default tolerance; change = largest change of a "
                  "mouse's day against the default chunk, since LSODA's error norm is shared by a chunk's mice):", ""]
        chunk_sizes = [row["chunk_size"] for row in results[0]["chunks"]]
        lines.append("| scenario | " + " | ".join(f"chunk {c:,}" for c in chunk_sizes) + " |")
        lines.append("|---|" + "---|" * len(chunk_sizes))
        for r in results:
            cells = [f"{row['seconds']:.2f} s, error {fmt(row['max_error_days'])}, "
                     f"change {fmt(row['max_change_vs_default_chunk'])}" for row in r["chunks"]]
            lines.append(f"| {r['scenario']} | " + " | ".join(cells) + " |")

    checks = []
    for r in results:
        same = "yes" if r["vectorized"]["same_days_with_one_worker"] else "NO"
        mice = "yes" if r["vectorized"]["sampled_match"] else "NO"
        parts = [f"same mice in simulate_cohort and sample_parameters: {mice}", f"same days with workers=1: {same}",
                 f"per-mouse failures (default, tight): {r['baseline']['failures']}, {r['reference']['failures']}"]
        changes = [f"{row['mice']:,}: {fmt(row['max_change_vs_cohort'], 2)} day"
                   for row in r["scaling"] if row["mice"] != settings.cohort]
        if changes:
            parts.append("largest change of the first mice's days in cohorts of " + ", ".join(changes))
        checks.append(f"{r['scenario']}: " + "; ".join(parts))
    lines += ["", "Checks (workers=1 must give the same days; a chunk's mice share LSODA's error norm, so a mouse's "
              "day moves a little with its batch-mates):", ""] + [f"- {c}" for c in checks]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="short run (under 30 s): 500 mice, 8 per-mouse solves")
    parser.add_argument("--json", metavar="PATH", help="also write every number to this JSON file")
    parser.add_argument("--seed", type=int, default=1, help="seed of the cohort (default 1)")
    parser.add_argument("--scenarios", nargs="+", default=list(SCENARIOS), metavar="NAME")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else FULL

    info = {**machine(), "load_start": load_average(), "seed": args.seed, "quick": args.quick,
            "settings": asdict(settings)}
    log(f"cohort_speed: {'quick' if args.quick else 'full'} run, load average {info['load_start']}")
    start = time.perf_counter()
    results = [bench_scenario(name, settings, args.seed) for name in args.scenarios]
    info["seconds"] = time.perf_counter() - start
    info["load_end"] = load_average()
    print(report(results, info, settings))
    if args.json:
        text = json.dumps(plain({"machine": info, "results": results}), indent=2, allow_nan=False) + "\n"
        Path(args.json).write_text(text, encoding="utf-8")
        log(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
