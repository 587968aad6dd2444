"""Can a noisy Irf7 gene signature measured in the primary tumour tell which patients will stay free of bone metastasis longer?

Bidwell et al. 2012 scored more than 800 primary breast tumours for genes
switched on by Irf7 and found that patients with a high score stayed free of
bone metastasis longer. This script builds the model's analogue of that study
(sim.patients): every virtual "patient" is a run of the mouse-scale model whose
tumour has its own Irf7 activity, and each gets a signature score that
measures that activity with noise. The patients are split at the median score
into a high and a low group, as in the paper, and compared by Kaplan-Meier
curves and the log-rank test. The same split by the true activity (no noise)
shows how much the noise costs.

THIS IS A MODEL ANALOGUE, NOT PATIENT DATA: the "patients" are model runs,
their times are model days, and the spread of Irf7 activity and the noise of
the score (sim/data/cohorts/patients.toml) are chosen for teaching.

What to try:
  * A smaller study: --n 60. Does the signature still separate the groups?
  * A noisier signature: NOISE_SD = 3 below (the shipped file says 0.75). How
    many patients land in the wrong group, and how much closer do the curves get?
  * Other patients: --seed 2.

Run:  python experiments/patient_signature.py            (800 patients, about 5 s)
      python experiments/patient_signature.py --n 2000 --seed 3
"""

import argparse
import dataclasses

import matplotlib.pyplot as plt
import numpy as np

from sim.analysis import format_table, p_text
from sim.patients import DISCLAIMER, PatientSpec, simulate_patients
from sim.plotting import add_out_option, house_style, line_style, plot_survival, print_changes, run_script, save_script_figure
from sim.survival import kaplan_meier, logrank_p

NOISE_SD = None  # noise of the signature score; None: the value in sim/data/cohorts/patients.toml


def median_text(curve):
    """Median bone-metastasis-free time with its 95 % interval, as text."""
    if curve.median is None:
        return "not reached"
    low, high = curve.median_interval
    return f"{curve.median:.0f} ({low:.0f} to {high:.0f})" if high is not None else f"{curve.median:.0f} ({low:.0f} to -)"


def gap(high, low):
    """Difference between the medians of two groups, as text."""
    if high.median is None or low.median is None:
        return "an unknown number of days (a median was not reached)"
    return f"{high.median - low.median:.0f} days"


def same_activity(study):
    """How far apart the metastasis days of patients with nearly the same Irf7 activity lie, as text (None: too few)."""
    activity, days = study.activity, study.cohort.metastasis_day
    centre = np.median(activity)
    similar = (np.abs(np.log(activity / centre)) < np.log(1.2)) & ~study.cohort.censored
    if similar.sum() < 20:
        return None
    low, high = np.percentile(days[similar], [10, 90])
    return (f"Even at nearly the same Irf7 activity (within 20 % of the median, {centre:.2f}), the metastasis days of "
            f"the middle\n    80 % of {similar.sum()} patients span {high - low:.0f} days (day {low:.0f} to {high:.0f})")


def plot_activity(ax, study):
    """Each patient's day of bone metastasis against the true Irf7 activity of the tumour, coloured by group."""
    activity = study.cohort.sampled["irf7_activity"]
    day = np.where(study.cohort.censored, study.cohort.censor_day, study.cohort.metastasis_day)
    for i, (label, group) in enumerate([("signature high", study.high), ("signature low", ~study.high)]):
        color = line_style(i)["color"]
        reached = group & ~study.cohort.censored
        free = group & study.cohort.censored
        ax.scatter(activity[reached], day[reached], s=8, alpha=0.5, linewidths=0, color=color, label=label)
        ax.scatter(activity[free], day[free], s=18, marker="^", linewidths=0, color=color)
    # The score is the logit of the activity plus noise: without noise, a tumour with this activity scores the median.
    split = 1 / (1 + np.exp(-np.median(study.score)))
    ax.axvline(split, color="black", linestyle="--", linewidth=1,
               label=f"median score split (Irf7 activity {split:.2f} without noise)")
    ax.set_xscale("log")
    ax.set_ylim(0, study.cohort.days * 1.05)
    ax.set_xlabel("true Irf7 activity of the patient's tumour (0 silenced, 1 fully on; log scale)")
    ax.set_ylabel("model day of bone metastasis")
    ax.set_title("Each dot is one virtual patient (triangles: left follow-up without metastasis);\n"
                 "a colour on the wrong side of the dashed line: the noisy score put that patient in the other group",
                 loc="left")
    ax.legend(loc="upper left", markerscale=2)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=800, help="virtual patients (default: 800, like the paper's >800)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the random draws (default: 1)")
    add_out_option(parser)
    args = parser.parse_args()
    if args.n < 1 or args.seed < 0:
        parser.error("--n must be at least 1 and --seed at least 0")

    spec = PatientSpec.load()
    if NOISE_SD is not None:
        spec = dataclasses.replace(spec, noise_sd=NOISE_SD)
    study = simulate_patients(args.n, args.seed, spec)
    days, follow_up = study.cohort.metastasis_day, study.cohort.days
    activity = study.cohort.sampled["irf7_activity"]
    truly_high = activity > np.median(activity)  # the split a perfect, noise-free signature would make

    groups = {"signature high": study.high, "signature low": ~study.high,
              "true Irf7 high (no noise)": truly_high, "true Irf7 low (no noise)": ~truly_high}
    censor = study.cohort.censor_day  # the end of follow-up, or the day a patient was culled at the humane endpoint

    def logrank(group):
        return logrank_p(days[group], days[~group], follow_up, censor[group], censor[~group])

    curves = {label: kaplan_meier(days[members], censor[members]) for label, members in groups.items()}
    p_signature, p_true = logrank(study.high), logrank(truly_high)

    print(DISCLAIMER)
    print_changes(NOISE_SD=(spec.noise_sd, PatientSpec.load().noise_sd))
    print(f"{args.n} virtual patients, seed {args.seed}; signature noise sd {spec.noise_sd:g} (logit scale); "
          f"followed for {follow_up:g} model days.\n")
    print(format_table(("split by", "n", "median days (95% CI)", "free day 60", "free at end", "log-rank p"),
                       [[label, curve.n, median_text(curve), float(curve.at(60)), float(curve.at(follow_up)),
                         p_text(p_signature if label.startswith("signature") else p_true) if "high" in label else ""]
                        for label, curve in curves.items()]))
    print()
    wrong = np.mean(study.high != truly_high)
    high, low = curves["signature high"], curves["signature low"]
    print("What to notice:")
    if p_signature is not None and p_signature < 0.05 and (low.median or 0) < (high.median or np.inf):
        print(f"  * Patients whose tumours score high stay free of bone metastasis longer: median {median_text(high)} "
              f"vs {median_text(low)}\n    model days (log-rank p {p_text(p_signature)}), as in the clinical study.")
    else:
        print(f"  * With {args.n} patients the two groups do not differ significantly (log-rank p {p_text(p_signature)}): "
              "the study is too small\n    to show the effect. Try a larger --n.")
    swapped = study.high != truly_high
    split = np.median(activity)
    close = np.abs(np.log(activity / split)) < np.log(2)  # within a factor 2 of the median activity
    near = np.mean(close[swapped]) if swapped.any() else 0.0
    near_gap = gap(*(kaplan_meier(days[close & side], censor[close & side]) for side in (truly_high, ~truly_high)))
    print(f"  * The noise put {wrong:.0%} of the patients in the other group than their true Irf7 activity would. "
          f"Split by the score,\n    the medians differ by {gap(high, low)} (log-rank p {p_text(p_signature)}); split by "
          f"the true activity, by {gap(curves['true Irf7 high (no noise)'], curves['true Irf7 low (no noise)'])} "
          f"(p {p_text(p_true)}).\n    {near:.0%} of the swapped patients have a true activity within a factor 2 of the "
          f"median activity ({split:.2f}).\n    Among all patients that close to the split, the truly high and low "
          f"halves' medians differ by {near_gap} (right panel).")
    spread = same_activity(study)
    if spread is not None:
        print(f"  * {spread}:\n    the patients also differ in "
              f"{' and '.join(sorted(study.cohort.scenario.variability))}. A signature can predict the group's curve, "
              "not one patient's day.")

    with house_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(15, 6.2), layout="constrained")
        plot_survival([("signature high", high), ("signature low", low)], ax=left,
                      title=f"Bone-metastasis-free survival by signature group (log-rank p {p_text(p_signature)})")
        left.legend(loc="upper right")  # inside the panel, where the curves have already dropped
        left.set_xlabel("model days")
        plot_activity(right, study)
        fig.suptitle(f"MODEL ANALOGUE, NOT PATIENT DATA: {args.n} virtual patients split at the median of a noisy "
                     f"Irf7 signature score (seed {args.seed})", fontsize=12)

    save_script_figure(fig, args.out, "patient_signature")


if __name__ == "__main__":
    run_script(main)
