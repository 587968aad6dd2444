"""Metastasis-free survival: Kaplan-Meier curves and log-rank tests, from scipy.

A mouse's metastasis day is an event; a mouse still metastasis-free at the end
of follow-up is right-censored there, and a mouse culled at the humane
endpoint before any metastasis was detected is right-censored on its endpoint day. The estimator is ``scipy.stats.ecdf`` on
``scipy.stats.CensoredData``; the test is ``scipy.stats.logrank``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy import stats


def censored_data(metastasis_day: np.ndarray, follow_up: float | np.ndarray) -> stats.CensoredData:
    """Events at ``metastasis_day`` [day]; NaN means no event, censored at ``follow_up``.

    ``follow_up`` is one day for all mice, or each mouse's own censoring day
    (its endpoint day if it was culled, else the end of follow-up).
    """
    days = np.asarray(metastasis_day, float)
    event = ~np.isnan(days)
    censor = np.broadcast_to(np.asarray(follow_up, float), days.shape)
    return stats.CensoredData(uncensored=days[event], right=censor[~event])


@dataclass(frozen=True)
class SurvivalCurve:
    """Kaplan-Meier estimate of metastasis-free survival.

    Attributes
    ----------
    time : ndarray
        Days at which the estimate changes or a mouse is censored, starting with 0 [day].
    survival, lower, upper : ndarray
        Fraction metastasis-free just after each time, with its pointwise
        confidence band (log-log transform).
    event_days, censor_days : ndarray
        The observed metastasis days and censoring days [day].
    confidence : float
        Confidence level of the band, e.g. 0.95.
    """

    time: np.ndarray
    survival: np.ndarray
    lower: np.ndarray
    upper: np.ndarray
    event_days: np.ndarray
    censor_days: np.ndarray
    confidence: float

    @property
    def n(self) -> int:
        return len(self.event_days) + len(self.censor_days)

    def at(self, days: float | np.ndarray) -> np.ndarray:
        """Fraction metastasis-free at ``days`` (right-continuous step function)."""
        index = np.searchsorted(self.time, np.asarray(days, float), side="right") - 1
        return self.survival[np.maximum(index, 0)]

    def interval_at(self, days: float) -> tuple[float, float]:
        """The confidence interval of the fraction metastasis-free at ``days`` (lower, upper).

        The band's value, except where every mouse or none has had metastasis: the log-log band is undefined
        there, and the interval is Wilson's for 0 or n of the n mice (one-sided in effect, e.g. 0 to 0.004 for
        1,000 mice).
        """
        index = max(int(np.searchsorted(self.time, float(days), side="right")) - 1, 0)
        value = float(self.survival[index])
        if value in (0.0, 1.0):
            from .odds import wilson_interval

            return wilson_interval(int(value) * self.n, self.n, self.confidence)
        return float(self.lower[index]), float(self.upper[index])

    def at_risk(self, days: float | np.ndarray) -> np.ndarray:
        """Number of mice still metastasis-free and under follow-up at ``days``."""
        days = np.asarray(days, float)
        observed = np.concatenate([self.event_days, self.censor_days])
        return (observed[None, :] >= np.atleast_1d(days)[:, None]).sum(axis=1).reshape(days.shape)

    def known_at(self, days: float) -> bool:
        """Whether the fraction free at ``days`` is estimated: someone is still at risk, or none is left free.

        After the last mouse has left the study (culled, say) without metastasis the curve is only carried
        forward, and says nothing about those later days.
        """
        return bool(self.at_risk(np.array([days]))[0] > 0 or self.at(days) == 0)

    def _first_below_half(self, curve: np.ndarray) -> float | None:
        # products of fractions land a rounding error above an exact half
        below = np.flatnonzero(curve <= 0.5 + 1e-12)
        return float(self.time[below[0]]) if len(below) else None

    @property
    def median(self) -> float | None:
        """Median metastasis-free survival [day]; None if more than half stay free."""
        return self._first_below_half(self.survival)

    @property
    def median_interval(self) -> tuple[float | None, float | None]:
        """Confidence interval of the median [day] from the band (Brookmeyer-Crowley style).

        The lower end is the first day the band's lower edge reaches 0.5, the
        upper end the first day its upper edge does (None: not reached).
        """
        return self._first_below_half(self.lower), self._first_below_half(self.upper)


def kaplan_meier(metastasis_day: np.ndarray, follow_up: float | np.ndarray, confidence: float = 0.95) -> SurvivalCurve:
    """Kaplan-Meier curve of metastasis-free survival.

    Parameters
    ----------
    metastasis_day : array
        Day of metastasis of each mouse [day]; NaN if none within follow-up.
    follow_up : float or array
        Where mice without metastasis are censored [day]: the end of follow-up,
        or per mouse (the endpoint day of a culled mouse).
    confidence : float
        Level of the pointwise confidence band.
    """
    data = censored_data(metastasis_day, follow_up)
    estimate = stats.ecdf(data).sf
    with warnings.catch_warnings():
        # undefined where the estimate is still exactly 1: handled just below
        warnings.simplefilter("ignore", RuntimeWarning)
        band = estimate.confidence_interval(confidence_level=confidence, method="log-log")
    # Where the estimate is still exactly 1 the log-log band is undefined: it is 1 there.
    low = np.where(np.isnan(band.low.probabilities), estimate.probabilities, band.low.probabilities)
    high = np.where(np.isnan(band.high.probabilities), 1.0, band.high.probabilities)
    days = np.asarray(metastasis_day, float)
    return SurvivalCurve(
        time=np.concatenate([[0.0], estimate.quantiles]),
        survival=np.concatenate([[1.0], estimate.probabilities]),
        lower=np.concatenate([[1.0], low]),
        upper=np.concatenate([[1.0], high]),
        event_days=np.sort(days[~np.isnan(days)]),
        censor_days=np.sort(np.broadcast_to(np.asarray(follow_up, float), days.shape)[np.isnan(days)]),
        confidence=confidence,
    )


def logrank_p(
    first: np.ndarray,
    second: np.ndarray,
    follow_up: float,
    first_censor: np.ndarray | None = None,
    second_censor: np.ndarray | None = None,
) -> float | None:
    """Two-sided log-rank p-value between two groups' metastasis days (None if undefined).

    Mice without metastasis are censored at ``follow_up``, or at their own day
    in ``first_censor`` / ``second_censor`` when given (culled mice).
    """
    if np.all(np.isnan(first)) and np.all(np.isnan(second)):
        return None  # no events at all: nothing to compare
    result = stats.logrank(censored_data(first, follow_up if first_censor is None else first_censor),
                           censored_data(second, follow_up if second_censor is None else second_censor))
    return None if np.isnan(result.pvalue) else float(result.pvalue)

