# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.7
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 4. Groups of mice: survival curves and the log-rank test
#
# *Lesson plan, part 3 (step 12). About 30 minutes.*
#
# So far each run was one typical mouse. Real mice differ, and the paper followed groups of them.
# Its main result is a curve of **metastasis-free survival**: the fraction of mice in each group
# still free of bone metastasis on each day.
#
# tumorsim makes a [virtual cohort](../docs/glossary.md#virtual-cohort): N model mice per group,
# each drawing its own value of two parameters that differ between animals, how many circulating
# tumour cells settle in its bone and how fast its primary tumour grows. The spreads of these draws
# are teaching choices, declared in the model's parameter file; the mice are model mice, not data.
#
# Two words before we start:
#
# * [Censoring](../docs/glossary.md#censoring). A mouse still free of metastasis when the follow-up
#   ends, or culled at the humane endpoint first, does not tell us *when* it would have had
#   metastasis, only that it had none until then. It is counted as "free so far" and then leaves the
#   count.
# * The [Kaplan-Meier curve](../docs/glossary.md#kaplan-meier-curve) uses every mouse for as long as
#   it was followed: on each day on which mice have metastasis, the curve drops by the fraction of the
#   mice still at risk that day.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from _sliders import Slider, sliders

import sim
from sim.cohort import simulate_cohort
from sim.plotting import plot_survival

ARMS = ["irf7-silenced", "irf7-restored", "ifn-dosed", "irf7-silenced-ifnar-ko"]

# %% [markdown]
# ## 200 mice per group
#
# **Predict first:** do all 200 Irf7-restored mice stay free of bone metastasis, as the single
# typical mouse did? The `seed` fixes the random draws: the same seed gives the same mice again.

# %%
cohorts = {arm: simulate_cohort(arm, n=200, seed=1, workers=1) for arm in ARMS}
for arm, cohort in cohorts.items():
    fates = {fate: int(np.sum(cohort.fates == fate)) for fate in ("metastasis", "culled", "free")}
    print(f"{arm:24s} {fates}")

# %% [markdown]
# Every mouse has its own day. Here are the days of the Irf7-silenced and Irf7-restored mice; the
# mice that stayed free are not in the histogram.

# %%
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
for arm in ("irf7-silenced", "irf7-restored"):
    days = cohorts[arm].metastasis_day
    ax.hist(days[~np.isnan(days)], bins=np.arange(0, 125, 3), alpha=0.6, label=arm)
ax.set_xlabel("day of bone metastasis")
ax.set_ylabel("mice")
legend = ax.legend()

# %% [markdown]
# The Kaplan-Meier curves turn these days into the fraction still free on each day. The shaded band
# is a 95 % [confidence interval](../docs/glossary.md#confidence-interval): the range in which the
# true curve plausibly lies, given that we saw only these mice. A + marks mice still free when the
# follow-up ends (censored). The numbers under the axes are the mice still at risk.

# %%
ax = plot_survival([(arm, cohort.survival()) for arm, cohort in cohorts.items()])

# %% [markdown]
# ## Do two groups really differ? The log-rank test
#
# The [log-rank test](../docs/glossary.md#log-rank-test) asks: if both groups had the same risk of
# metastasis on every day (the same [hazard](../docs/glossary.md#hazard)), how surprising would
# the difference we see be? Its answer is a [p-value](../docs/glossary.md#p-value): small means "hard
# to explain by luck". It says *whether* curves differ, not by how many days: read the medians too.

# %%
reference = cohorts["irf7-silenced"]
for arm, cohort in cohorts.items():
    if arm != "irf7-silenced":
        curve = cohort.survival()
        median = "not reached" if curve.median is None else f"{curve.median:.1f} days"
        print(f"{arm:24s} median {median:12s}  log-rank p against irf7-silenced = {cohort.logrank_p(reference):.2g}")

# %% [markdown]
# ## Slide it: how many mice do you need?
#
# Real experiments use groups of about 10 to 20 mice. The sliders set the group size and the seed (a
# new seed is a new set of mice). The legend gives each group's log-rank p-value against
# `irf7-silenced`.
#
# **Predict first**, then slide: with 10 mice per group, which differences stay clear (p below 0.05
# for every seed you try) and which become a matter of luck? How wide are the bands now?

# %%
def draw_cohorts(mice, seed):
    """Kaplan-Meier curves of ``mice`` model mice per arm drawn with ``seed``, log-rank p against irf7-silenced."""
    drawn = {arm: simulate_cohort(arm, n=mice, seed=seed, workers=1) for arm in ARMS}
    labels = {arm: arm if arm == ARMS[0] else f"{arm}, p = {drawn[arm].logrank_p(drawn[ARMS[0]]):.2g}" for arm in ARMS}
    return plot_survival([(labels[arm], cohort.survival()) for arm, cohort in drawn.items()],
                         title=f"{mice} mice per group, seed {seed} (p: log-rank test against {ARMS[0]})")


sliders(draw_cohorts,
        mice=Slider(20, 5, 500, step=5, label="mice per group"),
        seed=Slider(1, 1, 20, label="seed (which mice)"))

# %% [markdown]
# ## 20 mice with the same parameters: why did some stay free?
#
# The 200 mice above differ in two parameters *and* in luck. Now luck alone: 20 Irf7-restored mice,
# operated on day 10 instead of 14, with exactly the same parameters, differing only in their chance
# draws (the `seed` of each run).
# With `chance=True`, while the bone holds fewer than 200 tumour cells, tumorsim counts them one by
# one: cells arrive from the blood, divide and die at random, at the rates of the model's equations
# ([docs/model.md](../docs/model.md), "Chance in the bone").
#
# **Predict first:** will all 20 mice share one fate? If not, what tells the two kinds apart?

# %%
SURGERY = 10
twenty = [sim.run("irf7-restored", surgery=SURGERY, chance=True, seed=seed, replicates=0) for seed in range(20)]
fig, ax = plt.subplots(figsize=(9, 4), layout="constrained")
for run in twenty:
    ax.plot(run.time, np.maximum(run["B"], 0.5), color="#D55E00" if run.fate == "metastasis" else "#0072B2",
            lw=1, alpha=0.7)
ax.set_yscale("log")
ax.set_xlabel("day")
ax.set_ylabel("bone tumour cells (0 drawn at 0.5)")
ax.set_title(f"20 Irf7-restored mice operated on day {SURGERY}: same parameters, different chance draws")
ax.plot([], [], color="#D55E00", label="bone metastasis")
ax.plot([], [], color="#0072B2", label="stayed free")
legend = ax.legend()

fates = [run.fate for run in twenty]
print({fate: fates.count(fate) for fate in sorted(set(fates))})
for fate in sorted(set(fates)):
    runs = [run for run in twenty if run.fate == fate]
    at_surgery = [float(np.interp(SURGERY, run.time, run["B"])) for run in runs]
    print(f"{fate}: bone cells on day {SURGERY} (surgery) from {min(at_surgery):.0f} to {max(at_surgery):.0f}")

# %% [markdown]
# Every mouse met the same immune response, so what differed was luck in the bone. A lodged cell that
# divides about as often as it is killed founds a colony by a coin toss at every division: most
# colonies die out within days, a few grow. Compare the bone cells on the day of surgery printed above
# for the mice of each fate. How many mice of 20 would you need to tell an arm where 90 % stay free from
# one where 80 % do?
#
# One run tells you its mouse's fate; `sim.run("irf7-restored", surgery=10, chance=True, seed=3).odds`
# also solves 200 more mice with the same parameters and says how often each fate came up, with a 95 %
# interval. With surgery on day 14, as in the shipped arm, how often does a mouse stay free?

# %% [markdown]
# ## Your turn
#
# * `cohort.summary()` gives the headline numbers of one group: the median with its 95 % interval and
#   how many mice ended each way. Print it for `ifn-dosed` at 20 mice and at 500.
# * Mice that differ less: `python experiments/cohort_survival.py` has a setting `SEEDING_SPREAD`
#   (how much bone seeding differs between mice). Which curves get steeper when it is smaller?
# * Do Irf7 restoration and interferon injections protect equally well? Test the two against each
#   other: `cohorts["irf7-restored"].logrank_p(cohorts["ifn-dosed"])`, at 200 mice and at 20.
# * From the command line: `tumorsim cohort irf7-silenced irf7-restored --n 20 --seed 3`.

# %%
simulate_cohort("ifn-dosed", n=20, seed=1, workers=1).summary()

# %% [markdown]
# **What to take away.** A survival curve is built from individual mice, each with its own day, and
# mice that leave the study early still count for the days they were followed. A p-value says
# whether two curves differ beyond luck; with small groups, real differences can be missed. The
# last notebook asks how much the model's conclusions depend on its guessed numbers.
