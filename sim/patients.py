"""Virtual patients: Irf7 activity varies, a noisy signature score splits them.

The model's analogue of the clinical result of Bidwell et al. 2012 (>800
patients: high Irf7-regulated gene expression, longer bone-metastasis-free
survival). Every "patient" is a run of the mouse-scale model with its own
Irf7 activity and the cohort's usual spread of other parameters; a signature
score measured with noise splits them at its median into high and low
groups, compared by Kaplan-Meier and the log-rank test. Not patient data.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from .cohort import Cohort, check_mice, check_seed, parameter_stream, simulate_cohort
from .errors import InputError
from .parameters import DATA, checked_number, read_toml, reject_unknown_keys
from .scenarios import Scenario, load_scenario
from .survival import SurvivalCurve, kaplan_meier, logrank_p

PATIENTS_FILE = DATA / "cohorts" / "patients.toml"
DISCLAIMER = "Model analogue of the clinical signature result, not patient data: 'patients' are model runs in model days."


@dataclass(frozen=True)
class PatientSpec:
    """How virtual patients are drawn (see ``sim/data/cohorts/patients.toml``)."""

    scenario: Scenario
    activity_median: float
    activity_sigma: float
    noise_sd: float
    source: Path

    @classmethod
    def load(cls, path: Path | str = PATIENTS_FILE) -> PatientSpec:
        path = Path(path)
        data = read_toml(path)
        where = str(path)
        reject_unknown_keys(data, {"description", "scenario", "irf7_activity", "signature"}, where)
        for key in ("scenario", "irf7_activity", "signature"):
            if key not in data:
                raise InputError(f"{where}: missing key '{key}'")
        activity, signature = data["irf7_activity"], data["signature"]
        reject_unknown_keys(activity, {"median", "sigma", "rationale"}, f"{where}: irf7_activity")
        reject_unknown_keys(signature, {"noise_sd", "rationale"}, f"{where}: signature")
        median = checked_number(activity.get("median"), f"{where}: irf7_activity.median")
        if not 0 < median < 1:
            raise InputError(f"{where}: irf7_activity.median must be between 0 and 1, not {median:g}")
        return cls(
            scenario=load_scenario(data["scenario"]),
            activity_median=median,
            activity_sigma=checked_number(activity.get("sigma"), f"{where}: irf7_activity.sigma"),
            noise_sd=checked_number(signature.get("noise_sd"), f"{where}: signature.noise_sd"),
            source=path,
        )


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


@dataclass(frozen=True)
class PatientStudy:
    """Virtual patients, their signature scores and metastasis days.

    Attributes
    ----------
    cohort : Cohort
        The model runs; ``cohort.sampled["irf7_activity"]`` is each patient's true activity.
    score : ndarray
        The noisy signature score of each patient (logit scale).
    high : ndarray of bool
        True for patients with a score above the median.
    """

    cohort: Cohort
    score: np.ndarray
    high: np.ndarray

    @property
    def activity(self) -> np.ndarray:
        """Each patient's true Irf7 activity (0-1)."""
        return self.cohort.sampled["irf7_activity"]

    def curves(self) -> dict[str, SurvivalCurve]:
        """Kaplan-Meier curves of the high- and low-signature groups."""
        days, follow_up = self.cohort.metastasis_day, self.cohort.days
        return {"signature high": kaplan_meier(days[self.high], follow_up),
                "signature low": kaplan_meier(days[~self.high], follow_up)}

    def p_logrank(self) -> float | None:
        days = self.cohort.metastasis_day
        return logrank_p(days[self.high], days[~self.high], self.cohort.days)

    def summary(self) -> dict[str, Any]:
        """Group sizes, medians, fractions free at the end, log-rank p; with the disclaimer."""
        groups = {}
        for label, curve in self.curves().items():
            groups[label] = {
                "n": curve.n,
                "median_days": curve.median,
                "median_ci": list(curve.median_interval),
                "metastasis_free_fraction": float(curve.at(self.cohort.days)),
            }
        return {
            "note": DISCLAIMER,
            "n": self.cohort.n,
            "seed": self.cohort.seed,
            "days": self.cohort.days,
            "scenario": self.cohort.name,
            "score_median": float(np.median(self.score)),
            "groups": groups,
            "p_logrank": self.p_logrank(),
            "version": self.cohort.version,
        }


def simulate_patients(n: int, seed: int, spec: PatientSpec | None = None, days: float | None = None,
                      workers: int | None = None) -> PatientStudy:
    """Draw ``n`` virtual patients with ``seed``, solve them and split them by signature score."""
    n, seed = check_mice(n, "n"), check_seed(seed)
    spec = spec or PatientSpec.load()
    scenario = spec.scenario if days is None else spec.scenario.with_changes(days=days)
    cap = scenario.parameters["irf7_activity"].maximum or 1.0
    z = parameter_stream(seed, scenario.name, "irf7_activity").standard_normal(n)
    activity = cap / (1.0 + np.exp(-(_logit(spec.activity_median) + spec.activity_sigma * z)))
    cohort = simulate_cohort(scenario, n, seed, extra={"irf7_activity": activity}, workers=workers)
    noise = parameter_stream(seed, scenario.name, "signature-noise").standard_normal(n)
    score = np.log(activity / (cap - activity)) + spec.noise_sd * noise
    return PatientStudy(cohort=cohort, score=score, high=score > np.median(score))
