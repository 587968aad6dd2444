"""Which parts of the host does the protection from Irf7 need: the interferon receptor, NK cells, CD8+ T cells?

Tumours with Irf7 restored (4T1.2-Irf7) reach bone much later than Irf7-silenced
4T1.2, if at all. Bidwell et al. 2012 found that this protection is lost in Ifnar1-/- mice,
whose immune cells cannot respond to interferon, and when NK cells or CD8+ T
cells are removed with antibodies. Interferon injections need the receptor too.
This script runs those arms and measures how much of each benefit is left.

What to try (edit the line under the imports, then run again):
  * Stronger CD8+ T cells in every arm: CHANGES = {"cd8_kill_max": 0.8}
    (the same as `tumorsim compare irf7-restored irf7-restored-nk-depleted --set cd8_kill_max=0.8`).
    Can CD8+ T cells now protect without NK cells?
  * NK cells that interferon cannot activate: CHANGES = {"nk_ifn_kill_boost": 0}
  * A shorter antibody course: copy sim/data/scenarios/irf7-restored-cd8-depleted.toml,
    give the copy a new name, set `stop = 20` in its depletion entry and add the
    copy's path to IRF7_ARMS below. Then try `start = 20`, after the primary
    tumour is gone: the antibody removes memory CD8+ T cells too.

Run:  python experiments/host_immunity.py
"""

import argparse

import matplotlib.pyplot as plt

import sim
from sim.analysis import compare_table
from sim.plotting import add_out_option, house_style, mark_schedule, plot_burden, print_changes, run_script, save_script_figure

CHANGES = {}  # parameter changes applied to every arm

# Each panel: an untreated reference, the protected arm, then the arms that test what protection needs.
IRF7_ARMS = ["irf7-silenced", "irf7-restored", "irf7-restored-ifnar-ko", "irf7-restored-nk-depleted",
             "irf7-restored-cd8-depleted"]
IFN_ARMS = ["irf7-silenced", "ifn-dosed", "ifn-dosed-ifnar-ko"]


def when(result):
    """When bone metastasis was detected, as text."""
    day = result.metastasis_day
    return f"on day {day:.1f}" if day is not None else f"never within {result.days:.0f} days"


def delay_left(arm, protected, reference):
    """How much of the protected arm's delay in bone metastasis is left in `arm`, as text."""
    if arm.metastasis_day is None:
        return "still protected"
    if reference.metastasis_day is None:
        return "the untreated arm never reached bone: no delay to compare"
    delay = arm.metastasis_day - reference.metastasis_day
    shift = f"{abs(delay):.1f} days {'later' if delay >= 0 else 'sooner'} than untreated"
    if protected.metastasis_day is None:
        return f"protection lost: {shift}"
    full = protected.metastasis_day - reference.metastasis_day
    kept = "none" if delay <= 0 else f"{delay / full:.0%}"
    return f"{shift}: {kept} of the {full:.0f}-day delay left"


def report(arms, treatment):
    """Print how much of the protection survives in each arm after the first two."""
    reference, protected, *tests = arms
    print(f"{treatment}: bone metastasis {when(protected)} instead of {when(reference)} ({reference.name}).")
    for arm in tests:
        print(f"  {arm.name:27s} {when(arm)} ({delay_left(arm, protected, reference)})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_out_option(parser)
    out = parser.parse_args().out
    print_changes(CHANGES, "irf7-silenced")

    irf7_arms = sim.compare(IRF7_ARMS, parameters=CHANGES)
    ifn_arms = sim.compare(IFN_ARMS, parameters=CHANGES)

    print(compare_table([*irf7_arms, *ifn_arms[1:]]))
    print()
    report(irf7_arms, "Restoring Irf7")
    report(ifn_arms, "Interferon injections")
    courses = {arm.name: (arm, arm.scenario.schedule.windows[0]) for arm in irf7_arms if arm.scenario.schedule.windows}
    if courses:
        print("Antibody courses: " + "; ".join(f"{name} days {w.start:g}-{w.stop:g}" for name, (_, w) in courses.items())
              + ".")
    returned = [name for name, (arm, w) in courses.items() if arm["M"].max() > 2 * arm["M"][arm.time <= w.stop].max()]
    if returned:
        print(f"In {' and '.join(returned)} most memory CD8+ T cells arose after the antibody course, primed by the "
              "growing bone metastasis.")
    knockouts = [arm for arm in [*irf7_arms, *ifn_arms] if arm.parameters["ifnar"] == 0 and arm.metastasis_day is not None]
    untreated = irf7_arms[0]
    if knockouts and untreated.metastasis_day is not None:
        sooner = untreated.metastasis_day - min(arm.metastasis_day for arm in knockouts)
        surgery = next(e["day"] for e in untreated.scenario.schedule_entries if e["event"] == "resection")
        sensed = untreated["S"][untreated.time <= surgery].max()
        if sooner > 0:
            print(f"Ifnar1-/- arms reach bone up to {sooner:.1f} days sooner than untreated wild-type mice: without the "
                  "receptor the host also loses\nthe signalling it raises itself when it senses a tumour (up to "
                  f"{sensed:.2f} before surgery in {untreated.name}, 0 in Ifnar1-/- mice).")

    with house_style():
        fig, (left, right) = plt.subplots(1, 2, figsize=(14, 6.5), sharey=True, layout="constrained")
        banded, window = list(courses.values())[-1] if courses else (None, None)
        plot_burden(irf7_arms, ax=left, title="Irf7 restored in the tumour: remove the receptor, NK or CD8+ cells"
                    + (f"\n(grey band: the antibody course of {banded.name}, days {window.start:g}-{window.stop:g})"
                       if courses else ""))
        plot_burden(ifn_arms, ax=right, title="Interferon injected: remove the receptor\n"
                    "(ticks on the time axis: the interferon doses)")
        if courses:
            mark_schedule(left, banded)  # the grey band of the antibody course
        mark_schedule(right, ifn_arms[1])   # the dose ticks
        right.set_ylabel("")  # shared with the left panel
        for ax in (left, right):
            ax.legend(loc="upper left", bbox_to_anchor=(0, -0.14), ncol=2)  # below the panel, clear of the curves
        fig.suptitle("Which parts of the host immune system does protection by Irf7 or interferon need?",
                     fontsize=13)

    save_script_figure(fig, out, "host_immunity")


if __name__ == "__main__":
    run_script(main)
