"""Does putting Irf7 back into 4T1.2 tumour cells delay bone metastasis, and why?

4T1.2 breast cancer cells have silenced Irf7, so they make almost no type I
interferon and spread to bone. Bidwell et al. 2012 restored Irf7 (4T1.2-Irf7)
and saw far less bone metastasis. This script runs both arms (primary tumour
removed on day 14) and shows the bone burden, host interferon signalling and
the tumour-specific CD8+ T cells: short-lived effectors and the long-lived
memory cells some of them become.

What to try (edit the two lines under the imports, then run again):
  * No memory cells: CHANGES = {"cd8_memory_formation": 0}. The effectors still
    expand before surgery; what happens to the restored mouse after it?
  * Weaker CD8+ T cell killing in both arms: CHANGES = {"cd8_kill_max": 0.2}
    (the same as `tumorsim compare irf7-silenced irf7-restored --set cd8_kill_max=0.2`).
    Does the restored mouse still stay free?
  * No NK killing in bone: CHANGES = {"nk_kill": 0}
  * Restore Irf7 only partly: RESTORED_IRF7_ACTIVITY = 0.3  (0 = silenced, 1 = fully on)

Run:  python experiments/irf7_restoration.py
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np

import sim
from sim.analysis import compare_table, when_text
from sim.plotting import add_out_option, house_style, plot_burden, plot_state, print_changes, run_script, save_script_figure

CHANGES = {}                  # parameter changes applied to both arms
RESTORED_IRF7_ACTIVITY = 1.0  # Irf7 activity of the restored line


def effectors_after(result, surgery):
    """What the effector CD8+ T cells did after surgery, as text."""
    after = result.time > surgery
    below = np.flatnonzero(after & (result["L"] < 1))
    if len(below):
        return f"fell below one cell on day {result.time[below[0]]:.0f}"
    return f"numbered {result['L'][-1]:.3g} on day {result.time[-1]:g} (peak after surgery {result['L'][after].max():.3g})"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_option(parser)
    out = parser.parse_args().out
    print_changes(CHANGES, "irf7-silenced")

    silenced = sim.run("irf7-silenced", parameters=CHANGES)
    restored = sim.run("irf7-restored", parameters={**CHANGES, "irf7_activity": RESTORED_IRF7_ACTIVITY})
    results = [silenced, restored]

    print(compare_table(results))
    print()
    print(f"Irf7 silenced: {when_text(silenced)}.")
    print(f"Irf7 restored: {when_text(restored)}.")
    if silenced.metastasis_day is not None and restored.metastasis_day is not None:
        change = restored.metastasis_day - silenced.metastasis_day
        print(f"Restoring Irf7 {'delayed' if change >= 0 else 'brought forward'} bone metastasis by {abs(change):.1f} days.")
    surgery = next(event["day"] for event in silenced.scenario.schedule_entries if event["event"] == "resection")
    before = [r.time <= surgery for r in results]
    signal, effectors = ([r[state][b].max() for r, b in zip(results, before)] for state in ("S", "L"))
    memory = [np.interp(surgery, r.time, r["M"]) for r in results]
    basal = silenced["S"][0]
    sensed = (f"; {signal[0]:.2f} rather than the tumour-free {basal:.2f}, because host cells sense even a silenced tumour"
              if signal[0] > basal + 0.01 else "")
    print(f"Why: before surgery on day {surgery:g}, host interferon signalling peaked at {signal[1]:.2f} with Irf7 restored "
          f"and at {signal[0]:.2f} with Irf7 silenced\n(0-1{sensed}).\nUp to the surgery, tumour-specific effector CD8+ T cells "
          f"peaked at {effectors[1]:.3g} instead of {effectors[0]:.3g} cells, and {memory[1]:.3g} instead of "
          f"{memory[0]:.3g} had become memory cells.")
    end = restored.time[-1]
    bone = np.interp(surgery, restored.time, restored["B"]), restored["B"][-1]
    print(f"After surgery, in the restored mouse: effector CD8+ T cells {effectors_after(restored, surgery)}; "
          f"{restored['M'][-1]:.3g} memory cells were left on day {end:g};\nthe bone burden "
          f"{'fell' if bone[1] < bone[0] else 'grew'} from {bone[0]:.3g} cells at surgery to {bone[1]:.3g} on day {end:g}.")

    with house_style():
        fig, axes = plt.subplot_mosaic([["burden"] * 3, ["signal", "cd8", "memory"]], figsize=(14, 8.5),
                                       layout="constrained")
        plot_burden(results, ax=axes["burden"])
        plot_state(results, "S", ax=axes["signal"], title="Interferon signalling in host immune cells")
        plot_state(results, "L", ax=axes["cd8"], title="Effector CD8+ T cells (tumour-specific)")
        plot_state(results, "M", ax=axes["memory"], title="Memory CD8+ T cells (tumour-specific, long-lived)")
        axes["signal"].set(ylim=(0, 1), ylabel="fraction of maximum (0-1)")  # shorter labels than the defaults
        for name in ("cd8", "memory"):
            axes[name].set(ylim=(1, None), ylabel="cells (log scale; below 1 cell not shown)")
        fig.suptitle("Does restoring Irf7 in 4T1.2 tumour cells delay bone metastasis?", fontsize=13)

    save_script_figure(fig, out, "irf7_restoration")


if __name__ == "__main__":
    run_script(main)
