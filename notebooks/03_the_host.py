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
# # 3. The host: does the protection act on the tumour or on the mouse?
#
# *Lesson plan, part 2 (steps 7, 10 and 11). About 40 minutes.*
#
# Restoring Irf7 changes the tumour cells. But interferon does its work by binding a receptor on
# the *host's* cells, [Ifnar1](../docs/glossary.md#ifnar1). Bidwell and colleagues tested this in
# two ways:
#
# * mice without the receptor ([knockout](../docs/glossary.md#knockout) mice, written Ifnar1-/-);
# * mice given an antibody that removes NK cells or CD8+ T cells for a while
#   ([depletion](../docs/glossary.md#depletion)).
#
# If the protection needs the host's receptor and its immune cells, it acts through the host.
# As in the previous notebook, every number here is a model output from parameters chosen for
# teaching; compare orderings with the paper, not days.

# %%
# %matplotlib inline
import dataclasses

import matplotlib.pyplot as plt
from _sliders import Slider, sliders

import sim
from sim.plotting import plot_burden, plot_state

# %% [markdown]
# ## Mice without the interferon receptor
#
# **Predict first:** in Ifnar1-/- mice, does the Irf7-restored tumour still metastasize later than
# the silenced one? The tumour still makes its interferon.

# %%
receptor = sim.compare(["irf7-silenced", "irf7-restored", "irf7-silenced-ifnar-ko", "irf7-restored-ifnar-ko"])
print(receptor.table())

# %%
ax = receptor.plot()

# %% [markdown]
# Irf7 does nothing without the receptor: the interferon is there, but no host cell can hear it.
# A second surprise: Ifnar1-/- mice do *worse* than wild-type mice even against the silenced tumour.
# The host also makes some interferon itself when it senses a tumour. **Try it:** switch the host's
# own production off in every arm (`host_ifn_production = 0`). Does the difference between
# `irf7-silenced` and `irf7-silenced-ifnar-ko` remain?

# %%
no_host_ifn = sim.compare(["irf7-silenced", "irf7-silenced-ifnar-ko"], parameters={"host_ifn_production": 0})
print(no_host_ifn.table())

# %% [markdown]
# ## Removing NK cells or CD8+ T cells
#
# **Predict first:** the antibody that removes NK cells, given from day 0 to day 60 to mice with
# the Irf7-restored tumour. Is the protection lost completely, partly, or not at all? And for CD8+
# T cells?

# %%
depleted = sim.compare(["irf7-restored", "irf7-restored-nk-depleted", "irf7-restored-cd8-depleted"])
ax = depleted.plot()
print(depleted.table())

# %% [markdown]
# ## Slide it: when are NK and CD8+ cells needed?
#
# Choose the days on which each antibody is given (a window of length 0 means no antibody). The
# figure shows the bone burden of an Irf7-restored mouse with your antibody schedule, beside the
# untreated Irf7-restored mouse, and the NK and effector CD8+ cells (grey bands: antibody given).
#
# **Predict first**, then slide: is it worse to lose NK cells before surgery (days 0 to 14) or after
# (days 20 to 60)? And CD8+ T cells?

# %%
restored = depleted["irf7-restored"]


def draw_depletion(nk_days, cd8_days):
    """Bone burden, NK and CD8+ cells of an Irf7-restored mouse with antibodies on the given (start, stop) days."""
    windows = [f"{cells}:{start}-{stop}" for cells, (start, stop) in (("nk", nk_days), ("cd8", cd8_days))
               if stop > start]
    label = ", ".join(f"anti-{w.upper().replace(':', ' days ')}" for w in windows) or "no antibody"
    run = sim.run(dataclasses.replace(sim.prepare("irf7-restored", deplete=windows or ["none"]), name=label))
    fig, axes = plt.subplots(1, 3, figsize=(18, 4.8), layout="constrained")
    plot_burden([run, restored], ax=axes[0], title="Bone burden")
    plot_state([run, restored], "N", ax=axes[1], title="NK cells (N)")
    plot_state([run, restored], "L", ax=axes[2], title="Effector CD8+ T cells (L)").set_ylim(1, None)
    return axes


sliders(draw_depletion,
        nk_days=Slider((0, 60), 0, 120, label="anti-NK antibody on days"),
        cd8_days=Slider((0, 0), 0, 120, label="anti-CD8 antibody on days"))

# %% [markdown]
# ## A line that rarely reaches bone: 66cl4
#
# 66cl4 cells come from the same mouse tumour as 4T1.2 but rarely reach bone, and they keep Irf7.
# The paper knocked Irf7 down in them ([knockdown](../docs/glossary.md#knockdown): the gene is
# turned down, not removed).
#
# **Predict first:** does the knockdown make 66cl4 metastasize?

# %%
line_66cl4 = sim.compare(["66cl4", "66cl4-irf7-knockdown"])
ax = line_66cl4.plot()
print(line_66cl4.table())

# %% [markdown]
# ## Slide it: when should the primary tumour be removed?
#
# The surgery day moves for both the Irf7-silenced and the Irf7-restored mouse. The right panel
# shows the primary tumour: a mouse whose primary reaches the
# [humane endpoint](../docs/glossary.md#humane-endpoint) (about 1.5 cm³) is culled, and its run stops.
#
# **Predict first:** does a later operation help the silenced tumour? The restored one? What is the
# latest day on which you can still operate?

# %%
def draw_surgery(day):
    """Bone burden and primary tumour of Irf7-silenced and Irf7-restored mice operated on ``day``."""
    runs = sim.compare(["irf7-silenced", "irf7-restored"], surgery=day)
    fig, (left, right) = plt.subplots(1, 2, figsize=(15, 4.8), layout="constrained")
    plot_burden(list(runs), ax=left, title=f"Bone burden, surgery on day {day}")
    plot_state(list(runs), "P", ax=right, title="Primary tumour (P); fates: " + ", ".join(f"{r.name} {r.fate}" for r in runs))
    right.axhline(runs[0].parameters["endpoint_burden"], color="black", linestyle="--", linewidth=1, label="humane endpoint")
    right.set_xlim(0, 60)
    right.legend(loc="lower right")
    return left, right


sliders(draw_surgery, day=Slider(14, 5, 40, label="surgery on day"))

# %% [markdown]
# ## Your turn
#
# * A mouse that is never operated on: `sim.run("irf7-restored", surgery="none")`. How does its run
#   end, and why can it not stay free?
# * Operating late lets the primary tumour recruit more [MDSCs](../docs/glossary.md#mdsc), which
#   blunt NK and CD8+ cells. Switch that off (`parameters={"mdsc_expansion": 0}`) in `draw_surgery`'s
#   `sim.compare` call, or in the cell below, and slide the surgery day again.

# %%
never = sim.run("irf7-restored", surgery="none")
print(never.summary())

# %% [markdown]
# **What to take away.** The model's protection needs the host: its interferon receptor, its NK
# cells and its CD8+ T cells. The tumour's Irf7 only raises the alarm. So far each run was one
# "typical" mouse; the next notebook follows groups of mice that differ from each other, as in the
# paper's survival curves.
