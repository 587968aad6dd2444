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
from sim.analysis import compare_table, format_table, when_text
from sim.plotting import add_out_option, house_style, plot_burden, plot_state, print_changes, run_script, save_script_figure

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
    """The interferon course of a run: its first and last dose days, the number of doses, on how many dose days
    the tumour (primary plus bone) held more cells than the CD8 half-stimulation level, and the bone burden and
    MDSC level (times normal) on the day of the first dose."""
    model = result.scenario.model
    doses = sorted(j.day for j in result.scenario.schedule.jumps if j.state == model.dose_state)
    tumour = result["P"] + result["B"]
    return {"first": doses[0], "last": doses[-1], "doses": len(doses),
            "enough": sum(np.interp(day, result.time, tumour) > result.parameters["cd8_antigen_half"] for day in doses),
            "bone": np.interp(doses[0], result.time, result["B"]), "mdsc": np.interp(doses[0], result.time, result["Q"])}


def effectors(result):
    """Effector CD8+ T cells over the whole run (as `tumorsim run` reports them): the peak and its day, and the
    number on the day bone metastasis was detected (None without one)."""
    peak = int(np.argmax(result["L"]))
    detected = result.metastasis_day
    return {"peak": result["L"][peak], "day": result.time[peak],
            "at detection": None if detected is None else np.interp(detected, result.time, result["L"])}


def net_bone_growth(result, day):
    """Net growth rate of the bone burden on `day` [1/day]: (dB/dt) / B from the model's own equations, after NK
    and CD8+ T cell killing."""
    state = np.array([np.interp(day, result.time, result[name]) for name in result.state_names])
    return result.scenario.model.rhs(day, state, result.parameters)[result.state_names.index("B")] / state[
        result.state_names.index("B")]


def effector_table(arms, labels):
    """One row per arm: its doses, effector peak (whole run) and effectors on the day of detection."""
    rows = []
    for arm, label in zip(arms, labels):
        cells = effectors(arm)
        detected = ("no metastasis" if arm.metastasis_day is None
                    else f"{cells['at detection']:.3g} (day {arm.metastasis_day:.1f})")
        rows.append([label, f"{cells['peak']:.3g} (day {cells['day']:.1f})", detected])
    return format_table(("arm", f"effector CD8+ peak, days 0-{arms[0].days:g} (its day)",
                         "effectors when metastasis was detected (day)"), rows)


def why(untreated, early, late, surgery):
    """Sentences on why the two courses differ, each printed only when the run's numbers support it."""
    half = untreated.parameters["cd8_antigen_half"]
    threshold = untreated.parameters["detection_threshold"]
    first, second = course(early), course(late)
    cells = effectors(late)
    lines = [f"Interferon lets CD8+ T cells expand only where they meet tumour antigen. The tumour (primary plus "
             f"bone) held more than\n{half:.0e} cells, the amount for half-maximal CD8 stimulation, on "
             f"{first['enough']} of the {first['doses']} early dose days and on {second['enough']} of the "
             f"{second['doses']} late ones (surgery on day {surgery:g})."]
    less = second["enough"] < first["enough"]
    fewer = cells["peak"] < effectors(early)["peak"]
    antigen = "less antigen" if less else "as much antigen or more"
    expansion = ("expanded fewer effector CD8+ T cells than the early one" if fewer
                 else "its effectors rose higher than the early course's")
    lines.append(f"The late course found {antigen}, and {expansion}.")
    if second["mdsc"] > 1.25 * first["mdsc"]:
        lines.append(f"MDSCs, which weaken CD8+ T cells and NK cells, stood at {second['mdsc']:.1f}x their normal "
                     f"level on the first late dose day\n({first['mdsc']:.1f}x on the first early one).")
    if late.metastasis_day is not None and cells["day"] > late.metastasis_day:
        growth = net_bone_growth(late, late.metastasis_day)
        lines.append(f"When the late course began on day {second['first']:g} the bone already held "
                     f"{second['bone']:.3g} cells ({100 * second['bone'] / threshold:.2g} % of the {threshold:.0e}-cell "
                     f"detection threshold); metastasis was detected on day {late.metastasis_day:.1f},\nwhen "
                     f"{cells['at detection']:.3g} effector cells were there, and their peak came "
                     f"{cells['day'] - late.metastasis_day:.1f} days later. On the day of detection the bone burden "
                     f"still grew at a net {growth:.2f} per day\nafter NK and CD8 killing "
                     f"(without interferon: {net_bone_growth(untreated, untreated.metastasis_day):.2f} at its "
                     f"detection; unopposed: {untreated.parameters['bone_growth_rate']:g}).")
    return lines


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_option(parser)
    out = parser.parse_args().out
    print_changes(CHANGES, "ifn-dosed", FIRST_LATE_DOSE=(FIRST_LATE_DOSE, 15))

    results = sim.compare(["irf7-silenced", "ifn-dosed", late_doses(FIRST_LATE_DOSE)], parameters=CHANGES)
    untreated, early, late = results

    print(compare_table(results))
    print()
    early_course, late_course = course(early), course(late)
    labels = ["no interferon"] + [f"{c['doses']} doses, days {c['first']:g}-{c['last']:g}"
                                  for c in (early_course, late_course)]
    print(f"No interferon: {when_text(untreated)}.")
    for label, arm in zip(labels[1:], (early, late)):
        print(f"Interferon, {label}: {when_text(arm)}.")
    if untreated.metastasis_day is not None:
        print(f"Early doses {effect(early, untreated)}; late doses {effect(late, untreated)}.")
    print()
    print(effector_table(results, labels))
    print()
    surgery = next(event["day"] for event in untreated.scenario.schedule_entries if event["event"] == "resection")
    early_day, late_day = (np.inf if arm.metastasis_day is None else arm.metastasis_day for arm in (early, late))
    if early_day == late_day or abs(early_day - late_day) <= 0.5:
        print("Timing made no difference here: " + ("neither course's mouse had a detectable metastasis."
                                                     if np.isinf(early_day) else "the metastasis days above lie "
                                                     "within half a day of each other."))
    elif untreated.metastasis_day is not None and early_day > late_day:
        print("Why timing matters: " + "\n".join(why(untreated, early, late, surgery)))
    elif early_day > late_day:
        print("The early course did better than the late one, but without interferon the mouse has no metastasis "
              "either,\nso there is no delay to explain.")
    else:
        print("Here the late course did better than the early one.")

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
    run_script(main)
