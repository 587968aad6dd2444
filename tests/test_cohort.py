"""Virtual cohorts: seeded draws, per-parameter streams, chunked and parallel solving, agreement with
per-mouse solutions, medians ordered like the deterministic arms, and the ``tumorsim cohort`` command."""

from __future__ import annotations

import csv
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import numpy as np
import pytest
from checks import assert_one_line_error, never, strict_json

import sim
from sim.cohort import Cohort, check_seed, check_size, sample_parameters, simulate_cohort
from sim.errors import InputError
from sim.parameters import Variability
from sim.scenarios import SCENARIO_DIR
from sim.survival import kaplan_meier

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
VARIED = ["bone_seeding_fraction", "primary_growth_rate"]  # the spreads declared in irf7.toml








@pytest.fixture(scope="module")
def cohort300():
    """Function: the cohort of 300 mice, seed 1, of a shipped scenario (solved once per module)."""
    cache: dict[str, Cohort] = {}

    def get(name: str) -> Cohort:
        if name not in cache:
            cache[name] = simulate_cohort(sim.load_scenario(name), 300, 1, workers=1)
        return cache[name]

    return get


# --- seeded draws ---------------------------------------------------------------------------


def test_shipped_scenarios_declare_the_variability_of_the_parameter_file():
    scenario = sim.load_scenario("irf7-silenced")
    assert sorted(scenario.variability) == VARIED
    for spread in scenario.variability.values():
        assert spread.sigma > 0 and spread.rationale


def test_same_seed_gives_identical_draws_and_days():
    scenario = sim.load_scenario("irf7-restored")
    first, second = simulate_cohort(scenario, 40, 5, workers=1), simulate_cohort(scenario, 40, 5, workers=1)
    assert sorted(first.sampled) == VARIED
    for name in VARIED:
        assert first.sampled[name].shape == (40,)
        assert np.array_equal(first.sampled[name], second.sampled[name])
        assert np.array_equal(first.sampled[name], sample_parameters(scenario, 40, 5)[name])
    assert np.array_equal(first.metastasis_day, second.metastasis_day, equal_nan=True)
    assert first.seed == 5 and first.n == 40


def test_different_seed_gives_different_draws_and_days():
    scenario = sim.load_scenario("irf7-restored")
    first, other = simulate_cohort(scenario, 40, 5, workers=1), simulate_cohort(scenario, 40, 6, workers=1)
    for name in VARIED:
        assert not np.any(first.sampled[name] == other.sampled[name]), name
    assert not np.array_equal(first.metastasis_day, other.metastasis_day, equal_nan=True)


def test_draws_are_log_normal_around_the_scenario_value_with_the_declared_spread():
    scenario = sim.load_scenario("irf7-silenced")
    draws = sample_parameters(scenario, 4000, 0)
    z = {}
    for name in VARIED:
        z[name] = np.log(draws[name] / scenario.parameters[name].value) / scenario.variability[name].sigma
        # standard normal: mean 0 (standard error 0.016), sd 1 (standard error 0.011)
        assert abs(z[name].mean()) < 0.08, name
        assert abs(z[name].std() - 1) < 0.06, name
        assert np.median(draws[name]) == pytest.approx(scenario.parameters[name].value, rel=0.1)
    # separate streams: the two parameters' draws are uncorrelated (standard error 0.016)
    assert abs(np.corrcoef(z[VARIED[0]], z[VARIED[1]])[0, 1]) < 0.08


def test_draws_are_capped_at_the_parameter_maximum():
    scenario = sim.load_scenario("irf7-restored")
    assert scenario.parameters["irf7_activity"].maximum == scenario.parameters["irf7_activity"].value == 1.0
    wider = replace(scenario, variability={**scenario.variability,
                                           "irf7_activity": Variability("irf7_activity", 0.5, "test")})
    values = sample_parameters(wider, 1000, 2)["irf7_activity"]
    assert values.max() == 1.0
    assert 0.4 < np.mean(values == 1.0) < 0.6  # about half the draws lie above the median and are capped


def test_no_variability_means_identical_mice():
    scenario = replace(sim.load_scenario("irf7-silenced"), variability={})
    assert sample_parameters(scenario, 5, 1) == {}
    cohort = simulate_cohort(scenario, 5, 1, workers=1)
    assert cohort.n == 5
    assert np.all(cohort.metastasis_day == cohort.metastasis_day[0])
    assert cohort.metastasis_day[0] == pytest.approx(sim.run(scenario).metastasis_day, abs=0.01)


# --- one stream per parameter ----------------------------------------------------------------


def test_declaring_another_spread_leaves_the_existing_draws_unchanged():
    base = sim.load_scenario("irf7-silenced")
    # 'basal_ifn_production' sorts before the existing names: a single shared stream would shift them
    extra = {name: Variability(name, 0.3, "test") for name in ("basal_ifn_production", "nk_kill")}
    more = replace(base, variability={**base.variability, **extra})
    before, after = sample_parameters(base, 200, 3), sample_parameters(more, 200, 3)
    assert sorted(after) == sorted([*VARIED, *extra])
    for name in VARIED:
        assert np.array_equal(before[name], after[name]), name
    assert not np.array_equal(after["basal_ifn_production"] / base.parameters["basal_ifn_production"].value,
                              after["nk_kill"] / base.parameters["nk_kill"].value)


def test_a_variability_table_in_a_scenario_file_adds_a_spread_without_changing_the_others(tmp_path):
    text = (SCENARIO_DIR / "irf7-silenced.toml").read_text(encoding="utf-8")
    path = tmp_path / "varied.toml"
    path.write_text(text + "\n[variability]\nbasal_ifn_production = 0.4\nprimary_growth_rate = 0.2\n", encoding="utf-8")
    shipped, copied = sim.load_scenario("irf7-silenced"), sim.load_scenario(path)
    assert copied.variability["basal_ifn_production"].sigma == 0.4
    assert copied.variability["primary_growth_rate"].sigma == 0.2  # replaced
    assert copied.variability["bone_seeding_fraction"] == shipped.variability["bone_seeding_fraction"]  # kept
    assert copied.name == "varied"  # a copy is named after its file, so it draws its own mice ...
    same_stream = replace(copied, name=shipped.name)  # ... here it takes the shipped arm's draws
    before, after = sample_parameters(shipped, 100, 8), sample_parameters(same_stream, 100, 8)
    assert np.array_equal(before["bone_seeding_fraction"], after["bone_seeding_fraction"])
    # the same normal draws, scaled by the new spread: twice the log-deviation from the median
    rate = shipped.parameters["primary_growth_rate"].value
    assert np.allclose(np.log(after["primary_growth_rate"] / rate), 2 * np.log(before["primary_growth_rate"] / rate),
                       rtol=1e-10, atol=1e-14)
    assert after["basal_ifn_production"].shape == (100,)


# --- chunks, workers and executors -------------------------------------------------------------


@pytest.fixture(scope="module")
def chunked():
    """50 mice of irf7-restored, seed 4, solved whole and in chunks of 7 (one process)."""
    scenario = sim.load_scenario("irf7-restored")
    whole = simulate_cohort(scenario, 50, 4, workers=1)
    in_sevens = simulate_cohort(scenario, 50, 4, chunk_size=7, workers=1)
    return scenario, whole, in_sevens


def test_chunking_draws_the_same_mice_and_finds_the_same_days(chunked):
    _, whole, in_sevens = chunked
    for name in VARIED:
        assert np.array_equal(whole.sampled[name], in_sevens.sampled[name])
    assert in_sevens.n == 50
    assert np.array_equal(whole.censored, in_sevens.censored)
    assert whole.censored.any() and not whole.censored.all()  # both outcomes occur, so both are compared
    # Each chunk is one system with one step-size sequence, so chunks differ by solver error:
    # well within the 0.01-day accuracy target.
    events = ~whole.censored
    assert np.max(np.abs(whole.metastasis_day[events] - in_sevens.metastasis_day[events])) < 0.01


def test_workers_do_not_change_the_result(chunked):
    scenario, _, in_sevens = chunked
    parallel = simulate_cohort(scenario, 50, 4, chunk_size=7, workers=2)
    assert np.array_equal(parallel.metastasis_day, in_sevens.metastasis_day, equal_nan=True)
    for name in VARIED:
        assert np.array_equal(parallel.sampled[name], in_sevens.sampled[name])


def test_an_executor_can_solve_the_chunks(chunked):
    scenario, _, in_sevens = chunked
    with ThreadPoolExecutor(max_workers=2) as pool:
        threaded = simulate_cohort(scenario, 50, 4, chunk_size=7, executor=pool)
    assert np.array_equal(threaded.metastasis_day, in_sevens.metastasis_day, equal_nan=True)


# --- the vectorized solution against one solve_ivp run per mouse ----------------------------------


@pytest.mark.parametrize("name", ["irf7-silenced", "irf7-restored", "ifn-dosed"])
def test_vectorized_days_match_tight_per_mouse_runs(name, cohort300):
    cohort = cohort300(name)
    # the first 25 mice, and up to 5 metastasis-free ones, so censoring is compared too
    mice = sorted({*range(25), *np.flatnonzero(cohort.censored)[:5].tolist()})
    for i in mice:
        values = {k: float(v[i]) for k, v in cohort.sampled.items()}
        single = sim.run(cohort.scenario, parameters=values, rtol=1e-10, atol=1e-10)
        day = cohort.metastasis_day[i]
        assert (single.metastasis_day is None) == bool(np.isnan(day)), (i, single.metastasis_day, day)
        if single.metastasis_day is not None:
            assert day == pytest.approx(single.metastasis_day, abs=0.01), (i, values)


# --- medians order like the deterministic arms ---------------------------------------------------

ORDER = [
    ("irf7-silenced", "ifn-dosed"),
    ("irf7-silenced", "irf7-restored"),
    ("irf7-silenced-ifnar-ko", "irf7-silenced"),
    ("66cl4-irf7-knockdown", "66cl4"),
    ("irf7-restored-cd8-depleted", "irf7-restored"),
    ("irf7-restored-nk-depleted", "irf7-restored"),
    ("irf7-restored-ifnar-ko", "irf7-restored"),
]


@pytest.mark.parametrize(("earlier", "later"), ORDER, ids=[f"{a}<{b}" for a, b in ORDER])
def test_cohort_medians_order_like_the_deterministic_arms(earlier, later, cohort300, runs):
    assert never(runs[earlier].metastasis_day) < never(runs[later].metastasis_day)  # the deterministic order
    first, second = cohort300(earlier).survival(), cohort300(later).survival()
    assert first.median is not None
    assert first.median < never(second.median)
    # and the whole curves: the later arm is at least as metastasis-free on every day of follow-up
    grid = np.linspace(0, cohort300(earlier).days, 121)
    assert np.all(second.at(grid) >= first.at(grid))


# --- the paper's findings in groups of mice (issue 8) ---------------------------------------------

EXPERIMENT_WINDOW = 60.0
"""Days of follow-up a mouse experiment lasts: 4T1 mice with metastases die in weeks 6-8 (Tao et al.
2008), so by day 60 an Irf7-silenced group has reached its endpoints; see docs/model.md."""


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_ifnar1_loss_speeds_metastasis_of_irf7_silenced_tumours_in_cohorts(seed):
    wild_type = simulate_cohort(sim.load_scenario("irf7-silenced"), 200, seed, workers=1)
    knockout = simulate_cohort(sim.load_scenario("irf7-silenced-ifnar-ko"), 200, seed, workers=1)
    assert wild_type.survival().median - knockout.survival().median >= 2.0
    assert knockout.logrank_p(wild_type) < 0.01


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("protected", ["irf7-restored", "ifn-dosed"])
def test_restored_and_dosed_groups_stay_metastasis_free_far_more_often(protected, seed):
    silenced = simulate_cohort(sim.load_scenario("irf7-silenced"), 200, seed, workers=1).survival()
    treated = simulate_cohort(sim.load_scenario(protected), 200, seed, workers=1).survival()
    for day in (EXPERIMENT_WINDOW, 120.0):
        assert treated.at(day) - silenced.at(day) >= 0.4, (day, treated.at(day), silenced.at(day))


def test_culled_mice_are_censored_on_their_endpoint_day():
    unoperated = sim.load_scenario("irf7-restored").with_changes(schedule=[])
    cohort = simulate_cohort(unoperated, 100, 3, workers=1)
    assert cohort.culled.any() and set(cohort.fates) <= {"metastasis", "culled"}
    assert np.all(cohort.endpoint_day[cohort.culled] < 40)
    curve = cohort.survival()
    np.testing.assert_allclose(curve.censor_days, np.sort(cohort.endpoint_day[cohort.culled]))
    # nobody is at risk after the last cull: the curve says nothing about later days
    assert curve.at_risk(np.array([np.max(cohort.endpoint_day) + 1]))[0] == 0
    summary = cohort.summary(at_days=(20.0, 60.0))
    assert summary["fates"] == {"metastasis": int((~cohort.censored).sum()), "culled": int(cohort.culled.sum()), "free": 0}
    # after the last cull the curve is only carried forward: no fraction is claimed for those days
    assert summary["metastasis_free_at"]["20"] == pytest.approx(curve.at(20.0))
    assert summary["metastasis_free_at"]["60"] is None and summary["metastasis_free_fraction"] is None
    assert curve.known_at(20.0) and not curve.known_at(60.0)


def test_cohort_summary_reads_the_kaplan_meier_curve(cohort300):
    cohort = cohort300("irf7-restored")
    summary = cohort.summary(at_days=(30.0, 60.0))
    curve = kaplan_meier(cohort.metastasis_day, cohort.days)
    assert summary["n"] == 300 and summary["seed"] == 1 and summary["name"] == "irf7-restored"
    assert summary["median_days"] == curve.median
    assert summary["median_ci"] == list(curve.median_interval)
    # fractions counted directly: mice without metastasis by that day (no censoring before follow-up)
    days = np.where(cohort.censored, np.inf, cohort.metastasis_day)
    assert summary["metastasis_free_fraction"] == pytest.approx(np.mean(days > cohort.days), abs=1e-12)
    assert summary["metastasis_free_at"]["30"] == pytest.approx(np.mean(days > 30), abs=1e-12)
    assert summary["metastasis_free_at"]["60"] == pytest.approx(np.mean(days > 60), abs=1e-12)
    assert summary["variability"] == {name: cohort.scenario.variability[name].sigma for name in VARIED}


# --- sizes and seeds --------------------------------------------------------------------------------


@pytest.mark.parametrize("good", [1, 7, "12", np.int64(3)])
def test_check_size_accepts_whole_numbers(good):
    assert check_size(good) == int(good)


@pytest.mark.parametrize("bad", [0, -1, 1.5, 2.0, "abc", "", "1e3", True, None])
def test_check_size_rejects_everything_else(bad):
    with pytest.raises(InputError, match="--n"):
        check_size(bad)


@pytest.mark.parametrize("bad", [-1, "-1", "abc", 1.5, "", True])
def test_check_seed_rejects_negative_and_non_whole_seeds(bad):
    with pytest.raises(InputError, match="--seed"):
        check_seed(bad)


def test_simulate_cohort_checks_its_size_and_seed():
    scenario = sim.load_scenario("irf7-silenced")
    with pytest.raises(InputError):
        simulate_cohort(scenario, 0, 1)
    with pytest.raises(InputError):
        simulate_cohort(scenario, 5, -1)


# --- the done-when --------------------------------------------------------------------------


def test_done_when_treated_arms_live_longer_with_significant_log_rank_and_same_numbers_twice(cli):
    argv = ["cohort", "irf7-silenced", "irf7-restored", "ifn-dosed", "--n", "2000", "--seed", "1", "--json"]
    first = cli(*argv)
    assert first.code == 0, first.err
    assert first.err == ""
    data = strict_json(first.out)
    assert data["version"] == sim.__version__
    cohorts = data["cohorts"]
    assert [c["name"] for c in cohorts] == ["irf7-silenced", "irf7-restored", "ifn-dosed"]
    for c in cohorts:
        assert c["n"] == 2000 and c["seed"] == 1
        assert c["median_days"] is None or isinstance(c["median_days"], float)
        assert 0 <= c["metastasis_free_fraction"] <= 1
    control, *treated = cohorts
    assert control["p_logrank_vs_first"] is None
    assert control["median_days"] is not None
    for arm in treated:
        assert never(arm["median_days"]) > control["median_days"], arm["name"]
        assert arm["p_logrank_vs_first"] is not None and arm["p_logrank_vs_first"] < 0.05, arm["name"]
    second = cli(*argv)
    assert second.code == 0
    assert second.out == first.out


# --- the command: files, figure, bad input ------------------------------------------------------------


def test_cohort_csv_has_one_row_per_mouse_and_a_meta_file(cli, tmp_path):
    out = tmp_path / "mice.csv"
    outcome = cli("cohort", "irf7-silenced", "irf7-restored", "--n", 12, "--seed", 2, "--days", 40, "--csv", out)
    assert outcome.code == 0, outcome.err
    assert f"Wrote {out}" in outcome.out
    with open(out, newline="", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))
    assert rows[0] == ["scenario", "mouse", *VARIED, "fate", "metastasis_day", "endpoint_day", "censored"]
    column = {name: k for k, name in enumerate(rows[0])}
    body = rows[1:]
    assert len(body) == 24
    for name in ("irf7-silenced", "irf7-restored"):
        mine = [r for r in body if r[0] == name]
        assert [int(r[1]) for r in mine] == list(range(12))
        scenario = sim.load_scenario(name).with_changes(days=40)
        draws = sample_parameters(scenario, 12, 2)
        for j, parameter in enumerate(VARIED):
            assert np.array_equal([float(r[2 + j]) for r in mine], draws[parameter])  # exact: repr round-trips
        expected = simulate_cohort(scenario, 12, 2, workers=1)
        written = np.array([float(r[column["metastasis_day"]]) if r[column["metastasis_day"]] else np.nan for r in mine])
        assert np.array_equal(written, expected.metastasis_day, equal_nan=True)
        assert [r[column["fate"]] for r in mine] == list(expected.fates)
        for r in mine:
            assert r[column["censored"]] in ("0", "1")
            assert (r[column["metastasis_day"]] == "") == (r[column["censored"]] == "1")
            assert r[column["endpoint_day"]] == ""  # surgery on day 14 comes before the humane endpoint
    censored = [r[column["censored"]] for r in body]
    assert "0" in censored and "1" in censored  # by day 40 the silenced arm has metastasised, the restored not all
    meta = strict_json((tmp_path / "mice.csv.meta.json").read_text(encoding="utf-8"))
    assert meta["version"] == sim.__version__
    assert [c["name"] for c in meta["cohorts"]] == ["irf7-silenced", "irf7-restored"]
    for c in meta["cohorts"]:
        assert c["seed"] == 2 and c["n"] == 12 and c["days"] == 40
        assert c["version"] == sim.__version__


def test_cohort_plot_writes_a_png(cli, tmp_path):
    out = tmp_path / "km.png"
    outcome = cli("cohort", "irf7-silenced", "ifn-dosed", "--n", 10, "--seed", 1, "--plot", out)
    assert outcome.code == 0, outcome.err
    assert out.read_bytes()[:8] == PNG_MAGIC
    assert f"Wrote {out}" in outcome.out


def test_cohort_text_output_is_a_table_with_every_arm(cli):
    outcome = cli("cohort", "irf7-silenced", "irf7-restored", "--n", 10, "--seed", 1)
    assert outcome.code == 0, outcome.err
    lines = outcome.out.splitlines()
    assert lines[0].split()[:2] == ["scenario", "n"]
    for name in ("irf7-silenced", "irf7-restored"):
        assert any(line.split()[:2] == [name, "10"] for line in lines if line.split())
    assert "log-rank" in outcome.out


BAD_FLAGS = [
    (["--n", "0"], "--n"),
    (["--n", "-1"], "--n"),
    (["--n", "1.5"], "--n"),
    (["--n", "abc"], "--n"),
    (["--seed", "-1"], "--seed"),
    (["--seed", "abc"], "--seed"),
    (["--seed", "1.5"], "--seed"),
    (["--workers", "0"], "--workers"),
    (["--workers", "-2"], "--workers"),
    (["--workers", "two"], "--workers"),
    (["--days", "0"], "--days"),
    (["--days", "-5"], "--days"),
    (["--days", "abc"], "--days"),
]


@pytest.mark.parametrize(("extra", "flag"), BAD_FLAGS, ids=[" ".join(e) for e, _ in BAD_FLAGS])
def test_cohort_bad_values_get_one_line_naming_the_flag(extra, flag, cli, tmp_path):
    options = {"--n": "5", "--seed": "1"}
    options.update(dict(zip(extra[::2], extra[1::2])))
    argv = ["cohort", "irf7-silenced", *[x for pair in options.items() for x in pair], "--csv", tmp_path / "out.csv"]
    assert_one_line_error(cli(*argv), flag)
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_cohort_defaults_to_500_mice_and_seed_1_and_says_so(cli):
    outcome = cli("cohort", "irf7-silenced", "--days", "40", "--json")
    assert outcome.code == 0, outcome.err
    summary = strict_json(outcome.out)["cohorts"][0]
    assert summary["n"] == 500 and summary["seed"] == 1
    assert summary == strict_json(cli("cohort", "irf7-silenced", "--days", "40", "--n", "500", "--seed", "1",
                                      "--json").out)["cohorts"][0]
    assert "from seed 1" in cli("cohort", "irf7-silenced", "--days", "40", "--n", "20").out


@pytest.mark.parametrize("flag", ["--n", "--seed"])
def test_cohort_superscript_digit_is_a_clear_error(flag, cli):
    options = {"--n": "5", "--seed": "1", flag: "²"}
    assert_one_line_error(cli("cohort", "irf7-silenced", *[x for pair in options.items() for x in pair]), flag)


def test_cohort_refuses_an_existing_csv_without_force(cli, tmp_path):
    out = tmp_path / "mice.csv"
    out.write_text("keep me\n", encoding="utf-8")
    argv = ["cohort", "irf7-silenced", "--n", 5, "--seed", 1, "--csv", out]
    assert_one_line_error(cli(*argv), "--csv", "--force")
    assert out.read_text(encoding="utf-8") == "keep me\n"
    assert not (tmp_path / "mice.csv.meta.json").exists()
    forced = cli(*argv, "--force")
    assert forced.code == 0, forced.err
    assert out.read_text(encoding="utf-8").startswith("scenario,mouse,")
    assert (tmp_path / "mice.csv.meta.json").exists()


def test_cohort_refuses_an_existing_meta_file_without_force(cli, tmp_path):
    out = tmp_path / "mice.csv"
    meta = tmp_path / "mice.csv.meta.json"
    meta.write_text("{}", encoding="utf-8")
    assert_one_line_error(cli("cohort", "irf7-silenced", "--n", 5, "--seed", 1, "--csv", out), "--csv")
    assert not out.exists() and meta.read_text(encoding="utf-8") == "{}"


def test_cohort_does_not_report_fractions_past_the_end_of_follow_up(cli):
    outcome = cli("cohort", "irf7-restored", "--n", 10, "--seed", 1, "--days", 20, "--json")
    assert outcome.code == 0, outcome.err
    free_at = strict_json(outcome.out)["cohorts"][0]["metastasis_free_at"]
    assert free_at["30"] is None and free_at["60"] is None and free_at["90"] is None
