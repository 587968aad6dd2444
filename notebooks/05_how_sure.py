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
# # 5. How sure is the model?
#
# *Lesson plan, part 3 (steps 14 and 15). About 40 minutes.*
#
# Most numbers in the Irf7 model are guesses made for teaching: the paper's full text was not
# available, and many rates have never been measured in mice. `tumorsim show irf7-silenced` marks
# each parameter with its basis (`literature`, `teaching`, ...). A model built on guesses is only
# useful if we know which guesses matter. Two questions:
#
# 1. **Which numbers decide when bone metastasis appears?**
#    [Sensitivity](../docs/glossary.md#sensitivity) analysis changes the parameters and watches the
#    metastasis day.
# 2. **Do the paper's findings survive other guesses?** A robustness check reruns every finding
#    ("this group metastasizes before that one") with the parameters changed.
#
# The analyses below use small samples so that the notebook runs in seconds; the text says where a
# larger one would change the picture.

# %%
# %matplotlib inline
import dataclasses

from _sliders import Slider, sliders

import sim
from sim.plotting import plot_burden, plot_robustness, plot_sobol, plot_tornado
from sim.robustness import check_robustness
from sim.sensitivity import local_sensitivity, sobol_analysis

# %% [markdown]
# ## One parameter at a time: local sensitivity
#
# Nudge each parameter by 1 % and see how much the metastasis day of the typical Irf7-silenced mouse
# moves. The normalised sensitivity S is the % change in the metastasis day per 1 % change in the
# parameter: S = −1 means 1 % more brings metastasis 1 % earlier. A
# [tornado chart](../docs/glossary.md#tornado-chart) ranks them.
#
# **Predict first:** which parameter moves the day most: how fast tumour cells grow in bone, how
# well NK cells kill, or how fast the primary tumour grows?

# %%
local = local_sensitivity("irf7-silenced", workers=1)
print(local.table(8))
ax = plot_tornado(local, top=12)

# %% [markdown]
# Local sensitivity is cheap, but it only looks at one point: the guessed values. If a guess is off
# by a factor of 3, the ranking there may be different.
#
# ## All uncertain parameters at once: Sobol indices
#
# For the most uncertain parameters the model's parameter file declares a plausible range. A global analysis draws
# all of them together from those ranges many times and asks what share of the spread (the
# variance) in the metastasis day each one explains: a [Sobol index](../docs/glossary.md#sobol-index).
# The *first-order* index is its share alone; the *total* index adds its share through interactions
# with the others. The glossary explains more: [what a Sobol index means](../docs/glossary.md#what-a-sobol-index-means).
#
# `n` is the number of base samples (a power of 2); the analysis runs n × (parameters + 2) model
# mice, as its title says. With n = 64 the whiskers (bootstrap intervals) are wide. Rerun it with
# `n=512` if you have time: do the top ranks change, or only the whiskers?

# %%
sobol = sobol_analysis("irf7-silenced", n=64, seed=1)
ax = plot_sobol(sobol)
print("\n".join(sobol.sentences()))

# %% [markdown]
# ## Slide it: two parameters that act as a pair
#
# The growth rate of tumour cells in bone tops both rankings. What it competes with depends on the
# mouse: in an Irf7-restored mouse, CD8+ T cells kill tumour cells in bone. Can they kill them
# faster than those cells divide? The sliders move the largest CD8+ kill rate and the growth rate
# in bone across their declared ranges; the solid line is the Irf7-restored mouse at the guessed
# values.
#
# **Predict first:** is there a kill rate that protects whatever the growth rate? Find the border
# between "no metastasis" and "metastasis" by sliding. Why would a total Sobol index be much larger
# than the first-order one for such a pair?

# %%
def draw_pair(cd8_kill_max, bone_growth_rate):
    """Bone burden of an Irf7-restored mouse with the given CD8+ kill and bone growth rates [1/day]."""
    changed = dataclasses.replace(
        sim.prepare("irf7-restored", parameters={"cd8_kill_max": cd8_kill_max, "bone_growth_rate": bone_growth_rate}),
        name=f"kill {cd8_kill_max:.2f}/day, growth {bone_growth_rate:.2f}/day")
    return plot_burden([sim.run("irf7-restored"), sim.run(changed)],
                       title="Bone burden of an Irf7-restored mouse: CD8+ killing against growth in bone")


sliders(draw_pair,
        cd8_kill_max=Slider(0.4, 0.2, 0.8, step=0.01, label="largest CD8+ kill rate [1/day]"),
        bone_growth_rate=Slider(0.5, 0.35, 0.7, step=0.01, label="growth rate in bone [1/day]"))

# %% [markdown]
# ## Do the paper's findings survive? Robustness
#
# The paper's findings are written down as data (`sim/data/conclusions/bidwell2012.toml`): as
# orderings ("this group metastasizes before that one"), differences ("at least 0.4 more mice free
# on day 60") and delays ("a median at least 2 days later"). The check below tests each one on
# cohorts of mice with chance in the bone
#
# * at the guessed values;
# * with every parameter halved, then doubled, one at a time;
# * over a [Latin hypercube sample](../docs/glossary.md#latin-hypercube-sample) of the declared
#   ranges and of the schedule (surgery day, dose start and size, depletion window): all uncertain
#   numbers varied at once, spread evenly over their ranges.
#
# Some conclusions cannot fail in this model, whatever the numbers: interferon only ever helps the
# immune cells, and a depletion only removes killers. The check marks those "by construction" and
# does not count them as evidence. Here with 32 samples of 50 mice per group (about 5 s);
# `tumorsim robustness --n 256 --mice 200` takes longer and gives steadier percentages.
#
# **Predict first:** which conclusions do you expect to hold whatever the numbers, and which could
# fail?

# %%
robustness = check_robustness(n=32, mice=50, seed=1)
print(robustness.table())
print()
print("\n".join(robustness.sentences()))
axes = plot_robustness(robustness)

# %% [markdown]
# ## Your turn
#
# * Weaker CD8+ T cells in every group: `check_robustness(n=32, mice=50, seed=1, changes={"cd8_kill_max": 0.3})`.
#   Which conclusions break, and which cannot?
# * Slower growth in bone: `changes={"bone_growth_rate": 0.3}`. Which size of protection fails even at
#   the guessed values, and why?
# * Which single number would you measure first in the lab, and what would it buy? (Look at the
#   first-order indices.)

# %%
weak_cd8 = check_robustness(n=32, mice=50, seed=1, changes={"cd8_kill_max": 0.3})
print(weak_cd8.table())

# %% [markdown]
# **What to take away.** A model's conclusions are only as good as the numbers under them; a
# sensitivity analysis shows which numbers matter, and a robustness check shows whether a conclusion
# depends on a lucky guess. A conclusion that the wiring guarantees is no evidence at all. Quote a
# range of days, not one number, and say which findings hold across the ranges.
