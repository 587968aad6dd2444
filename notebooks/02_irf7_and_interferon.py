# ---
# jupyter:
#   jupytext:
#     cell_metadata_filter: -all
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 2. Irf7 and interferon: why some breast tumours reach bone
#
# *Lesson plan, part 2 (steps 5, 6, 8 and 9). About 40 minutes.*
#
# Bidwell and colleagues (2012, *Nature Medicine*) compared mouse breast-cancer cells that reach bone
# (4T1.2) with cells that rarely do. The cells that reach bone had switched off a gene called
# [Irf7](../docs/glossary.md#irf7). Irf7 lets a cell make [type I interferon](../docs/glossary.md#type-i-interferon),
# an alarm signal. Without it the alarm is almost silent, and two kinds of immune cells that could
# kill tumour cells in bone stay weak:
# [NK cells](../docs/glossary.md#nk-cell), which act at once, and
# [CD8+ T cells](../docs/glossary.md#cd8-t-cell), which need a few days to expand but then leave
# long-lived [memory T cells](../docs/glossary.md#memory-t-cell) behind. When the authors restored
# Irf7, or injected interferon, bone metastasis came later.
#
# tumorsim follows one virtual mouse per run with nine quantities: the primary tumour (growing
# by [Gompertz growth](../docs/glossary.md#gompertz-growth)), tumour cells in the blood, the tumour burden in bone,
# NK cells, effector and memory CD8+ T cells, [MDSCs](../docs/glossary.md#mdsc) (cells a large tumour
# recruits that blunt the others), interferon, and how strongly host cells are signalling in
# response to it. The primary tumour is removed by surgery on day 14. Bone metastasis is "detected"
# when the bone burden crosses a [detection threshold](../docs/glossary.md#detection-threshold).
#
# **Honest numbers.** The paper's full text was not available. The model reproduces its
# *qualitative* findings (which group metastasizes first); the days it prints are model outputs
# from numbers chosen for teaching (`tumorsim show irf7-restored` lists each with its basis). Compare
# orderings and mechanisms with the paper, not days.

# %%
# %matplotlib inline
import dataclasses

import matplotlib.pyplot as plt
from _sliders import Slider, sliders

import sim
from sim.plotting import plot_burden, plot_state

# %% [markdown]
# ## Three mice
#
# One mouse with the Irf7-silenced tumour, one whose tumour has Irf7 restored, and one with the
# silenced tumour that is injected with interferon every 3 days from day 1 (ten doses).
#
# **Predict first:** which mouse has bone metastasis first? Does any of them stay free of it?

# %%
arms = sim.compare(["irf7-silenced", "irf7-restored", "ifn-dosed"])
print(arms.table())

# %%
ax = arms.plot()

# %% [markdown]
# Each run describes itself in a few sentences computed from the run. Read the restored mouse's:
# what happened to NK cells and CD8+ T cells before surgery?

# %%
restored = arms["irf7-restored"]
print(restored.summary())
axes = restored.plot()

# %% [markdown]
# ## Where does the protection after surgery come from?
#
# After surgery no primary tumour is left to stimulate the CD8+ T cells, so the effector cells die
# away within days. **Predict first:** which cells are still there weeks later, to stop the few
# tumour cells already in bone?

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(14, 4.5), layout="constrained")
plot_state(list(arms), "L", ax=left, title="Effector CD8+ T cells (L): they kill, and die within days")
plot_state(list(arms), "M", ax=right, title="Memory CD8+ T cells (M): long-lived")
for panel in (left, right):
    panel.set_ylim(1, None)  # below one cell: none left

# %% [markdown]
# ## Slide it: how much Irf7 is enough?
#
# The slider sets the tumour's Irf7 activity, from 0 (silenced, as in 4T1.2) to 1 (fully restored).
# The figure shows the bone burden and the interferon signalling of host cells (0 none, 1 full),
# beside the Irf7-silenced mouse for reference.
#
# **Predict first:** does half the Irf7 activity buy half the protection? Then find the smallest
# activity at which the mouse stays free of bone metastasis to day 120.

# %%
silenced = arms["irf7-silenced"]


def draw_irf7(irf7_activity):
    """Bone burden and interferon signalling of a 4T1.2 tumour with the given Irf7 activity (0-1)."""
    changed = dataclasses.replace(sim.prepare("irf7-silenced", parameters={"irf7_activity": irf7_activity}),
                                  name=f"Irf7 activity {irf7_activity:.2f}")
    run = sim.run(changed)
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 4.8), layout="constrained")
    plot_burden([silenced, run], ax=left, title=f"Bone burden, Irf7 activity {irf7_activity:.2f}")
    plot_state([silenced, run], "S", ax=right, title="Interferon signalling in host cells (S)")
    return left, right


sliders(draw_irf7, irf7_activity=Slider(0.3, 0.0, 1.0, step=0.05, label="Irf7 activity of the tumour"))

# %% [markdown]
# In the same way you can change any parameter for one run: `sim.run("irf7-restored",
# parameters={"cd8_kill_max": 0.2})` gives weaker CD8+ T cells. **Try it** in the cell below: with
# weaker CD8+ T cells, is full Irf7 activity still enough?

# %%
weak = sim.run("irf7-restored", parameters={"cd8_kill_max": 0.2})
print(weak.summary())

# %% [markdown]
# ## Interferon as a drug
#
# Interferon can be injected. But an injected dose is cleared from the body within hours (a
# half-life of about one hour in the model), while the signalling it switches on in host cells
# lasts about a day. So the schedule matters: how much, how often, and from which day.
#
# **Predict first:** the same ten doses, started on day 15 (after surgery) instead of day 1. Do they
# protect as well? And doses every 7 days instead of every 3?

# %%
def draw_doses(dose, every, start):
    """Bone burden and interferon signalling with ten interferon doses of ``dose`` IU every ``every`` days from ``start``."""
    run = sim.run("ifn-dosed", dose=dose, dose_every=every, dose_start=start)
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 4.8), layout="constrained")
    plot_burden([run, silenced], ax=left,
                title=f"Ten doses of {dose:.2g} IU every {every} days from day {start}")
    plot_state([run, silenced], "S", ax=right,
               title="Interferon signalling in host cells (S)\nticks on the time axis: doses; dotted line: surgery")
    return left, right


sliders(draw_doses,
        dose=Slider(1e5, 1e3, 1e7, step=0.25, label="dose [IU per injection]", log=True),
        every=Slider(3, 1, 7, label="days between doses"),
        start=Slider(1, 1, 40, label="first dose on day"))

# %% [markdown]
# Slide the start day past surgery (day 14). Why do late doses help so much less, even though each
# dose raises the signalling just as high? (Hint: what do CD8+ T cells need besides interferon?)
#
# ## Your turn: a small table of schedules
#
# Predict the metastasis day for each start day before you run the cell. Then change the loop to
# compare intervals (`dose_every=1, 2, 3, 7`) or doses (`dose=1e4, 1e5, 1e6`). `tumorsim doses`
# runs a whole grid of them from the command line.

# %%
for start in (1, 8, 15, 22, 29):
    run = sim.run("ifn-dosed", dose_start=start)
    when = "none by day 120" if run.metastasis_day is None else f"day {run.metastasis_day:.0f}"
    print(f"ten doses from day {start:2d}: {run.fate:10s}  bone metastasis {when}")

# %% [markdown]
# **What to take away.** In the model, the tumour's own interferon (from Irf7) or injected interferon
# given while the primary tumour is still there lets CD8+ T cells expand and leave memory cells,
# which keep bone free after surgery. The next notebook asks whether the protection acts on the
# tumour or on the host.
