"""Can the immune system hold a tumour in check for good, and how large must a tumour be to escape?

Kuznetsov et al. (1994) fitted two equations, effector cells E and tumour
cells T, to BCL1 lymphoma in mice. The model has two stable states: a small
"dormant" tumour held in check by many effectors (immune control), and a large
tumour near its carrying capacity with few effectors left (escape). A saddle
sits between them, and the curve of starting points that run into the saddle
(its stable manifold, the separatrix) divides the plane into the two basins:
which state a tumour ends in depends only on which side it starts.

This script draws the phase portrait (flow, nullclines, equilibria,
separatrix, trajectories), prints the equilibria, and finds the threshold
inoculum: the smallest tumour that escapes when the effectors start at their
tumour-free level s/d.

What to try (edit the lines under the imports, then run again):
  * Effectors that die faster: CHANGES = {"d": 0.05}. Does the dormant state
    survive, and where does the threshold move? Compare `tumorsim equilibria kuznetsov1994 --set d=0.05`.
  * A slower-growing tumour: CHANGES = {"a": 0.12}
  * Other inocula: edit INOCULA; start on each side of the threshold
    (`tumorsim run kuznetsov1994 --init T=6e7` and `--init T=7e7`).

Run:  python experiments/phase_portrait.py
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Patch

import sim
from sim.analysis import format_table
from sim.phase import phase_portrait
from sim.plotting import PALETTE, add_out_option, house_style, plot_phase_portrait, print_changes, run_script, save_script_figure

CHANGES = {}                          # parameter changes, e.g. {"d": 0.05}
INOCULA = [1e6, 3e7, 5.8e7, 7e7, 3e8]  # tumour cells injected [cells]; effectors start at s/d
DAYS = 1000

CONTROL, ESCAPE = PALETTE[0], PALETTE[1]  # the colours plot_phase_portrait gives the two fates

MEANING = {
    "stable focus": "dormancy: immune control",
    "stable node": "escape: tumour near its carrying capacity",
    "saddle": "threshold between the basins",
}


def role(equilibrium):
    """What an equilibrium means for a learner."""
    if equilibrium.state["T"] == 0:
        return "tumour-free" + (" (unstable: any tumour grows at first)" if equilibrium.type != "stable node" else "")
    return MEANING.get(equilibrium.type, equilibrium.type)


def escapes(result, saddle_tumour):
    """True when the run ends above the saddle's tumour size (in the escape state)."""
    return result.final["T"] > saddle_tumour


def threshold_inoculum(saddle_tumour, low=1e5, high=1e9, steps=40):
    """Smallest inoculum [cells] that escapes, effectors at s/d (bisection in log T); None if none or all escape."""
    def escaped(tumour):
        return escapes(sim.run("kuznetsov1994", parameters=CHANGES, initial={"T": tumour}, days=DAYS), saddle_tumour)

    if escaped(low) or not escaped(high):
        return None
    for _ in range(steps):
        middle = np.sqrt(low * high)
        low, high = (low, middle) if escaped(middle) else (middle, high)
    return np.sqrt(low * high)


def shade_basins(ax, separatrices, x_high, y_low, y_high):
    """Tint the escape basin (above and left of the separatrix) and the immune-control basin (the rest)."""
    branches = sorted(separatrices, key=lambda path: path[1, -1])  # lower branch first
    curve = np.column_stack([branches[0][:, ::-1], branches[1][:, 1:]])  # from its lower end through the saddle
    x, y = curve[0] / 1e6, np.log10(np.clip(curve[1], 10**y_low, 10**y_high))
    ax.fill(np.r_[x, x[-1], 0, 0], np.r_[y, y_high, y_high, y[0]], color=ESCAPE, alpha=0.08, linewidth=0, zorder=0)
    ax.fill(np.r_[x, x_high, x_high, 0, 0], np.r_[y, y_high, y_low, y_low, y[0]], color=CONTROL, alpha=0.06,
            linewidth=0, zorder=0)


def label_for_learners(ax):
    """Say what each equilibrium and each colour means, on the figure and in its legend."""
    names = {"stable focus": "stable focus:\ndormancy", "stable node": "stable node:\nescape",
             "saddle": "saddle:\nthreshold"}
    for text in ax.texts:
        if text.get_text() in names:
            text.set_text(names[text.get_text()])
            text.set_bbox({"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 1.0})
    handles, labels = ax.get_legend_handles_labels()
    labels = [label.replace("stable focus (", "stable focus = dormancy (").replace("stable node (", "stable node = escape (")
              for label in labels]
    handles += [Patch(color=ESCAPE, alpha=0.15), Patch(color=CONTROL, alpha=0.12)]
    labels += ["escape basin: starts here end near the carrying capacity",
               "immune-control basin: starts here end dormant"]
    ax.legend(handles, labels, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8.5)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_option(parser)
    out = parser.parse_args().out
    print_changes(CHANGES, "kuznetsov1994")

    scenario = sim.prepare("kuznetsov1994", parameters=CHANGES)
    params = scenario.parameters.values_dict()
    effectors = params["s"] / params["d"]  # the tumour-free level every inoculum meets
    x_range, y_range = (0.0, 3e6), (1e4, 3e9)
    starts = [(effectors, tumour) for tumour in INOCULA] + [(2.6e6, 4e8)]
    portrait = phase_portrait(scenario.model, params, x_range, y_range, starts, duration=DAYS)

    rows = [[e.state["E"], e.state["T"], ", ".join(f"{v.real:.3g}{v.imag:+.3g}i" if v.imag else f"{v.real:.3g}"
                                                   for v in e.eigenvalues), e.type, role(e)]
            for e in portrait.equilibria]
    print(format_table(["E [cells]", "T [cells]", "eigenvalues [1/day]", "type", "meaning"], rows))
    print()

    saddles = [e for e in portrait.equilibria if e.type == "saddle" and e.state["T"] > 0]
    runs = [sim.run("kuznetsov1994", parameters=CHANGES, initial={"T": tumour}, days=DAYS, every=1) for tumour in INOCULA]
    if saddles:
        saddle = saddles[0].state["T"]
        threshold = threshold_inoculum(saddle)
        print(f"The saddle at T = {saddle:.3g} cells separates the basins. Effectors start at their tumour-free level "
              f"s/d = {effectors:.3g} cells.")
        if threshold is not None:
            print(f"Threshold inoculum: tumours below about {threshold:.2g} cells end dormant, larger ones escape.")
        for tumour, run in zip(INOCULA, runs):
            fate = "escapes" if escapes(run, saddle) else "ends dormant"
            print(f"  {tumour:8.2g} cells injected: {fate}, {run.final['T']:.3g} tumour cells and "
                  f"{run.final['E']:.3g} effectors on day {DAYS}.")
    else:
        saddle, threshold = None, None
        print("No saddle inside the orthant with these parameters: there is no threshold, every inoculum ends alike.")
    tumour_free = [e for e in portrait.equilibria if e.state["T"] == 0]
    dormant = [e for e in portrait.equilibria if e.state["T"] > 0 and e.type.startswith("stable")
               and (saddle is None or e.state["T"] < saddle)]
    if dormant and tumour_free and not tumour_free[0].type.startswith("stable"):
        print(f"Dormancy is control, not cure: the tumour is never eliminated, because the tumour-free state is a "
              f"{tumour_free[0].type},\nunstable to any tumour cell. The tumour-free point (T = 0) lies below the log "
              "axis of the figure.")

    with house_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(16, 7.2), width_ratios=[1.25, 1], layout="constrained")
        plot_phase_portrait(portrait, ax=left, title="Phase portrait: effector cells against tumour cells")
        y_low, y_high = np.log10(y_range)
        if portrait.separatrices:
            shade_basins(left, portrait.separatrices, x_range[1] / 1e6, y_low, y_high)
            left.text(0.05, 9.3, "ESCAPE basin: the tumour outgrows the effectors", color=ESCAPE, fontsize=11,
                      fontweight="bold")
        left.text(2.95, 4.3, "IMMUNE CONTROL basin\n(tumour held dormant)", color=CONTROL, fontsize=11,
                  fontweight="bold", ha="right")
        label_for_learners(left)
        left.axvline(effectors / 1e6, color="0.3", linewidth=0.8, linestyle=":")
        left.annotate(f"inocula start here: effectors at\ntheir tumour-free level s/d = {effectors:.3g}",
                      (effectors / 1e6, 4.05), xytext=(effectors / 1e6 + 0.08, 4.05), fontsize=8.5, color="0.25",
                      va="bottom")

        for tumour, run in zip(INOCULA, runs):
            escaped = saddle is not None and escapes(run, saddle)
            right.plot(run.time, run["T"], color=ESCAPE if escaped else CONTROL,
                       linestyle="-" if tumour in (min(INOCULA), max(INOCULA)) else "--",
                       label=f"{tumour:.2g} cells injected: {'escape' if escaped else 'dormancy'}")
        if saddle is not None:
            right.axhline(saddle, color="black", linewidth=1, linestyle=(0, (1, 2)),
                          label=f"saddle (threshold state), T = {saddle:.2g}")
        right.set_yscale("log")
        right.set_ylim(1e5, 1e9)
        right.set_xlim(0, 400)
        right.set_xlabel("days after the tumour cells were injected")
        right.set_ylabel("tumour cells T [cells], log scale")
        title = "Tumour size over time (effectors start at s/d)"
        if threshold is not None:
            title += f"\nthreshold inoculum about {threshold:.2g} cells"
        right.set_title(title, loc="left")
        right.legend(loc="lower right")
        fig.suptitle("Kuznetsov et al. (1994): immune control or escape? Which side of the separatrix a tumour starts "
                     "on decides", fontsize=13)

    save_script_figure(fig, out, "phase_portrait")


if __name__ == "__main__":
    run_script(main)
