"""No data lost, no hang, no traceback under bad input, faults and abuse (issue 9).

Each class of defect the audit found has its tests here: outputs (only regular files, all or none,
no clobbering, write failures), signals, budgets, scenario files (including property-based fuzzing),
mixed models and the Python API's exceptions.
"""

from __future__ import annotations

import errno
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from checks import assert_one_line_error
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import sim
from sim.cohort import simulate_cohort
from sim.fileio import Output, write_all
from sim.scenarios import SCENARIO_DIR

TUMORSIM = [sys.executable, "-m", "sim"]


def _files(folder: Path) -> list[str]:
    """Every entry of ``folder``, hidden temporary files included."""
    return sorted(os.listdir(folder))


# --- outputs: only regular files, all or none, never clobbered ------------------------------------


def test_a_device_or_fifo_is_never_replaced(cli, tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    assert_one_line_error(cli("run", "irf7-silenced", "--csv", fifo, "--force"), "--csv", "not a regular file")
    assert fifo.is_fifo() and _files(tmp_path) == ["pipe"]


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null on this system")
def test_dev_null_is_refused_and_left_alone(cli):
    assert_one_line_error(cli("run", "irf7-silenced", "--csv", "/dev/null", "--force"), "/dev/null", "regular files")
    assert Path("/dev/null").is_char_device() and not Path("/dev/null.meta.json").exists()


def test_a_folder_or_symbolic_link_target_is_refused(cli, tmp_path):
    (tmp_path / "folder").mkdir()
    assert_one_line_error(cli("run", "irf7-silenced", "--csv", tmp_path / "folder", "--force"), "is a folder")
    (tmp_path / "real.png").write_bytes(b"mine")
    (tmp_path / "link.png").symlink_to(tmp_path / "real.png")
    assert_one_line_error(cli("run", "irf7-silenced", "--plot", tmp_path / "link.png", "--force"), "symbolic link")
    assert (tmp_path / "real.png").read_bytes() == b"mine"


def test_two_outputs_with_one_path_are_refused_before_any_work(cli, tmp_path):
    same = tmp_path / "x.png"
    assert_one_line_error(cli("run", "irf7-silenced", "--csv", same, "--plot", same), "also the output of")
    assert _files(tmp_path) == []


def test_a_failing_second_output_leaves_no_first_output(cli, tmp_path):
    outcome = cli("run", "irf7-silenced", "--csv", tmp_path / "r.csv", "--plot", tmp_path / "missing" / "r.png")
    assert_one_line_error(outcome, "--plot", "does not exist")
    assert _files(tmp_path) == []


def _failing_writer(tmp: Path) -> None:
    tmp.write_text("half", encoding="utf-8")
    raise OSError(errno.ENOSPC, "No space left on device")


def test_a_write_failure_is_one_error_and_leaves_every_file_as_it_was(tmp_path):
    kept = tmp_path / "kept.csv"
    kept.write_bytes(b"the user's own data\n")
    outputs = [Output(tmp_path / "new.csv", lambda tmp: tmp.write_text("ok", encoding="utf-8"), "--csv"),
               Output(kept, lambda tmp: tmp.write_text("replacement", encoding="utf-8"), "--csv"),
               Output(tmp_path / "late.png", _failing_writer, "--plot")]
    with pytest.raises(sim.InputError, match="--plot: cannot write .*No space left on device"):
        write_all(outputs, overwrite=True)
    assert _files(tmp_path) == ["kept.csv"]
    assert kept.read_bytes() == b"the user's own data\n"


def test_a_failure_while_placing_restores_the_replaced_files(tmp_path, monkeypatch):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_bytes(b"old a")
    real_link = os.link

    def link_fails_for_b(source, target, *args, **kwargs):
        if Path(target) == second:
            raise OSError(errno.EIO, "Input/output error")
        return real_link(source, target, *args, **kwargs)

    monkeypatch.setattr(os, "link", link_fails_for_b)
    outputs = [Output(first, lambda tmp: tmp.write_bytes(b"new a"), "--csv"),
               Output(second, lambda tmp: tmp.write_bytes(b"new b"), "--csv")]
    with pytest.raises(sim.InputError, match="b.csv.*nothing was written"):
        write_all(outputs, overwrite=True)
    assert first.read_bytes() == b"old a" and _files(tmp_path) == ["a.csv"]


def test_a_long_valid_file_name_works(cli, tmp_path):
    name = tmp_path / ("a" * (250 - len(".meta.json")))  # the metadata file's name is at the 255-byte limit
    outcome = cli("run", "irf7-silenced", "--csv", name)
    assert outcome.code == 0, outcome.err
    assert name.is_file() and Path(f"{name}.meta.json").is_file()


def test_refused_commands_leave_an_existing_file_byte_identical(cli, tmp_path):
    target = tmp_path / "mine.csv"
    target.write_bytes(b"precious\x00bytes")
    for argv in (["run", "irf7-silenced", "--csv", target],
                 ["run", "irf7-silenced", "--csv", target, "--force", "--set", "nk_kil=1"],
                 ["run", "irf7-silenced", "--csv", target, "--force", "--plot", tmp_path / "no" / "x.png"]):
        assert cli(*argv).code == 2
        assert target.read_bytes() == b"precious\x00bytes"
    assert _files(tmp_path) == ["mine.csv"]


def test_concurrent_writers_without_force_do_not_clobber(tmp_path):
    """Two runs started together that write the same --csv: one wins, the other exits 2 and writes nothing."""
    target = tmp_path / "same.csv"
    runs = [subprocess.Popen([*TUMORSIM, "run", "irf7-silenced", "--every", "1", "--csv", str(target)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outcomes = [(p.wait(timeout=120), p.stderr.read()) for p in runs]
    for p in runs:
        p.stdout.close()
        p.stderr.close()
    codes = sorted(code for code, _ in outcomes)
    assert codes == [0, 2], outcomes
    loser = next(err for code, err in outcomes if code == 2)
    assert loser.count("\n") == 1 and "Traceback" not in loser and "same.csv" in loser
    assert _files(tmp_path) == ["same.csv", "same.csv.meta.json"]
    assert target.read_text(encoding="utf-8").startswith("time [day],P [cells],")


# --- signals ---------------------------------------------------------------------------------------


def _descendants(pid: int) -> set[int]:
    """Process ids of every living descendant of ``pid`` (read from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads /proc to find worker processes")
@pytest.mark.parametrize(("signum", "code", "word"), [(signal.SIGTERM, 143, "terminated"), (signal.SIGINT, 130, "interrupted")])
def test_a_signal_during_a_long_cohort_leaves_no_file_and_no_worker(tmp_path, signum, code, word):
    # A shell that starts jobs in the background (CI runners do) makes them ignore SIGINT, and Python
    # then never installs its Ctrl-C handler: give the command the default disposition a terminal gives.
    # the numpy engine: its pool's worker processes are what must not outlive the command
    process = subprocess.Popen([*TUMORSIM, "cohort", "irf7-silenced", "irf7-restored", "--n", "400000", "--seed", "1",
                                "--engine", "numpy", "--csv", str(tmp_path / "mice.csv")],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    try:
        workers: set[int] = set()
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:  # wait until the pool is busy
            time.sleep(0.5)
            workers = _descendants(process.pid)
        time.sleep(1.0)
        process.send_signal(signum)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == code
    assert err.startswith("tumorsim: ") and word in err and err.count("\n") == 1, err
    time.sleep(1.0)
    assert not [pid for pid in workers if _alive(pid)], "worker processes outlived the command"
    assert _files(tmp_path) == []


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full on this system")
def test_a_full_standard_output_is_one_line():
    with open("/dev/full", "w") as full:
        completed = subprocess.run([*TUMORSIM, "list"], stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
    assert completed.returncode == 2
    assert completed.stderr.startswith("tumorsim: error: cannot write to standard output") and completed.stderr.count("\n") == 1


# --- budgets: no hang, no memory blow-up ------------------------------------------------------------


@pytest.mark.parametrize(("argv", "fragments"), [
    (["cohort", "irf7-silenced", "--n", "1000000000000", "--seed", "1"], ["--n", "2,000,000"]),
    (["patients", "--n", "1000000000000", "--seed", "1"], ["--n", "2,000,000"]),
    (["sweep", "irf7-silenced", "--parameter", "nk_kill", "--from", "1e-7", "--to", "1e-6", "--steps", "1000000000000"],
     ["--steps", "2,000"]),
    (["sweep", "irf7-silenced", "--parameter", "nk_kill", "--from", "1e-7", "--to", "1e-6", "--steps", "2000",
      "--n", "5000"], ["mice", "--n"]),
    (["run", "irf7-silenced", "--csv", "x.csv", "--every", "1e-6"], ["--every", "1,000,000"]),
    (["sensitivity", "irf7-restored", "--global", "--n", str(2**40)], ["--n", "power of 2"]),
    (["robustness", "--n", "10000000"], ["--n", "100,000"]),
    (["doses", "--amounts", ",".join(["1e5"] * 200), "--intervals", "1,2,3,4,5", "--starts", "1,2,3"], ["dose grid", "2,000"]),
    (["run", "irf7-silenced", "--atol", "1e300"], ["atol"]),
    (["run", "irf7-silenced", "--atol", "1e-300"], ["atol"]),
    (["run", "irf7-silenced", "--rtol", "1e-30"], ["rtol"]),
    (["run", "irf7-silenced", "--init", "P=1e300"], ["initial P", "1e+12"]),
    (["run", "irf7-silenced", "--init", "S=5"], ["initial S", "between 0 and 1"]),
    (["run", "irf7-silenced", "--days", "1e300"], ["--days", "36,500"]),
    (["run", "kuznetsov1994", "--init", "T=1e300", "--days", "5"], ["overflowed"]),
])
def test_huge_sizes_and_extreme_values_are_refused_quickly(cli, argv, fragments):
    started = time.monotonic()
    assert_one_line_error(cli(*argv), *fragments)
    assert time.monotonic() - started < 30


def test_a_runaway_solve_ends_within_its_budget(cli):
    started = time.monotonic()
    assert_one_line_error(cli("run", "irf7-silenced", "--set", "shedding_rate=1e300"), "evaluations", "extreme")
    assert time.monotonic() - started < 30


def test_a_runaway_batch_ends_within_its_budget(cli):
    started = time.monotonic()
    outcome = cli("cohort", "irf7-silenced", "--n", "50", "--seed", "1", "--workers", "1", "--set", "shedding_rate=1e300")
    assert_one_line_error(outcome, "solver steps", "extreme")
    assert time.monotonic() - started < 30


def test_a_million_dose_days_are_refused(cli, tmp_path):
    path = tmp_path / "many.toml"
    path.write_text('model = "irf7"\n[[schedule]]\nevent = "ifn-dose"\namount = 1e5\nstart = 0\nevery = 0.0001\n'
                    "count = 1000000\n", encoding="utf-8")
    assert_one_line_error(cli("run", path), "'count'", "2,000")


# --- scenario files --------------------------------------------------------------------------------

SCENARIO_CASES = {
    "utf16": ('model = "irf7"\n'.encode("utf-16"), ["not UTF-8"]),
    "latin1": ('model = "irf7"\ndescription = "caf\xe9"\n'.encode("latin-1"), ["not UTF-8"]),
    "deep": (("x = " + "[" * 3000 + "]" * 3000 + "\n").encode(), ["nested too deeply"]),
    "huge-number": (b'model = "irf7"\n[parameters]\nnk_kill = ' + b"9" * 400 + b"\n", ["nk_kill"]),
    "parameter-file-number": (b'model = "irf7"\nparameter_file = 5\n', ["parameter_file", "text"]),
    "empty": (b"", ["empty scenario"]),
    "comments-only": (b"# nothing here\n\n# at all\n", ["empty scenario"]),
    "late-resection": (b'model = "irf7"\ndays = 60\n[[schedule]]\nevent = "resection"\nday = 70\n', ["after the follow-up"]),
    "late-dose": (b'model = "irf7"\ndays = 10\n[[schedule]]\nevent = "ifn-dose"\namount = 1e5\ndays = [5, 20]\n',
                  ["day 20", "after the follow-up"]),
    "overlap": (b'model = "irf7"\n[[schedule]]\nevent = "depletion"\ncells = "nk"\nstart = 0\nstop = 30\nrate = 2\n'
                b'[[schedule]]\nevent = "depletion"\ncells = "nk"\nstart = 20\nstop = 40\nrate = 1\n', ["overlap"]),
    "name-number": (b'model = "irf7"\nname = 5\n', ["'name'", "text"]),
    "description-list": (b'model = "irf7"\ndescription = [1]\n', ["'description'", "text"]),
    "days-text": (b'model = "irf7"\ndays = "long"\n', ["'days'"]),
    "days-zero": (b'model = "irf7"\ndays = 0\n', ["'days'", "> 0"]),
    "parameters-number": (b'model = "irf7"\nparameters = 5\n', ["'parameters'", "table"]),
    "initial-list": (b'model = "irf7"\ninitial = [1]\n', ["'initial'", "table"]),
    "schedule-number": (b'model = "irf7"\nschedule = 5\n', ["'schedule'"]),
    "variability-text": (b'model = "irf7"\nvariability = "wide"\n', ["'variability'", "table"]),
    "tumor-line-number": (b'model = "irf7"\ntumor_line = 5\n', ["'tumor_line'", "text"]),
    "model-list": (b'model = ["irf7"]\n', ["'model'", "text"]),
    "initial-signal": (b'model = "irf7"\n[initial]\nS = 5\n', ["initial S", "between 0 and 1"]),
    "unknown-key": (b'model = "irf7"\nsurgery = 14\n', ["unknown key 'surgery'"]),
}


@pytest.mark.parametrize("case", sorted(SCENARIO_CASES))
def test_bad_scenario_files_get_one_line_naming_the_file(cli, tmp_path, case):
    content, fragments = SCENARIO_CASES[case]
    path = tmp_path / f"{case}.toml"
    path.write_bytes(content)
    assert_one_line_error(cli("run", path), str(path), *fragments)


def test_an_oversized_file_is_refused(cli, tmp_path):
    path = tmp_path / "big.toml"
    path.write_bytes(b'model = "irf7"\n' + b"# padding\n" * 120_000)
    assert_one_line_error(cli("run", path), "larger than")


def test_bad_parameter_files_get_one_line(cli, tmp_path):
    shipped = (Path(sim.__file__).parent / "data" / "parameters" / "irf7.toml").read_text(encoding="utf-8")
    (tmp_path / "params.toml").write_text(shipped.replace('unit = "1/day"', "unit = 5", 1), encoding="utf-8")
    (tmp_path / "scenario.toml").write_text('model = "irf7"\nparameter_file = "params.toml"\n', encoding="utf-8")
    assert_one_line_error(cli("run", tmp_path / "scenario.toml"), "params.toml", ".unit", "text")


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
_KEYS = st.sampled_from(["name", "description", "model", "tumor_line", "host", "days", "parameters", "initial",
                         "schedule", "variability", "parameter_file", "notice", "mirrors", "extra"])


def _toml_value(value) -> str:
    """A Python value as TOML text (None, which TOML lacks, as an empty inline table)."""
    if value is None:
        return "{}"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, str):
        return '"' + value.encode("unicode_escape").decode("ascii").replace('"', '\\"') + '"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return "{" + ", ".join(f'"{k.encode("unicode_escape").decode("ascii")}" = {_toml_value(v)}' for k, v in value.items()) + "}"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(document=st.dictionaries(_KEYS, _VALUES, max_size=5))
def test_fuzzed_scenario_files_never_give_a_traceback(cli, tmp_path, document):
    path = tmp_path / "fuzz.toml"
    path.write_text("\n".join(f"{key} = {_toml_value(value)}" for key, value in document.items()) + "\n",
                    encoding="utf-8")
    outcome = cli("run", path, "--days", "20")
    assert outcome.code in (0, 2), outcome.err
    if outcome.code == 2:
        assert_one_line_error(outcome)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(content=st.binary(max_size=200))
def test_fuzzed_bytes_never_give_a_traceback(cli, tmp_path, content):
    path = tmp_path / "bytes.toml"
    path.write_bytes(content)
    outcome = cli("run", path, "--days", "20")
    assert outcome.code in (0, 2), outcome.err
    if outcome.code == 2:
        assert_one_line_error(outcome)


# --- mixed models ------------------------------------------------------------------------------------


def test_compare_refuses_scenarios_of_different_models(cli, tmp_path):
    assert_one_line_error(cli("compare", "irf7-silenced", "kuznetsov1994", "--plot", tmp_path / "x.png"),
                          "different models")
    assert _files(tmp_path) == []


def test_compare_plot_of_a_model_without_bone_burden_is_refused(cli, tmp_path):
    assert_one_line_error(cli("compare", "kuznetsov1994-escape", "kuznetsov1994-dormancy", "--plot", tmp_path / "x.png"),
                          "--plot", "bone burden")


def test_a_cohort_needs_a_metastasis_readout(cli):
    assert_one_line_error(cli("cohort", "kuznetsov1994", "--n", "10", "--seed", "1"), "no metastasis readout")


# --- the Python API -----------------------------------------------------------------------------------

API_CASES = {
    "run-number": (lambda: sim.run(123), "scenario must be"),
    "run-days-text": (lambda: sim.run("irf7-silenced", days="x"), "days must be"),
    "run-parameters-number": (lambda: sim.run("irf7-silenced", parameters=5), "parameters must be a mapping"),
    "run-parameters-unknown": (lambda: sim.run("irf7-silenced", parameters={"nk_kil": 1}), "parameters: unknown"),
    "run-initial-list": (lambda: sim.run("irf7-silenced", initial=[1]), "initial must be a mapping"),
    "run-rtol-nan": (lambda: sim.run("irf7-silenced", rtol=math.nan), "rtol"),
    "run-rtol-zero": (lambda: sim.run("irf7-silenced", rtol=0), "rtol"),
    "run-every-negative": (lambda: sim.run("irf7-silenced", every=-1), "every"),
    "compare-text": (lambda: sim.compare("irf7-silenced"), "scenarios must be"),
    "compare-empty": (lambda: sim.compare([]), "scenarios must be"),
    "compare-number": (lambda: sim.compare(5), "scenarios must be"),
    "cohort-huge": (lambda: simulate_cohort("irf7-silenced", 10**12, 1), "n = 1,000,000,000,000"),
    "cohort-negative-extra": (lambda: simulate_cohort("irf7-silenced", 3, 1, extra={"nk_kill": np.array([-1.0, 1, 1])}),
                              "extra: 'nk_kill'"),
    "cohort-unknown-extra": (lambda: simulate_cohort("irf7-silenced", 3, 1, extra={"zz": np.ones(3)}), "unknown parameter"),
    "cohort-workers": (lambda: simulate_cohort("irf7-silenced", 3, 1, workers=0), "workers"),
    "cohort-chunk": (lambda: simulate_cohort("irf7-silenced", 3, 1, chunk_size=0), "chunk_size"),
    "result-state": (lambda: sim.run("irf7-silenced")["X"], "unknown state 'X'"),
}


@pytest.mark.parametrize("case", sorted(API_CASES))
def test_the_api_raises_input_errors_naming_the_python_argument(case):
    call, fragment = API_CASES[case]
    with pytest.raises(sim.InputError) as caught:
        call()
    message = str(caught.value)
    assert fragment in message
    assert isinstance(caught.value, ValueError)
    assert "--set" not in message and "--init" not in message and "--days" not in message and "--force" not in message


def test_an_unknown_state_is_also_a_key_error():
    with pytest.raises(KeyError):
        sim.run("irf7-silenced", days=20)["X"]


def test_the_api_says_overwrite_not_force(tmp_path):
    result = sim.run("irf7-silenced", days=20)
    result.to_csv(tmp_path / "r.csv")
    with pytest.raises(sim.InputError, match="overwrite=True"):
        result.to_csv(tmp_path / "r.csv")


def test_a_script_without_a_main_guard_runs_parallel_analyses(tmp_path):
    """Worker processes never re-run the learner's script, so it needs no `if __name__ == "__main__":`."""
    script = tmp_path / "analysis.py"
    script.write_text("from sim.robustness import check_robustness\n"
                      "from sim.sensitivity import sobol_analysis\n"
                      "print('ran', check_robustness(n=4, seed=1, workers=2).n)\n"
                      "print('ran', sobol_analysis('irf7-silenced', n=8, seed=1, workers=2).n)\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "MPLBACKEND": "Agg"})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["ran", "4", "ran", "8"] and "Traceback" not in done.stderr


def test_a_file_that_appears_while_writing_is_never_replaced_without_force(tmp_path):
    target = tmp_path / "race.csv"

    def write_while_another_program_creates_the_target(temporary: Path) -> None:
        temporary.write_text("ours\n", encoding="utf-8")
        target.write_text("theirs\n", encoding="utf-8")  # after tumorsim checked that the name was free

    with pytest.raises(sim.InputError, match="created by another program"):
        write_all([Output(target, write_while_another_program_creates_the_target, "--csv")], overwrite=False)
    assert target.read_text(encoding="utf-8") == "theirs\n"
    assert [p.name for p in tmp_path.iterdir()] == ["race.csv"]


# --- issue 19: silently wrong results -----------------------------------------------------------------------


@pytest.mark.parametrize("tolerances", [{"rtol": -1}, {"rtol": 1e308}, {"rtol": float("nan")}, {"atol": -1.0},
                                        {"atol": float("inf")}, {"rtol": "1e-6"}, {"rtol": True}])
def test_a_cohort_refuses_tolerances_it_would_have_read_as_the_default_or_used_silently(tolerances):
    """``rtol or default`` turned 0 into the default and accepted -1 and 1e308, which changed the answer."""
    name = next(iter(tolerances))
    with pytest.raises(sim.InputError, match=f"^{name} must be a number from"):
        simulate_cohort("ifn-dosed", 10, 0, **tolerances)


@pytest.mark.parametrize("call", ["local", "sobol"])
@pytest.mark.parametrize("bad", [float("nan"), -1e-6, float("inf"), 0.5])
def test_sensitivity_analyses_refuse_bad_tolerances(call, bad):
    from sim.sensitivity import local_sensitivity, sobol_analysis

    with pytest.raises(sim.InputError, match="rtol must be a number from"):
        if call == "local":
            local_sensitivity("irf7-silenced", rtol=bad, workers=1)
        else:
            sobol_analysis("irf7-restored", n=8, rtol=bad, workers=1)


@pytest.mark.parametrize("overwrite", ["no", "yes", 0, 1, None])
def test_overwrite_takes_only_true_or_false(tmp_path, overwrite):
    cohort = simulate_cohort("irf7-silenced", 5, 0, engine="numpy", workers=1)
    path = tmp_path / "mice.csv"
    cohort.to_csv(path)
    before = path.read_bytes()
    with pytest.raises(sim.InputError, match="overwrite must be True or False"):
        cohort.to_csv(path, overwrite=overwrite)
    assert path.read_bytes() == before


@pytest.mark.parametrize(("entry", "key"), [('event = "resection"\nday = "14"', "'day'"),
                                            ('event = "ifn-dose"\namount = "1e5"\nstart = 1\nevery = 3\ncount = 2',
                                             "'amount'"),
                                            ('event = "ifn-dose"\namount = 1e5\ndays = [1, "4"]', "'days'")])
def test_a_quoted_number_in_a_schedule_is_refused_with_its_file_and_key(cli, tmp_path, entry, key):
    text = (SCENARIO_DIR / "irf7-silenced.toml").read_text(encoding="utf-8").split("[[schedule]]")[0]
    path = tmp_path / "mine.toml"
    path.write_text(text + "[[schedule]]\n" + entry + "\n", encoding="utf-8")
    assert_one_line_error(cli("run", path), str(path), key, "without quotes")


# --- issue 19: data loss ------------------------------------------------------------------------------------


def _one_script(monkeypatch, *extra: Path) -> None:
    from sim import figures

    monkeypatch.setattr(figures, "experiment_scripts", lambda: [*extra, figures.EXPERIMENTS / "line_66cl4.py"])


def test_figures_refuse_to_replace_a_users_file_without_force_before_any_script_runs(tmp_path, monkeypatch):
    from sim import figures
    from sim.figures import build_figures

    _one_script(monkeypatch)
    mine = tmp_path / "line_66cl4.png"
    mine.write_bytes(b"my own figure")
    ran = []
    with monkeypatch.context() as spy:
        spy.setattr(figures, "_run_script", lambda script, out: ran.append(script))
        with pytest.raises(sim.InputError, match="line_66cl4.png already exists; pass --force"):
            build_figures(tmp_path, progress=False)
    assert ran == []  # refused before any script ran
    assert mine.read_bytes() == b"my own figure" and sorted(p.name for p in tmp_path.iterdir()) == ["line_66cl4.png"]
    written, _ = build_figures(tmp_path, progress=False, overwrite=True)
    assert mine in written and mine.read_bytes() != b"my own figure"


def test_figures_never_move_a_figure_into_a_folder_of_its_name(tmp_path, monkeypatch):
    from sim.figures import build_figures

    _one_script(monkeypatch)
    (tmp_path / "line_66cl4.svg").mkdir()
    with pytest.raises(sim.InputError, match="line_66cl4.svg is a folder"):
        build_figures(tmp_path, progress=False, overwrite=True)
    assert list((tmp_path / "line_66cl4.svg").iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["line_66cl4.svg"]


def test_a_failed_figures_build_leaves_every_existing_figure_byte_identical(tmp_path, monkeypatch):
    from sim.figures import build_figures

    broken = tmp_path / "scripts" / "broken.py"
    broken.parent.mkdir()
    broken.write_text("raise SystemExit('this figure fails')\n", encoding="utf-8")
    _one_script(monkeypatch, broken)
    out = tmp_path / "out"
    out.mkdir()
    (out / "line_66cl4.png").write_bytes(b"the old figure")
    with pytest.raises(sim.InputError, match="broken.py failed: this figure fails"):
        build_figures(out, progress=False, overwrite=True)
    assert sorted(p.name for p in out.iterdir()) == ["line_66cl4.png"]
    assert (out / "line_66cl4.png").read_bytes() == b"the old figure"


def test_two_outputs_reaching_one_file_through_a_linked_folder_or_a_hard_link_are_refused(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "mine.csv").write_text("the user's data", encoding="utf-8")
    os.link(tmp_path / "real" / "mine.csv", tmp_path / "real" / "also-mine.csv")
    write = lambda path: path.write_text("x", encoding="utf-8")  # noqa: E731
    for first, second in ((tmp_path / "real" / "a.csv", tmp_path / "link" / "a.csv"),
                          (tmp_path / "real" / "mine.csv", tmp_path / "link" / ".." / "real" / "mine.csv"),
                          (tmp_path / "real" / "mine.csv", tmp_path / "real" / "also-mine.csv")):
        with pytest.raises(sim.InputError, match="is also the output of --csv"):
            write_all([Output(first, write, "--csv"), Output(second, write, "--json")], overwrite=True)
    assert (tmp_path / "real" / "mine.csv").read_text(encoding="utf-8") == "the user's data"
    assert not (tmp_path / "real" / "a.csv").exists()


@pytest.mark.parametrize("argv", [["cohort", "irf7-silenced"], ["robustness"], ["sensitivity", "irf7-restored", "--global"],
                                  ["sweep", "irf7-silenced", "--parameter", "nk_kill", "--from", "1e-7", "--to", "2e-7"],
                                  ["figures"]])
def test_workers_are_bounded_before_any_process_starts(cli, argv):
    """48 workers on 2 cores started 51 processes and took 4.8 GB."""
    from sim.parallel import max_workers

    assert_one_line_error(cli(*argv, "--workers", str(max_workers() + 1)), "--workers", "four per core")


# --- issue 19: no orphaned workers -------------------------------------------------------------------------


def _alive_in_session(session: int) -> list[int]:
    """Processes of a session that are still running (zombies, waiting to be reaped, count as ended)."""
    alive = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] != "Z":
            alive.append(int(entry.name))
    return alive


POOLED = {
    "cohort": ["cohort", "irf7-restored", "ifn-dosed", "--engine", "numpy", "--n", "40000", "--workers", "2"],
    "sweep": ["sweep", "ifn-dosed", "--parameter", "nk_kill", "--from", "1e-7", "--to", "6e-7", "--steps", "400",
              "--n", "200", "--workers", "2"],
    "sobol": ["sensitivity", "irf7-restored", "--global", "--n", "4096", "--workers", "2"],
    "robustness": ["robustness", "--engine", "numpy", "--n", "64", "--workers", "2"],
}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads the process table from /proc (Linux)")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGHUP"])
@pytest.mark.parametrize("command", POOLED)
def test_workers_end_within_seconds_when_their_parent_is_killed(command, how):
    """SIGKILL leaves the parent no chance to stop its pool, and SIGHUP (a closed terminal) ends it without
    the Ctrl-C path: each worker must notice on its own."""
    parent = subprocess.Popen([*TUMORSIM, *POOLED[command]], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              start_new_session=True)
    try:
        for _ in range(600):  # until the pool's workers run (the parent, the forkserver and two workers)
            if len(_alive_in_session(parent.pid)) >= 4 or parent.poll() is not None:
                break
            time.sleep(0.1)
        assert parent.poll() is None and len(_alive_in_session(parent.pid)) >= 4, "the pool never started"
        os.kill(parent.pid, getattr(signal, how))
        parent.wait()
        for _ in range(50):  # 5 s
            if not _alive_in_session(parent.pid):
                break
            time.sleep(0.1)
        assert _alive_in_session(parent.pid) == []
    finally:
        for pid in _alive_in_session(parent.pid):
            os.kill(pid, signal.SIGKILL)


# --- issue 19: hangs ----------------------------------------------------------------------------------------


def _fifo_cases(tmp_path: Path) -> dict[str, list[str]]:
    fifo = tmp_path / "pipe.toml"
    os.mkfifo(fifo)
    scenario = tmp_path / "mine.toml"
    scenario.write_text(f'parameter_file = "{fifo.name}"\n'
                        + (SCENARIO_DIR / "irf7-silenced.toml").read_text(encoding="utf-8"), encoding="utf-8")
    return {"scenario": ["run", str(fifo)], "parameter file": ["run", str(scenario)],
            "conclusions": ["robustness", "--conclusions", str(fifo)], "spec": ["patients", "--spec", str(fifo)]}


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes are POSIX")
@pytest.mark.parametrize("case", ["scenario", "parameter file", "conclusions", "spec"])
def test_a_named_pipe_given_as_a_file_is_refused_instead_of_waited_on(tmp_path, case):
    """Opening a FIFO with no writer blocked forever; now it is refused at once (a 60 s timeout fails the test)."""
    done = subprocess.run([*TUMORSIM, *_fifo_cases(tmp_path)[case]], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "pipe.toml" in lines[0] and "is not a regular file" in lines[0], done.stderr


def test_an_oversized_file_is_refused_before_it_is_read(tmp_path, monkeypatch):
    """The size is checked from the file's metadata: read() is never called on a file over the limit."""
    from sim import parameters

    big = tmp_path / "big.toml"
    big.write_text("# " + "x" * (parameters.MAX_FILE_BYTES + 10) + "\n", encoding="utf-8")
    monkeypatch.setattr(parameters.os, "fdopen", _no_read_fdopen)
    with pytest.raises(sim.InputError, match=f"{big}: larger than"):
        parameters.read_toml(big)


def _no_read_fdopen(descriptor, mode):
    class Handle:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            os.close(descriptor)

        def fileno(self):
            return descriptor

        def read(self, size=-1):
            raise AssertionError("an oversized file was read")

    return Handle()


@pytest.mark.parametrize(("argv", "fragment"), [
    (["run", "irf7-silenced", "--csv", ""], "--csv needs a file name"),
    (["cohort", "irf7-silenced", "--n", "5", "--csv", " "], "--csv needs a file name"),
    (["run", "irf7-silenced", "--plot", ""], "--plot needs a file name"),
    (["run", "irf7-silenced", "--plot", ".png"], "needs a file name before its suffix, for example figure.png"),
    (["compare", "irf7-silenced", "irf7-restored", "--plot", "out/.svg"], "for example figure.svg"),
])
def test_an_empty_or_suffix_only_output_name_is_one_clear_line(cli, argv, fragment):
    """`--csv ""` was silently ignored and `--plot .png` said it "must end in .png"."""
    assert_one_line_error(cli(*argv), fragment)
