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
# # 1. What an ODE model is: immune control or escape?
#
# *Lesson plan, part 1 (steps 1 and 2). About 30 minutes.*
#
# An [ordinary differential equation](../docs/glossary.md#ordinary-differential-equation) (ODE) model
# says how fast each quantity changes, given how large every quantity is right now. Start from
# today's numbers, step forward a little at a time, and you get the whole future: that is all a
# simulation does.
#
# This notebook uses the smallest tumour–immune model there is, by Kuznetsov and colleagues (1994).
# It has two quantities, counted in cells:
#
# * **E**, effector cells: immune cells that can kill tumour cells;
# * **T**, tumour cells.
#
# ```
# dE/dt = s + p·E·T/(g + T) − m·E·T − d·E      supply, recruitment by the tumour, inactivation, death
# dT/dt = a·T·(1 − b·T)     − n·E·T            growth up to a carrying capacity 1/b, killing by effectors
# ```
#
# The authors fitted these equations to a mouse lymphoma (BCL1). The full paper was not available
# to us: the values come from public code that cites it (marked `public-code` by `tumorsim show
# kuznetsov1994`). Treat them as a good example, not as a measurement.
#
# **How to use these notebooks.** Run each cell in order (Shift+Enter). Where a cell says
# *predict first*, write your guess down before you run it. Change the numbers and run again: you
# cannot break anything.

# %%
# %matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from _sliders import Slider, sliders

import sim
from sim.equilibria import find_equilibria
from sim.phase import phase_portrait
from sim.plotting import plot_phase_portrait, plot_state

# %% [markdown]
# ## A first run
#
# The scenario `kuznetsov1994` starts with 5 million tumour cells and effectors at their normal,
# tumour-free level. **Predict first:** in 400 days, will the tumour be larger, smaller, or about
# the same?

# %%
first = sim.run("kuznetsov1994", days=400, every=1)
axes = first.plot()

# %% [markdown]
# The tumour neither grows without limit nor disappears: it swings up and down and settles. To see
# why, look at the rates themselves. The model is a function: give it a state (E, T), and it returns
# how fast E and T change, in cells per day. A positive rate means "growing now", a negative one
# "shrinking now".
#
# **Predict first:** at the start (few effectors, 5 million tumour cells) which of the two grows?
# And once the effectors have been recruited (1.6 million), with 5 or 30 million tumour cells?

# %%
model = sim.get_model("kuznetsov1994")
published = sim.load_scenario("kuznetsov1994").parameters.values_dict()
normal_effectors = published["s"] / published["d"]  # supply / death: the level of E without a tumour

for effectors, tumour in [(normal_effectors, 5e6), (1.6e6, 5e6), (1.6e6, 3e7)]:
    effector_rate, tumour_rate = model.rhs(0.0, np.array([effectors, tumour]), published)
    print(f"E = {effectors:7.2g}, T = {tumour:7.2g} cells:   dE/dt = {effector_rate:+10.3g},   "
          f"dT/dt = {tumour_rate:+10.3g} cells/day")

# %% [markdown]
# ## Where the model comes to rest: equilibria
#
# An [equilibrium](../docs/glossary.md#equilibrium) is a state where every rate is zero, so nothing
# changes any more. Whether a model drifts back to an equilibrium after a small push (stable) or away
# from it (unstable) is decided by the [eigenvalues](../docs/glossary.md#eigenvalue) of the model at that
# point: all negative real parts mean stable.
#
# **Predict first:** how many places can the tumour and the effectors come to rest? The same table
# comes from the command line: `tumorsim equilibria kuznetsov1994`.

# %%
for point in find_equilibria(model, published):
    print(f"E = {point.state['E']:9.3g}  T = {point.state['T']:9.3g}   {point.type}")

# %% [markdown]
# Two of them are stable:
#
# * a **stable focus** with a few million tumour cells held in check by many effectors:
#   [dormancy](../docs/glossary.md#dormancy), immune control;
# * a **stable node** near the carrying capacity with few effectors left: escape.
#
# (Focus and node: see [stable focus and stable node](../docs/glossary.md#stable-focus-and-stable-node).)
# Between them sits a [saddle point](../docs/glossary.md#saddle-point): a balance that only a tumour
# starting exactly on the right curve reaches. The tumour-free state (T = 0) is a saddle too: one
# tumour cell grows at first, so the immune system controls this tumour but never removes it.

# %% [markdown]
# ## The phase portrait
#
# A [phase portrait](../docs/glossary.md#phase-portrait) draws the rates as a flow in the (E, T)
# plane, the way a weather map draws the wind. On it:
#
# * grey streamlines show where every starting point is carried;
# * the dash-dotted lines are the [nullclines](../docs/glossary.md#nullcline), where one of the two rates is
#   zero; equilibria sit where they cross;
# * the thick dashed line is the [separatrix](../docs/glossary.md#separatrix), the curve that runs
#   into the saddle. It splits the plane: every start on one side ends dormant, every start on the
#   other escapes.
#
# The glossary has a longer primer: [reading a phase portrait](../docs/glossary.md#reading-a-phase-portrait).
#
# **Predict first:** a mouse is injected with tumour cells while its effectors are at their normal
# level s/d (the dotted line in the figure below). Will 3e7 injected cells end dormant? And 3e8?

# %%
portrait = phase_portrait(model, published, x_range=(0, 3e6), y_range=(1e4, 3e9),
                          starts=[(normal_effectors, 3e7), (normal_effectors, 3e8)], duration=1000)
ax = plot_phase_portrait(portrait, title="Kuznetsov et al. (1994): effector cells against tumour cells")
line = ax.axvline(normal_effectors / 1e6, color="0.3", linewidth=0.8, linestyle=":")

# %% [markdown]
# ## Slide it: the size of the inoculum, and how fast effectors die
#
# The sliders below redraw the portrait with one trajectory starting from the inoculum you choose
# (effectors at their normal level s/d), and the same run over time on the right. The figure is
# redrawn when you let go of a slider.
#
# **Predict first**, then slide:
#
# 1. Find the smallest inoculum that escapes. Is it the saddle's tumour size, or smaller? Why might
#    a tumour start below the saddle and still escape?
# 2. Make effectors die faster (`d` from 0.0412 to 0.05 per day). Does the dormant state survive?
#    What happens to the separatrix?

# %%
def draw_inoculum(tumour_cells, effector_death):
    """Phase portrait and tumour size over time, from ``tumour_cells`` injected, effectors at s/d."""
    params = {**published, "d": effector_death}
    effectors = params["s"] / params["d"]
    portrait = phase_portrait(model, params, x_range=(0, 3e6), y_range=(1e4, 3e9), starts=[(effectors, tumour_cells)],
                              duration=1000)
    run = sim.run("kuznetsov1994", parameters={"d": effector_death}, initial={"E": effectors, "T": tumour_cells},
                  days=1000, every=1)
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5.8), layout="constrained")
    plot_phase_portrait(portrait, ax=left, title=f"Phase portrait, d = {effector_death:.3g} per day")
    plot_state([run], "T", ax=right, title=f"{tumour_cells:.2g} tumour cells injected")
    return left, right


sliders(draw_inoculum,
        tumour_cells=Slider(3e7, 1e5, 1e9, step=0.05, label="tumour cells injected", log=True),
        effector_death=Slider(0.0412, 0.02, 0.08, step=0.002, label="effector death rate d [1/day]"))

# %% [markdown]
# ## Your turn
#
# * Change one parameter in the cell below and predict its effect first: a slower-growing tumour
#   (`"a": 0.12`), or effectors that are recruited more strongly (`"p": 0.2`). Which equilibria move,
#   which appear or disappear?
# * From the command line the same questions read `tumorsim equilibria kuznetsov1994 --set d=0.05`
#   and `tumorsim run kuznetsov1994 --init T=1e8`.
# * Why is a model with two stable states (bistable) a good picture of "the immune system holds some
#   tumours in check for years, and loses others"?

# %%
changes = {"a": 0.12}
for point in find_equilibria(model, {**published, **changes}):
    print(f"E = {point.state['E']:9.3g}  T = {point.state['T']:9.3g}   {point.type}")

# %% [markdown]
# **What to take away.** An ODE model is a list of rates. Its equilibria, and which of them are
# stable, tell you where it can end up; the phase portrait tells you which start ends where. The
# next notebook uses the same ideas in a larger model (nine quantities instead of two) that follows
# the experiments of Bidwell et al. (2012) on Irf7 and bone metastasis.
