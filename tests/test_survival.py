"""Survival statistics: Kaplan-Meier against hand-worked product-limit values, medians and their
intervals, the step function, numbers at risk, and the log-rank test against scipy and by hand."""

from __future__ import annotations

import math
import warnings
from fractions import Fraction

import numpy as np
import pytest
from scipy import stats

from sim.survival import censored_data, kaplan_meier, logrank_p

NAN = math.nan

# The hand-worked example: seven mice followed for 6 days; metastasis on days 1, 2, 2 and 5;
# three mice still metastasis-free on day 6 (censored there, the end of follow-up).
# kaplan_meier censors only at the end of follow-up, so censoring is at 6, not earlier.
EVENTS = [1.0, 2.0, 2.0, 5.0]
FOLLOW_UP = 6.0
DAYS = np.array([2.0, NAN, 5.0, 1.0, NAN, 2.0, NAN])  # deliberately unsorted


def product_limit(events: list[float], n: int) -> dict[float, Fraction]:
    """Kaplan-Meier by hand, in exact fractions: S(t) = prod over event days <= t of (1 - d/at risk)."""
    surv, at_risk, out = Fraction(1), n, {}
    for day in sorted(set(events)):
        d = events.count(day)
        surv *= Fraction(at_risk - d, at_risk)
        out[day] = surv
        at_risk -= d
    return out


def greenwood_loglog(events: list[float], n: int, confidence: float) -> dict[float, tuple[float, float]]:
    """The log-log band by hand: Greenwood variance, then S ** exp(+-z * se / |log S|)."""
    z = stats.norm.ppf(0.5 + confidence / 2)
    surv, at_risk, var, out = 1.0, n, 0.0, {}
    for day in sorted(set(events)):
        d = events.count(day)
        surv *= (at_risk - d) / at_risk
        var += d / (at_risk * (at_risk - d))
        spread = z * math.sqrt(var) / abs(math.log(surv))
        out[day] = (surv ** math.exp(spread), surv ** math.exp(-spread))
        at_risk -= d
    return out


@pytest.fixture
def curve():
    return kaplan_meier(DAYS, FOLLOW_UP)


# --- Kaplan-Meier on the hand-worked example --------------------------------------


def test_product_limit_matches_the_hand_worked_values(curve):
    by_hand = product_limit(EVENTS, n=7)
    assert by_hand == {1.0: Fraction(6, 7), 2.0: Fraction(4, 7), 5.0: Fraction(3, 7)}  # the hand arithmetic itself
    assert curve.time[0] == 0 and curve.survival[0] == 1
    for day, value in by_hand.items():
        (index,) = np.flatnonzero(curve.time == day)
        assert curve.survival[index] == pytest.approx(float(value), rel=1e-12), day
    # the end of follow-up: the three censored mice do not lower the curve
    assert curve.time[-1] == FOLLOW_UP
    assert curve.survival[-1] == pytest.approx(3 / 7, rel=1e-12)
    assert curve.n == 7
    assert np.array_equal(curve.event_days, [1.0, 2.0, 2.0, 5.0])
    assert np.array_equal(curve.censor_days, [6.0, 6.0, 6.0])


def test_curve_never_rises_and_stays_between_zero_and_one(curve):
    assert np.all(np.diff(curve.survival) <= 0)
    assert np.all((curve.survival >= 0) & (curve.survival <= 1))
    assert np.all(np.diff(curve.time) > 0)


@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_confidence_band_is_the_log_log_greenwood_band(confidence):
    curve = kaplan_meier(DAYS, FOLLOW_UP, confidence=confidence)
    assert curve.confidence == confidence
    for day, (low, high) in greenwood_loglog(EVENTS, 7, confidence).items():
        (index,) = np.flatnonzero(curve.time == day)
        assert curve.lower[index] == pytest.approx(low, rel=1e-9), day
        assert curve.upper[index] == pytest.approx(high, rel=1e-9), day
    assert np.all(curve.lower <= curve.survival + 1e-15) and np.all(curve.survival <= curve.upper + 1e-15)
    assert curve.lower[0] == curve.upper[0] == 1.0


def test_narrower_confidence_gives_a_narrower_band():
    wide, narrow = kaplan_meier(DAYS, FOLLOW_UP, 0.99), kaplan_meier(DAYS, FOLLOW_UP, 0.8)
    events = wide.survival < 1
    assert np.all(narrow.lower[events] > wide.lower[events])
    assert np.all(narrow.upper[events] < wide.upper[events])


def test_an_event_on_the_last_day_counts_as_an_event_before_the_censoring():
    # mice: metastasis on day 1, metastasis on day 6 (= follow-up), one free at day 6
    curve = kaplan_meier(np.array([1.0, 6.0, NAN]), 6.0)
    assert curve.at(6.0) == pytest.approx(float(Fraction(2, 3) * Fraction(1, 2)), rel=1e-12)
    assert curve.median == 6.0


# --- median and its interval ---------------------------------------------------------


def test_median_is_the_first_day_the_curve_is_at_or_below_one_half(curve):
    by_hand = product_limit(EVENTS, 7)
    expected = min(day for day, value in by_hand.items() if value <= Fraction(1, 2))
    assert expected == 5.0
    assert curve.median == expected


def test_median_interval_is_where_the_band_edges_reach_one_half(curve):
    band = greenwood_loglog(EVENTS, 7, 0.95)
    first_low = next((day for day, (low, _) in sorted(band.items()) if low <= 0.5), None)
    first_high = next((day for day, (_, high) in sorted(band.items()) if high <= 0.5), None)
    assert first_low == 1.0 and first_high is None  # the hand-worked band: the upper edge never reaches 1/2
    assert curve.median_interval == (first_low, first_high)


def test_median_interval_brackets_the_median_on_a_larger_sample():
    rng = np.random.default_rng(11)
    days = rng.exponential(20.0, 400)
    days[days > 60] = NAN
    curve = kaplan_meier(days, 60.0)
    low, high = curve.median_interval
    assert low is not None and high is not None
    assert low < curve.median < high
    # true median of an exponential with mean 20: 20 ln 2
    assert low < 20 * math.log(2) < high


def test_median_is_none_when_more_than_half_stay_free():
    curve = kaplan_meier(np.array([3.0, 4.0, NAN, NAN, NAN]), 10.0)
    assert curve.at(10.0) == pytest.approx(3 / 5)
    assert curve.median is None


def test_median_when_exactly_half_have_metastasis_does_not_depend_on_round_off():
    # n mice, metastasis on days 1..n/2, the other half free at follow-up: S drops to exactly 1/2 on day n/2,
    # so by the curve's own definition (None only if MORE than half stay free) the median is day n/2.
    wrong = {}
    for n in range(2, 60, 2):
        days = np.full(n, NAN)
        days[: n // 2] = np.arange(1, n // 2 + 1)
        median = kaplan_meier(days, 100.0).median
        if median != n // 2:
            wrong[n] = median
    assert wrong == {}


def test_all_censored_group_stays_at_one_with_no_median():
    curve = kaplan_meier(np.full(5, NAN), 120.0)
    assert np.all(curve.survival == 1.0)
    assert np.all(curve.lower == 1.0) and np.all(curve.upper == 1.0)
    assert curve.median is None
    assert curve.median_interval == (None, None)
    assert curve.at(120.0) == 1.0 and curve.at(60.0) == 1.0
    assert curve.at_risk(120.0) == 5 and curve.at_risk(120.5) == 0
    assert len(curve.event_days) == 0 and np.array_equal(curve.censor_days, np.full(5, 120.0))


def test_group_where_every_mouse_has_metastasis_falls_to_zero():
    curve = kaplan_meier(np.array([4.0, 1.0, 3.0, 2.0]), 10.0)
    assert np.allclose(curve.survival, [1, 0.75, 0.5, 0.25, 0.0])
    assert curve.median == 2.0  # S(2) = 1/2 exactly (no round-off here: 3/4 * 2/3)
    assert curve.at(10.0) == 0.0


# --- the step function and numbers at risk --------------------------------------------


def test_at_is_a_right_continuous_step_function(curve):
    just_before = np.nextafter
    assert curve.at(-1.0) == 1.0
    assert curve.at(0.0) == 1.0
    assert curve.at(just_before(1.0, 0.0)) == 1.0
    assert curve.at(1.0) == pytest.approx(6 / 7)  # the drop belongs to the event day itself
    assert curve.at(1.5) == pytest.approx(6 / 7)
    assert curve.at(just_before(2.0, 0.0)) == pytest.approx(6 / 7)
    assert curve.at(2.0) == pytest.approx(4 / 7)
    assert curve.at(3.0) == pytest.approx(4 / 7)  # no event on day 3
    assert curve.at(5.0) == pytest.approx(3 / 7)
    assert curve.at(6.0) == pytest.approx(3 / 7)


def test_at_takes_arrays_and_keeps_their_shape(curve):
    days = np.array([[0.5, 1.0], [2.0, 5.5]])
    values = curve.at(days)
    assert values.shape == (2, 2)
    assert np.allclose(values, [[1, 6 / 7], [4 / 7, 3 / 7]])


def test_at_risk_counts_mice_still_free_and_followed(curve):
    days = np.array([0.0, 1.0, 1.5, 2.0, 2.5, 5.0, 5.5, 6.0, 6.5])
    # by hand: 7 mice; 1 leaves after day 1, 2 after day 2, 1 after day 5, 3 (censored) after day 6
    expected = [7, 7, 6, 6, 4, 4, 3, 3, 0]
    assert list(curve.at_risk(days)) == expected
    assert curve.at_risk(2.0) == 6
    assert np.ndim(curve.at_risk(2.0)) == 0


def test_censored_data_puts_metastasis_free_mice_at_the_end_of_follow_up():
    data = censored_data(DAYS, FOLLOW_UP)
    assert data.num_censored() == 3 and len(data) == 7
    assert np.array_equal(stats.ecdf(data).sf.quantiles, [1.0, 2.0, 5.0, 6.0])
    only_free = censored_data(np.full(2, NAN), 9.0)
    assert only_free.num_censored() == 2
    assert np.array_equal(stats.ecdf(only_free).sf.quantiles, [9.0])


# --- log-rank ------------------------------------------------------------------------------

GROUP_A = np.array([1.0, 3.0, 4.0, NAN, NAN, 7.0])
GROUP_B = np.array([2.0, 2.0, 5.0, 6.0, NAN, 8.0, 8.0, NAN])


def logrank_by_hand(first: np.ndarray, second: np.ndarray, follow_up: float) -> float:
    """Two-sided log-rank p from observed minus expected events and the hypergeometric variance."""
    a = np.where(np.isnan(first), follow_up, first)
    b = np.where(np.isnan(second), follow_up, second)
    a_event, b_event = ~np.isnan(first), ~np.isnan(second)
    observed = expected = variance = 0.0
    for day in np.unique(np.concatenate([a[a_event], b[b_event]])):
        n1, n2 = (a >= day).sum(), (b >= day).sum()
        d1, d2 = ((a == day) & a_event).sum(), ((b == day) & b_event).sum()
        n, d = n1 + n2, d1 + d2
        observed += d1
        expected += d * n1 / n
        if n > 1:
            variance += d * (n1 / n) * (n2 / n) * (n - d) / (n - 1)
    z = (observed - expected) / math.sqrt(variance)
    return float(2 * stats.norm.sf(abs(z)))


def test_logrank_p_is_scipys_logrank_on_the_same_censored_data():
    follow_up = 8.0
    direct = stats.logrank(
        stats.CensoredData(uncensored=[1.0, 3.0, 4.0, 7.0], right=[8.0, 8.0]),
        stats.CensoredData(uncensored=[2.0, 2.0, 5.0, 6.0, 8.0, 8.0], right=[8.0, 8.0]),
    ).pvalue
    p = logrank_p(GROUP_A, GROUP_B, follow_up)
    assert p == pytest.approx(direct, rel=1e-12)
    assert p == pytest.approx(logrank_by_hand(GROUP_A, GROUP_B, follow_up), rel=1e-9)
    assert logrank_p(GROUP_B, GROUP_A, follow_up) == pytest.approx(p, rel=1e-12)  # two-sided: symmetric


def test_logrank_p_is_small_for_clearly_different_groups():
    rng = np.random.default_rng(2)
    follow_up = 60.0
    early, late = rng.exponential(10.0, 150), rng.exponential(30.0, 150)
    early[early > follow_up] = NAN
    late[late > follow_up] = NAN
    p = logrank_p(early, late, follow_up)
    assert p is not None and p < 1e-6
    assert p == pytest.approx(logrank_by_hand(early, late, follow_up), rel=1e-6)


def test_logrank_p_is_large_for_the_same_distribution_drawn_twice():
    # Under the null hypothesis p is uniform: over 20 independent repeats, few should be below 0.05
    # (expected 1; 5 or more has probability below 0.3 %) and the average should be near 1/2.
    rng = np.random.default_rng(7)
    follow_up = 40.0
    ps = []
    for _ in range(20):
        a, b = rng.exponential(25.0, 100), rng.exponential(25.0, 100)
        a[a > follow_up] = NAN
        b[b > follow_up] = NAN
        ps.append(logrank_p(a, b, follow_up))
    assert all(p is not None for p in ps)
    assert sum(p < 0.05 for p in ps) <= 4, ps
    assert 0.3 < np.mean(ps) < 0.7, ps


def test_logrank_of_a_group_against_itself_is_one():
    assert logrank_p(GROUP_A, GROUP_A, 8.0) == pytest.approx(1.0)


def test_logrank_is_undefined_when_neither_group_has_an_event():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert logrank_p(np.full(4, NAN), np.full(6, NAN), 8.0) is None


def test_logrank_without_events_returns_none_quietly():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert logrank_p(np.full(4, NAN), np.full(6, NAN), 8.0) is None
