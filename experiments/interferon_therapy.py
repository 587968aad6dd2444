"""Can interferon injections make up for the interferon that Irf7-silenced tumours no longer make, and does timing matter?

4T1.2 tumours have silenced Irf7 and make almost no type I interferon.
Bidwell et al. 2012 gave mice recombinant interferon and saw less bone
metastasis. This script compares no treatment, ten doses every 3 days from
day 1 (the ifn-dosed scenario, surgery on day 14), and the very same ten doses
started only after surgery. The late arm is built from the ifn-dosed scenario
by changing one line of its schedule: the day of the first dose. The figure
shows the bone burden, host interferon signalling and the tumour-specific
effector and memory CD8+ T cells.

What to try (edit the lines under the imports, then run again):
  * Start the late doses later still: FIRST_LATE_DOSE = 30. The CD8+ T cells
    now expand during the late course: which tumour cells do they see, and why
    does it come too late?
  * Signalling that lasts longer after each dose: CHANGES = {"signal_off": 0.2}
    (the same as `tumorsim compare irf7-silenced ifn-dosed --set signal_off=0.2`).
    Why does the untreated arm change too?
  * A longer late course: in late_doses() below, write
    dict(event, start=first_day, every=2, count=15) instead of dict(event, start=first_day)

Run:  python experiments/interferon_therapy.py
"""

import argparse
import dataclasses

import matplotlib.pyplot as plt
import numpy as np

import sim
from sim.analysis import compare_table, when_text
from sim.plotting import add_out_option, house_style, plot_burden, plot_state, save_script_figure

CHANGES = {}          # parameter changes applied to every arm
FIRST_LATE_DOSE = 15  # day of the first dose in the late arm (surgery is on day 14)


def late_doses(first_day):
    """The ifn-dosed scenario with the same doses, the first one given on `first_day`."""
    early = sim.load_scenario("ifn-dosed")
    schedule = [dict(event, start=first_day) if event["event"] == "ifn-dose" else event
                for event in early.schedule_entries]
    late = early.with_changes(schedule=schedule)
    return dataclasses.replace(late, name=f"ifn-from-day-{first_day:g}",
                               description=f"4T1.2 given the ifn-dosed doses from day {first_day:g}")


def effect(treated, untreated):
    """What a course did to the day of bone metastasis, compared with no interferon, as text."""
    if treated.metastasis_day is None:
        return f"prevented detectable bone metastasis within {treated.days:g} days"
    change = treated.metastasis_day - untreated.metastasis_day
    return f"{'delayed' if change >= 0 else 'brought forward'} it by {abs(change):.1f} days"


def course(result):
    """The interferon course of a run: first dose day, number of doses, dose days on which the tumour (primary plus
    bone) held more cells than the CD8 half-stimulation level, peak effector and final memory CD8+ T cells."""
    model = result.scenario.model
    doses = sorted(j.day for j in result.scenario.schedule.jumps if j.state == model.dose_state)
    tumour = result["P"] + result["B"]
    during = (result.time >= doses[0]) & (result.time <= doses[-1])
    return {"first": doses[0], "doses": len(doses),
            "enough": sum(np.interp(day, result.time, tumour) > result.parameters["cd8_antigen_half"] for day in doses),
            "effectors": result["L"][during].max(), "memory": np.interp(doses[-1], result.time, result["M"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_option(parser)
    out = parser.parse_args().out

    results = sim.compare(["irf7-silenced", "ifn-dosed", late_doses(FIRST_LATE_DOSE)], parameters=CHANGES)
    untreated, early, late = results

    print(compare_table(results))
    print()
    early_course, late_course = course(early), course(late)
    print(f"No interferon: {when_text(untreated)}.")
    print(f"Interferon, {early_course['doses']} doses from day {early_course['first']:g}: {when_text(early)}.")
    print(f"Interferon, {late_course['doses']} doses from day {late_course['first']:g}: {when_text(late)}.")
    if untreated.metastasis_day is not None:
        print(f"Early doses {effect(early, untreated)}; late doses {effect(late, untreated)}.")
    half = untreated.parameters["cd8_antigen_half"]
    surgery = next(event["day"] for event in untreated.scenario.schedule_entries if event["event"] == "resection")
    untreated_peak = untreated["L"][untreated.time <= surgery].max()
    early_day, late_day = (np.inf if arm.metastasis_day is None else arm.metastasis_day for arm in (early, late))
    print(("Why timing matters: " if early_day > late_day + 0.5 else "")
          + f"interferon lets CD8+ T cells expand only where they meet tumour antigen. The tumour "
          f"(primary plus bone)\nheld more than {half:.0e} cells, the amount for half-maximal CD8 stimulation, on "
          f"{early_course['enough']} of the {early_course['doses']} early dose days and on {late_course['enough']} of the "
          f"{late_course['doses']} late ones (surgery on day {surgery:g}).\nEffector CD8+ T cells peaked at "
          f"{early_course['effectors']:.3g} during the early course and at {late_course['effectors']:.3g} during the late "
          f"one ({untreated_peak:.3g} without interferon, before surgery);\n{early_course['memory']:.3g} and "
          f"{late_course['memory']:.3g} memory cells were left at the end of each course.")

    with house_style():
        fig, axes = plt.subplot_mosaic([["burden"] * 2, ["signal"] * 2, ["cd8", "memory"]], figsize=(11, 11.5),
                                       height_ratios=[3, 2, 2.2], sharex=True, layout="constrained")
        plot_burden(results, ax=axes["burden"])
        plot_state(results, "S", ax=axes["signal"],
                   title="Interferon signalling in host immune cells: each dose switches it on for about a day")
        plot_state(results, "L", ax=axes["cd8"], title="Effector CD8+ T cells (tumour-specific)")
        plot_state(results, "M", ax=axes["memory"], title="Memory CD8+ T cells (tumour-specific, long-lived)")
        axes["signal"].set(ylim=(0, 1), ylabel="fraction of maximum (0-1)")  # shorter labels than the defaults
        for name in ("cd8", "memory"):
            axes[name].set(ylim=(1, None), ylabel="cells (log scale; below 1 not shown)")
            axes[name].get_legend().remove()  # the same three arms as the panels above
        for ax in (axes["burden"], axes["signal"]):
            ax.set_xlabel("")  # the shared time axis is labelled on the bottom panels
        fig.suptitle("Can interferon injections replace the tumour's missing interferon? Does timing matter?\n"
                     "(the same colours in every panel)", fontsize=13)

    save_script_figure(fig, out, "interferon_therapy")


if __name__ == "__main__":
    main()
