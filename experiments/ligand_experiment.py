"""Why are tumour cells that carry NKG2D ligands rejected while the parental tumour grows?

Diefenbach et al. (2001) gave RMA lymphoma cells the NKG2D ligands Rae1-beta
or H60: mice rejected them, while parental RMA (no ligand) grew. de Pillis et
al. (2005) fitted their tumour-NK-CD8 model to those experiments and got four
parameter sets ("tumour lines" in tumorsim). The first letter says whether
the NK parameters (kill c, recruitment g) are those of a ligand-free (n) or a
ligand-bearing (l) tumour, the second letter the same for the CD8+ T-cell
parameters (d, lambda, s, j):

    nn  parental RMA           nl  only the CD8 side of the ligand tumour
    ln  only the NK side       ll  RMA-Rae1-beta / RMA-H60

This script challenges a naive mouse with each line over a range of tumour
doses and follows the tumour for 60 days.

What to try (edit the lines under the imports, then run again):
  * No CD8 priming by NK cells: CHANGES = {"r": 0}. Which lines are still rejected?
    (the same as `tumorsim run depillis2005-ligand --set r=0`)
  * A larger challenge: add 1e8 to DOSES.
  * Fewer NK cells: CHANGES = {"sigma": 6.5e3} (half the supply).

Run:  python experiments/ligand_experiment.py
"""

import argparse

import matplotlib.pyplot as plt
import numpy as np

import sim
from sim.analysis import format_table
from sim.parameters import load_parameter_file
from sim.plotting import PALETTE, add_out_option, house_style, print_changes, run_script, save_script_figure
from sim.scenarios import PARAMETER_DIR

CHANGES = {}                     # parameter changes applied to every line, e.g. {"r": 0}
DOSES = [1e4, 1e5, 1e6, 1e7]     # tumour cells injected; the outcome of the paper holds over this range
DAYS = 60
LINES = {                        # tumour line -> label
    "nn": "nn: parental RMA, no ligand",
    "nl": "nl: ligand CD8 parameters only",
    "ln": "ln: ligand NK parameters only",
    "ll": "ll: RMA-Rae1\u03b2 / H60, ligand",
}
IMMUNE_DOSE = 1e6                # challenge whose NK and CD8 cells are drawn
DOSE_COLOURS = plt.get_cmap("viridis")  # doses: dark (small) to light (large); the lines keep the palette


def outcome(result):
    """'rejected day N', 'grows' or 'held' from a run's tumour."""
    tumour = result["T"]
    if result.final["T"] < 1:
        return f"rejected (below one cell on day {result.time[np.argmax(tumour < 1)]:.1f})"
    if result.final["T"] > 1e8:
        return f"grows (1e8 cells on day {result.time[np.argmax(tumour > 1e8)]:.0f})"
    return f"held at {result.final['T']:.2g} cells"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_option(parser)
    out = parser.parse_args().out
    print_changes(CHANGES, "depillis2005", DOSES=(DOSES, [1e4, 1e5, 1e6, 1e7]))

    presets = load_parameter_file(PARAMETER_DIR / "depillis2005.toml").tumor_lines
    runs = {(line, dose): sim.run("depillis2005", parameters={**presets[line].values, **CHANGES}, initial={"T": dose},
                                  days=DAYS, every=0.1)
            for line in LINES for dose in DOSES}

    rows = [[line, f"{dose:.0e}", outcome(r), f"{r['T'].max():.3g}", f"{r['L'].max():.3g}", f"{r['N'].min():.3g}"]
            for (line, dose), r in runs.items()]
    print(format_table(["line", "challenge [cells]", f"outcome within {DAYS} days", "peak tumour cells",
                        "peak CD8+ T cells", "lowest NK cells"], rows))
    print()

    def rejected(line):
        return [dose for dose in DOSES if runs[line, dose].final["T"] < 1]

    def doses_text(doses):
        return ", ".join(f"{d:.0e}" for d in doses) if doses else "none"

    print(f"Without the ligand (nn) the tumour is rejected from these challenges: {doses_text(rejected('nn'))} "
          f"(of {doses_text(DOSES)} cells).")
    print(f"With the ligand (ll) it is rejected from: {doses_text(rejected('ll'))}.")
    both = [dose for dose in rejected("ll") if dose not in rejected("ln") + rejected("nl")]
    print(f"The NK side of the ligand alone (ln) rejects {doses_text(rejected('ln'))}; the CD8 side alone (nl) "
          f"rejects {doses_text(rejected('nl'))}"
          + (f":\nat {doses_text(both)} cells only the whole ligand rejects the tumour, which needs both NK cells "
             "and CD8+ T cells that respond to the ligand." if both else "."))
    values = {line: {**sim.prepare("depillis2005").parameters.values_dict(), **presets[line].values, **CHANGES}
              for line in ("nn", "ll")}
    resting_nk = {line: v["sigma"] / v["f"] for line, v in values.items()}  # NK cells of a tumour-free mouse
    kill = {line: v["c"] * resting_nk[line] for line, v in values.items()}
    growth = values["ll"]["a"]
    print(f"Why: with the ligand, resting NK cells ({resting_nk['ll']:.3g}) alone kill tumour cells at a rate "
          f"c N = {kill['ll']:.2f} per day,\n{'more' if kill['ll'] > growth else 'less'} than the tumour's growth rate "
          f"a = {growth:.3g} per day (without the ligand: {kill['nn']:.2f})"
          + (", so a small tumour shrinks from the start\ninstead of growing large enough to inactivate the NK cells "
             "(p N T)." if kill["ll"] > growth else ", so NK cells alone cannot stop even a small tumour from growing."))
    if values["ll"]["r"] > 0:
        print(f"NK-tumour encounters (r N T) prime CD8+ T cells, which kill ligand-bearing cells "
              f"{'harder' if values['ll']['d'] > values['nn']['d'] else 'no harder'} (d = {values['ll']['d']:.3g} "
              f"instead of {values['nn']['d']:.3g} per day at saturation).")
    else:
        print("With r = 0, NK-tumour encounters prime no CD8+ T cells.")

    with house_style():
        fig, axes = plt.subplot_mosaic([["nn", "nl"], ["ln", "ll"], ["cd8", "nk"]], figsize=(13, 12),
                                       height_ratios=[1, 1, 0.85], layout="constrained")
        for line, label in LINES.items():
            ax = axes[line]
            for i, dose in enumerate(DOSES):
                result = runs[line, dose]
                ax.plot(result.time, result["T"], label=f"{dose:.0e} cells injected", color=DOSE_COLOURS(i / len(DOSES)),
                        linestyle=("-", "--", "-.", ":")[i % 4])
            ax.axhline(1, color="black", linewidth=1, linestyle=(0, (1, 2)))
            ax.annotate("one cell: below this line the tumour is gone", (DAYS, 1), xytext=(0, 3),
                        textcoords="offset points", ha="right", fontsize=8, color="0.25")
            ax.set_yscale("log")
            ax.set_ylim(1e-3, 5e9)
            ax.set_xlim(0, DAYS)
            verdict = sum(runs[line, dose].final["T"] < 1 for dose in DOSES)
            ax.set_title(f"{label}\nrejected at {verdict} of {len(DOSES)} doses", loc="left")
            ax.set_ylabel("tumour cells T, log scale")
            ax.set_xlabel("days after tumour challenge")
        axes["nn"].legend(loc="center right")
        for i, line in enumerate(LINES):
            result = runs[line, IMMUNE_DOSE]
            style = {"color": PALETTE[i], "linestyle": ("-", "--", "-.", ":")[i]}
            axes["cd8"].plot(result.time, np.maximum(result["L"], 1e-1), label=LINES[line], **style)
            axes["nk"].plot(result.time, result["N"], label=LINES[line], **style)
        axes["cd8"].set(yscale="log", ylim=(1, 1e7), xlim=(0, DAYS), xlabel="days after tumour challenge",
                        ylabel="CD8+ T cells L, log scale")
        axes["cd8"].set_title(f"Tumour-specific CD8+ T cells ({IMMUNE_DOSE:.0e}-cell challenge)", loc="left")
        axes["nk"].set(yscale="log", ylim=(50, 1e6), xlim=(0, DAYS), xlabel="days after tumour challenge",
                       ylabel="NK cells N, log scale")
        axes["nk"].set_title(f"NK cells ({IMMUNE_DOSE:.0e}-cell challenge): a growing tumour inactivates them",
                             loc="left")
        axes["nk"].legend(loc="center right")
        axes["cd8"].legend(loc="lower right")
        fig.suptitle("de Pillis et al. (2005), after Diefenbach et al. (2001): RMA lymphoma with and without NKG2D "
                     "ligands\n(rows: NK parameters without / with ligand; columns: CD8 parameters without / with "
                     "ligand)", fontsize=12)

    save_script_figure(fig, out, "ligand_experiment")


if __name__ == "__main__":
    run_script(main)
