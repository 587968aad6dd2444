"""Chance in the bone: a small bone burden as whole cells that are born, die and arrive at random.

A disseminated cell that lodges in bone founds a colony only by luck: each
cell divides or is killed, and a colony of a few cells dies out more often
than not while the immune system is active. The ODEs cannot say so; they
carry fractions of a cell. So while the bone burden is small (below the
parameter ``chance_limit``), the engines follow it as a whole number of
cells, a linear birth-death process with immigration (Kendall 1948; Bailey
1964, ch. 8): cells arrive at the model's seeding rate (a Poisson process),
and each divides and dies at the per-cell rates of the model's bone equation
(``Model.colony_rates``). The ODE holds the count still in the meantime.
Once the count reaches ``chance_limit``, extinction is so unlikely that the
ODE takes over; when the ODE burden falls below half of it, chance takes over
again. This is the hybrid scheme of Haseltine & Rawlings (2002): discrete
where numbers are small, continuous where they are large.

The count is updated every ``INTERVAL`` days, with the rates of the moment
of the update held over the quarter day it covers (a tau-leap: rates frozen
over a short step; they change over about a day). For the cells present the
update is exact at fixed rates (``step``): each founds a lineage that survives
the interval with probability ``lineage(...)[0]`` and then numbers a
geometric count of cells. A Poisson number of cells arrives, each taken to
arrive at the middle of the interval (a midpoint rule: relative error about
(r dt)^2 / 24, below 5e-4 at the model's rates).

Every draw comes from a counter-based generator: the uniform number for
draw ``j`` of update ``k`` of a mouse is a hash of the mouse's key, ``k`` and
``j`` (SplitMix64, Steele et al. 2014). A mouse's numbers therefore depend on
its key only, never on how many mice are solved together, in which order or
on how many threads. ``sim/_kernel_template.py`` holds the same functions for
one mouse, in compiled form; ``tests/test_chance.py`` checks that both give
the same counts.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping

import numpy as np

from .errors import InputError

INTERVAL = 0.25
"""Days between updates of a small bone burden. The rates that move it change over about a day (the primary
grows by a factor e^0.23 in a quarter day at its fastest; CD8+ T cells expand at up to about 1 per day)."""
MAX_ARRIVALS = 200.0
"""Expected arrivals in one interval above which chance no longer decides: the burden is handed to the ODE at
once, with the expected arrivals added (a Poisson count of mean 200 is within 14 % of its mean 19 times out of
20). The shipped arms stay below it (at most about 50 arrivals a quarter day)."""
DRAWS = 6
"""Uniform numbers one update uses: arrivals, survivors present, survivors arrived, their two sizes, rounding."""

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_DRAW_STRIDE = np.uint64(0xD1B54A32D192ED03)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_MAX_TERMS = 100_000
"""Terms an inversion search may take before it stops (never reached: counts stay below a few hundred)."""


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of 64-bit words that scatters nearby inputs."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


def mouse_keys(seed: int, group: str, mice: np.ndarray) -> np.ndarray:
    """The chance key of each mouse (index ``mice``) of ``group`` (a scenario's name) for ``seed``."""
    base = np.random.SeedSequence(seed, spawn_key=(zlib.crc32(group.encode()), zlib.crc32(b"chance")))
    with np.errstate(over="ignore"):
        return _mix(base.generate_state(1, np.uint64)[0] + np.asarray(mice, np.uint64) * _GOLDEN)


def uniform(keys: np.ndarray, update: int, draw: int) -> np.ndarray:
    """Uniform numbers in (0, 1), one per key: draw ``draw`` of update ``update``."""
    with np.errstate(over="ignore"):
        x = _mix(keys + np.uint64(update) * _GOLDEN + np.uint64(draw) * _DRAW_STRIDE)
    return ((x >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53


def lineage(birth: np.ndarray, death: np.ndarray, span: float | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """One cell's lineage after ``span`` days at fixed per-cell rates [1/day] (Kendall 1948).

    Returns the probability that the lineage survives and, given that it does, the success probability ``q`` of
    the geometric law of its size (mean 1/q cells).
    """
    birth, death = np.asarray(birth, float), np.asarray(death, float)
    net = birth - death
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        decay = np.exp(-net * span)
        survive = np.where(np.abs(net * span) < 1e-9, 1.0 / (1.0 + birth * span), net / (birth - death * decay))
        size = np.where(np.abs(net * span) < 1e-9, 1.0 + birth * span, 1.0 / (survive * decay))
    survive = np.clip(np.nan_to_num(survive, nan=0.0), 0.0, 1.0)
    return survive, np.where(survive > 0.0, 1.0 / np.maximum(np.nan_to_num(size, nan=1.0, posinf=1e300), 1.0), 1.0)


def poisson(u: np.ndarray, mean: np.ndarray) -> np.ndarray:
    """The Poisson count of ``mean`` at quantile ``u`` (inversion), element by element."""
    mean = np.asarray(mean, float)
    term = np.exp(-mean)
    return _invert(u, term, term.copy(), lambda j, term: term * mean / (j + 1.0), np.full(mean.shape, np.inf))


def binomial(u: np.ndarray, trials: np.ndarray, chance: np.ndarray) -> np.ndarray:
    """The binomial count of ``trials`` with success ``chance`` at quantile ``u`` (inversion).

    For a success chance above one half, the failures are counted instead, so the first term, (1 - p)^n, stays
    above 0.5^n: representable for the counts chance follows (``chance_limit`` is at most 1,000 cells).
    """
    trials, chance = np.asarray(trials, float), np.asarray(chance, float)
    flip = chance > 0.5
    p = np.where(flip, 1.0 - chance, chance)
    odds = p / np.maximum(1.0 - p, 1e-300)
    term = (1.0 - p) ** trials
    counted = _invert(np.where(flip, 1.0 - u, u), term, term.copy(), lambda j, term: term * (trials - j) / (j + 1.0) * odds,
                      trials)
    return np.where(flip, trials - counted, counted)


def geometric_sum(u: np.ndarray, lineages: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Cells in ``lineages`` surviving lineages, each of geometric size (success ``q``), at quantile ``u``.

    Their total is ``lineages`` plus a negative binomial number of failures, drawn by inversion.
    """
    lineages, q = np.asarray(lineages, float), np.asarray(q, float)
    term = q**lineages
    failures = _invert(u, term, term.copy(), lambda j, term: term * (lineages + j) / (j + 1.0) * (1.0 - q),
                       np.full(q.shape, np.inf))
    return lineages + failures


def _invert(u, term, total, next_term, largest):
    """Smallest j with P(X <= j) >= u, from P(X = 0) = ``term`` and ``next_term(j, P(X = j))``, capped at ``largest``."""
    count = np.zeros(np.shape(term))
    active = (u > total) & (count < largest)
    for _ in range(_MAX_TERMS):
        if not active.any():
            break
        term = np.where(active, next_term(count, term), term)
        count = np.where(active, count + 1.0, count)
        total = np.where(active, total + term, total)
        active &= (u > total) & (count < largest) & (term > 0.0)
    return count


def step(count: np.ndarray, arrivals: np.ndarray, birth: np.ndarray, death: np.ndarray, keys: np.ndarray,
         update: int, span: float = INTERVAL) -> np.ndarray:
    """The bone count [cells] after one interval of ``span`` days, for each mouse.

    ``count`` holds whole cells; ``arrivals`` [cells/day], ``birth`` and ``death`` [1/day per cell] are the
    rates at the interval's start. Where more than MAX_ARRIVALS cells are expected to arrive, the result is
    the count plus its expectation instead (chance no longer decides; the ODE takes over).
    """
    arrivals = np.asarray(arrivals, float) * span
    crowded = arrivals > MAX_ARRIVALS
    arrived = poisson(uniform(keys, update, 0), np.where(crowded, 0.0, arrivals))
    survive, q = lineage(birth, death, span)
    survive_half, q_half = lineage(birth, death, 0.5 * span)
    kept = binomial(uniform(keys, update, 1), count, survive)
    founded = binomial(uniform(keys, update, 2), arrived, survive_half)
    cells = geometric_sum(uniform(keys, update, 3), kept, q) + geometric_sum(uniform(keys, update, 4), founded, q_half)
    return np.where(crowded, count + arrivals, cells)


def whole_cells(burden: np.ndarray, keys: np.ndarray, update: int) -> np.ndarray:
    """A burden [cells] handed back from the ODE, as whole cells: its fraction of a cell rounded up by chance."""
    burden = np.maximum(burden, 0.0)  # a solver's hair below zero is no cell
    whole = np.floor(burden)
    return whole + (uniform(keys, update, DRAWS - 1) < burden - whole)


def update(burden: np.ndarray, counted: np.ndarray, arrivals: np.ndarray, birth: np.ndarray, death: np.ndarray,
           limit: np.ndarray, keys: np.ndarray, index: int) -> tuple[np.ndarray, np.ndarray]:
    """The bone burden [cells] and whether it is counted by chance, after chance update ``index``, for each mouse.

    A counted burden takes one ``step`` and stays counted while below ``limit`` [cells] (the parameter
    ``chance_limit``); an ODE burden that fell below half the limit becomes whole cells (``whole_cells``) and is
    counted from then on. Update ``index`` happens on day ``index * INTERVAL``.
    """
    stepped = step(np.where(counted, burden, 0.0), arrivals, birth, death, keys, index)
    handed_back = ~counted & (burden < 0.5 * limit)
    crowded = np.asarray(arrivals, float) * INTERVAL > MAX_ARRIVALS
    new_burden = np.where(counted, stepped, np.where(handed_back, whole_cells(burden, keys, index), burden))
    return new_burden, np.where(counted, (stepped < limit) & ~crowded, handed_back)


def next_update(t: float) -> int:
    """Index of the first chance update after day ``t``."""
    return int(np.floor(t / INTERVAL + 1e-9)) + 1


class Bones:
    """The chance state of a batch of mice (one mouse for a single run): whose bone burdens are counted, their keys.

    The engines integrate the states of all mice stacked mouse by mouse, and ask it to hold the counted burdens
    still (``holding``, ``holding_jacobian``) and which chance update first changes a mouse (``first_change``).
    Without chance (the mean-field view) it does nothing.
    """

    def __init__(self, model, index: int | None, counted: np.ndarray, keys: np.ndarray, limit: np.ndarray):
        self.model, self.index, self.counted, self.keys, self.limit = model, index, counted, keys, limit
        self.n_states = len(model.states)

    @classmethod
    def start(cls, scenario, params: Mapping[str, np.ndarray], initial: np.ndarray, keys: np.ndarray | None) -> Bones:
        """The bones of mice starting at ``initial`` (n_states, n), their small burdens made whole cells."""
        model, n = scenario.model, initial.shape[1]
        if not scenario.chance:
            return cls(model, None, np.zeros(n, bool), np.zeros(n, np.uint64), np.full(n, np.inf))
        if keys is None or len(keys) != n:
            raise InputError(f"{scenario.name}: with chance on, keys= needs one chance key per mouse "
                             "(sim.chance.mouse_keys(seed, scenario.name, indices)); or solve its mean_field()")
        index = model.state_names.index(model.chance_state)
        limit = np.broadcast_to(np.asarray(params["chance_limit"], float), (n,))
        counted = initial[index] < 0.5 * limit
        initial[index] = np.where(counted, whole_cells(initial[index], keys, 0), initial[index])
        return cls(model, index, counted, np.asarray(keys, np.uint64), limit)

    @property
    def counting(self) -> bool:
        return self.index is not None

    def holding(self, fun):
        """``fun`` with counted burdens held still between chance updates."""
        if not self.counted.any():
            return fun
        rows = np.flatnonzero(self.counted) * self.n_states + self.index

        def held(t, flat, *args):
            rates = fun(t, flat, *args)
            rates[rows] = 0.0
            return rates

        return held

    def holding_jacobian(self, jac):
        """The banded Jacobian ``jac`` with the rows of held burdens zero."""
        if jac is None or not self.counted.any():
            return jac
        band = self.n_states - 1
        held_rows = np.flatnonzero(self.counted) * self.n_states + self.index

        def held(t, flat):
            packed = jac(t, flat)
            for offset in range(-band, band + 1):  # element (row, row + offset) sits at packed[band - offset, row + offset]
                columns = held_rows + offset
                inside = (columns >= 0) & (columns < packed.shape[1])
                packed[band - offset, columns[inside]] = 0.0
            return packed

        return held

    def first_change(self, dense, t_old: float, t: float, params) -> tuple[float, np.ndarray, np.ndarray] | None:
        """The first chance update in (t_old, t] that changes some mouse: (its day, all states just before it,
        and just after it), stacked mouse by mouse; None if no update changes any."""
        if not self.counting:
            return None
        for k in range(next_update(t_old), int(np.floor(t / INTERVAL + 1e-9)) + 1):
            day = k * INTERVAL
            flat = dense(day)
            states = flat.reshape(-1, self.n_states).T
            arrivals, birth, death = self.model.colony_rates(day, states, params)
            burden, counted = update(states[self.index], self.counted, arrivals, birth, death, self.limit,
                                            self.keys, k)
            moved = (burden != states[self.index]) | (counted != self.counted)
            if moved.any():
                after = flat.copy()
                after[self.index::self.n_states] = burden
                self.counted = counted
                return day, flat, after
        return None
