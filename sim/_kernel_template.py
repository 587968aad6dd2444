"""Per-mouse integrator of the compiled cohort engine: a template that ``sim.kernel`` completes.

This file is never imported. ``sim.kernel`` copies its text into a module in
the cache directory and replaces the block between the two ``equations``
markers with a model's right-hand side and Jacobian, generated from
``sim.symbolic.formulas(model)``; numba compiles that module and caches it
on disk. Keeping the integrator here, as plain Python, lets ruff and readers
check it like any other module.

Each mouse is integrated on its own, with its own adaptive steps:

* Dormand-Prince 5(4) (explicit, FSAL) while the mouse is not stiff; the
  stiffness detector of Hairer's DOPRI5 (h times the local Lipschitz
  estimate above 3.25 on 15 accepted steps out of any 21) switches it to
* a 4-stage Rosenbrock method of order 4(3) (Shampine's coefficients, as in
  Kaps and Rentrop's scheme; A-stable) with the analytic Jacobian. It
  switches back when h times a bound on the Jacobian's spectral radius
  (its infinity norm) stays below 3 on 15 accepted steps: an explicit step
  of that size would be stable again.

A step never straddles a breakpoint of the arm's schedule (a jump of a state
or the edge of a window holding a parameter): segments are integrated one by
one. Threshold crossings are located by root-finding on the cubic Hermite
interpolant of the accepted step (from both ends' values and slopes). Times
are in the model's time unit (days for the irf7 model).

Each thread integrates ``SLOTS`` mice side by side, stage by stage: a
step's stages depend on each other, so one mouse alone keeps the processor
waiting on the divisions and powers of every right-hand side, and the other
mice's stages fill those waits. A mouse that ends gives its slot to the next
one; each keeps its own steps, so a mouse's numbers do not depend on its
neighbours.

A mouse's vectors are rows of one work array (``Y``, ``F``, ... below),
addressed by slot and row number, never slices or separate arrays: numba
counts references to every array a function receives or slices, with atomic
instructions, and with a dozen arrays passed per step that bookkeeping cost
13 % of the time (measured).
"""

import math

import numpy as np
from numba import njit

JIT = {"cache": True, "nogil": True, "error_model": "numpy", "fastmath": {"contract", "arcp", "nsz", "reassoc"}}
"""numpy's error model: a division by zero gives inf or nan (the formulas rely on B/T overflowing to inf
in the CD8 kill) instead of raising; nogil lets threads integrate different mice at once. The fastmath
flags allow fused multiply-adds, reciprocals and reordering (15-20 % faster, measured), but not the
"no inf / no nan" ones: the equations and the overflow checks need both."""

# --- equations (generated) ---
N_STATES = 1
CHANCE_STATE = -1
N_DERIVED = 1
N_CALLS = 1
ENDPOINT_ABSORBING = False


@njit(**JIT)
def derive(p, slot, derived):
    derived[slot, 0] = -p[slot, 0]


@njit(**JIT)
def rhs_calls(w, slot, src, p, derived):
    w[slot, CALLS, 0] = math.exp(w[slot, src, 0])


@njit(**JIT)
def rhs_rest(w, slot, src, dst, p, derived):
    w[slot, dst, 0] = derived[slot, 0] * w[slot, CALLS, 0]


@njit(**JIT)
def colony_rates(w, slot, src, p, out):
    out[slot, 0] = 0.0
    out[slot, 1] = 0.0
    out[slot, 2] = 0.0


@njit(**JIT)
def jacobian(w, slot, src, p, derived, jac):
    jac[slot, 0, 0] = derived[slot, 0]
# --- end of equations ---


OK, TOO_MANY_STEPS, NOT_FINITE = 0, 1, 2
"""A mouse's status: how its integration ended."""

SLOTS = 8
"""Mice one thread integrates side by side. Measured on 2,000 mice of the dosed arm, one thread: 0.56 s one mouse at
a time, 0.39 s with 2 slots, 0.36 s with 4, 8 or 16."""

Y, F, Y_NEW, F_NEW, STAGE, K2, K3, K4, K5, K6, CALLS = range(11)
"""Rows of a mouse's work array: the state at the step's start and its rate, the state at the step's end and its
rate, a stage's state, the rates of Dormand-Prince's stages 2-6 (the Rosenbrock step keeps its four stage vectors
in K2-K5 and its stage rates in K6), and the library calls of the last right-hand side evaluated (``rhs_calls``)."""
WORK_ROWS = 11
WORK_COLUMNS = max(N_STATES, N_CALLS)

_GAMMA = 0.5
_A21, _A31, _A32 = 2.0, 48 / 25, 6 / 25
_C21, _C31, _C32 = -8.0, 372 / 25, 12 / 5
_C41, _C42, _C43 = -112 / 125, -54 / 125, -2 / 5
_B1, _B2, _B3, _B4 = 19 / 9, 1 / 2, 25 / 108, 125 / 108
_E1, _E2, _E3, _E4 = 17 / 54, 7 / 36, 0.0, 125 / 108
"""Shampine's 4-stage Rosenbrock coefficients (order 4, embedded order 3), for an autonomous system."""

_STIFF_LIMIT = 3.25
_EXPLICIT_SAFE = 3.0
_SWITCH_AFTER = 15


@njit(**JIT)
def rhs(w, slot, src, dst, p, derived):
    """d(state)/dt at row ``src`` of the slot's work array, into row ``dst``."""
    rhs_calls(w, slot, src, p, derived)
    rhs_rest(w, slot, src, dst, p, derived)


@njit(**JIT)
def _hermite(w, slot, h, theta, i):
    """Cubic Hermite interpolant of component i at fraction theta of the step of size h from row Y to row Y_NEW."""
    d = w[slot, Y_NEW, i] - w[slot, Y, i]
    return (1.0 - theta) * w[slot, Y, i] + theta * w[slot, Y_NEW, i] + theta * (theta - 1.0) * (
        (1.0 - 2.0 * theta) * d + (theta - 1.0) * h * w[slot, F, i] + theta * h * w[slot, F_NEW, i])


@njit(**JIT)
def _crossing(w, slot, t, h, i, threshold):
    """Time within [t, t + h] at which component i rises through ``threshold`` (Illinois regula falsi)."""
    lo, hi = 0.0, 1.0
    g_lo, g_hi = w[slot, Y, i] - threshold, w[slot, Y_NEW, i] - threshold
    side = 0
    for _ in range(60):
        if hi - lo < 1e-13:
            break
        mid = (lo * g_hi - hi * g_lo) / (g_hi - g_lo) if g_hi != g_lo else 0.5 * (lo + hi)
        if not lo < mid < hi:
            mid = 0.5 * (lo + hi)
        g = _hermite(w, slot, h, mid, i) - threshold
        if g >= 0.0:
            hi, g_hi = mid, g
            if side == 1:
                g_lo *= 0.5
            side = 1
        else:
            lo, g_lo = mid, g
            if side == -1:
                g_hi *= 0.5
            side = -1
    return t + hi * h


@njit(**JIT)
def _initial_step(w, slot, p, derived, rtol, atol, span):
    """Hairer's starting step (as scipy's select_initial_step) for a method of order 4, from rows Y and F."""
    d0 = 0.0
    d1 = 0.0
    for i in range(N_STATES):
        scale = atol + rtol * abs(w[slot, Y, i])
        d0 += (w[slot, Y, i] / scale) ** 2
        d1 += (w[slot, F, i] / scale) ** 2
    d0, d1 = math.sqrt(d0 / N_STATES), math.sqrt(d1 / N_STATES)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, span)
    for i in range(N_STATES):
        w[slot, STAGE, i] = w[slot, Y, i] + h0 * w[slot, F, i]
    rhs(w, slot, STAGE, K2, p, derived)
    d2 = 0.0
    for i in range(N_STATES):
        scale = atol + rtol * abs(w[slot, Y, i])
        d2 += ((w[slot, K2, i] - w[slot, F, i]) / scale) ** 2
    d2 = math.sqrt(d2 / N_STATES) / h0
    h1 = max(1e-6, h0 * 1e-3) if d1 <= 1e-15 and d2 <= 1e-15 else (0.01 / max(d1, d2)) ** 0.2
    return min(100.0 * h0, h1, span)


@njit(inline="always", **JIT)
def _dopri_stage(w, slot, stage, into, h):
    """The state of Dormand-Prince stage ``stage`` (2-6; 7 is the step's end) from rows Y, F and K2-K6, into row
    ``into``.

    The tableau (as scipy's RK45) is written out: loops over a coefficient table cost 10 % more (measured).
    """
    if stage == 2:
        for i in range(N_STATES):
            w[slot, into, i] = w[slot, Y, i] + h * (1 / 5 * w[slot, F, i])
    elif stage == 3:
        for i in range(N_STATES):
            w[slot, into, i] = w[slot, Y, i] + h * (3 / 40 * w[slot, F, i] + 9 / 40 * w[slot, K2, i])
    elif stage == 4:
        for i in range(N_STATES):
            w[slot, into, i] = w[slot, Y, i] + h * (44 / 45 * w[slot, F, i] - 56 / 15 * w[slot, K2, i]
                                                     + 32 / 9 * w[slot, K3, i])
    elif stage == 5:
        for i in range(N_STATES):
            w[slot, into, i] = w[slot, Y, i] + h * (19372 / 6561 * w[slot, F, i] - 25360 / 2187 * w[slot, K2, i]
                                                     + 64448 / 6561 * w[slot, K3, i] - 212 / 729 * w[slot, K4, i])
    elif stage == 6:
        for i in range(N_STATES):
            w[slot, into, i] = w[slot, Y, i] + h * (9017 / 3168 * w[slot, F, i] - 355 / 33 * w[slot, K2, i]
                                                     + 46732 / 5247 * w[slot, K3, i] + 49 / 176 * w[slot, K4, i]
                                                     - 5103 / 18656 * w[slot, K5, i])
    else:
        for i in range(N_STATES):
            w[slot, into, i] = w[slot, Y, i] + h * (35 / 384 * w[slot, F, i] + 500 / 1113 * w[slot, K3, i]
                                                     + 125 / 192 * w[slot, K4, i] - 2187 / 6784 * w[slot, K5, i]
                                                     + 11 / 84 * w[slot, K6, i])


@njit(**JIT)
def _dopri_steps(w, p, derived, h, explicit, rtol, atol, error, stiffness):
    """One Dormand-Prince 5(4) step (FSAL) from rows Y, F to rows Y_NEW, F_NEW for each slot marked ``explicit``.

    The slots advance stage by stage together, and each stage's library calls (logs, powers) of all slots run
    back to back: a call waits for its argument and the next stage waits for the call, but the calls of different
    mice are independent, so the processor overlaps them. Writes each slot's error norm and h times its local
    Lipschitz estimate (Hairer's stiffness test).
    """
    for stage in range(2, 8):
        into, rate = (STAGE, K2 + stage - 2) if stage < 7 else (Y_NEW, F_NEW)
        for slot in range(SLOTS):
            if explicit[slot]:
                _dopri_stage(w, slot, stage, into, h[slot])
        for slot in range(SLOTS):
            if explicit[slot]:
                rhs_calls(w, slot, into, p, derived)
        for slot in range(SLOTS):
            if explicit[slot]:
                rhs_rest(w, slot, into, rate, p, derived)
    # STAGE keeps the sixth stage's state, which the stiffness estimate compares with Y_NEW
    for slot in range(SLOTS):
        if explicit[slot]:
            total = 0.0
            num = 0.0
            den = 0.0
            for i in range(N_STATES):
                local = h[slot] * (-71 / 57600 * w[slot, F, i] + 71 / 16695 * w[slot, K3, i]
                                   - 71 / 1920 * w[slot, K4, i] + 17253 / 339200 * w[slot, K5, i]
                                   - 22 / 525 * w[slot, K6, i] + 1 / 40 * w[slot, F_NEW, i])
                # the stiffness estimate is weighted as the error is: unweighted, the cell counts (1e9) would hide
                # the fast interferon states
                weight = 1.0 / (atol + rtol * max(abs(w[slot, Y, i]), abs(w[slot, Y_NEW, i])))
                total += (local * weight) ** 2
                num += ((w[slot, F_NEW, i] - w[slot, K6, i]) * weight) ** 2
                den += ((w[slot, Y_NEW, i] - w[slot, STAGE, i]) * weight) ** 2
            error[slot] = math.sqrt(total / N_STATES)
            stiffness[slot] = h[slot] * math.sqrt(num / den) if den > 0.0 else 0.0


@njit(**JIT)
def _lu(a, slot, pivots):
    """In-place LU factorisation of a[slot] with partial pivoting; False if singular."""
    n = N_STATES
    for c in range(n):
        best = c
        for r in range(c + 1, n):
            if abs(a[slot, r, c]) > abs(a[slot, best, c]):
                best = r
        pivots[slot, c] = best
        if a[slot, best, c] == 0.0:
            return False
        if best != c:
            for j in range(n):
                a[slot, c, j], a[slot, best, j] = a[slot, best, j], a[slot, c, j]
        for r in range(c + 1, n):
            a[slot, r, c] /= a[slot, c, c]
            factor = a[slot, r, c]
            if factor != 0.0:
                for j in range(c + 1, n):
                    a[slot, r, j] -= factor * a[slot, c, j]
    return True


@njit(**JIT)
def _solve(a, slot, pivots, w, row):
    """Solve in place for row ``row`` of the slot's work array with the factors of ``_lu``."""
    n = N_STATES
    for c in range(n):
        q = pivots[slot, c]
        if q != c:
            w[slot, row, c], w[slot, row, q] = w[slot, row, q], w[slot, row, c]
    for r in range(n):
        for j in range(r):
            w[slot, row, r] -= a[slot, r, j] * w[slot, row, j]
    for r in range(n - 1, -1, -1):
        for j in range(r + 1, n):
            w[slot, row, r] -= a[slot, r, j] * w[slot, row, j]
        w[slot, row, r] /= a[slot, r, r]


@njit(**JIT)
def _rosenbrock_step(w, slot, p, derived, h, rtol, atol, jac, a, pivots):
    """One Rosenbrock step from rows Y, F with the Jacobian ``jac[slot]`` at Y: fills row Y_NEW; returns the error
    norm (inf if the iteration matrix is singular). The stages g1-g4 are rows K2-K5, stage rates row K6."""
    n = N_STATES
    for r in range(n):
        for c in range(n):
            a[slot, r, c] = -jac[slot, r, c]
        a[slot, r, r] += 1.0 / (_GAMMA * h)
    if not _lu(a, slot, pivots):
        return np.inf
    for i in range(n):
        w[slot, K2, i] = w[slot, F, i]
    _solve(a, slot, pivots, w, K2)
    for i in range(n):
        w[slot, STAGE, i] = w[slot, Y, i] + _A21 * w[slot, K2, i]
    rhs(w, slot, STAGE, K6, p, derived)
    for i in range(n):
        w[slot, K3, i] = w[slot, K6, i] + _C21 * w[slot, K2, i] / h
    _solve(a, slot, pivots, w, K3)
    for i in range(n):
        w[slot, STAGE, i] = w[slot, Y, i] + _A31 * w[slot, K2, i] + _A32 * w[slot, K3, i]
    rhs(w, slot, STAGE, K6, p, derived)
    for i in range(n):
        w[slot, K4, i] = w[slot, K6, i] + (_C31 * w[slot, K2, i] + _C32 * w[slot, K3, i]) / h
    _solve(a, slot, pivots, w, K4)
    for i in range(n):
        w[slot, K5, i] = w[slot, K6, i] + (_C41 * w[slot, K2, i] + _C42 * w[slot, K3, i] + _C43 * w[slot, K4, i]) / h
    _solve(a, slot, pivots, w, K5)
    error = 0.0
    for i in range(n):
        w[slot, Y_NEW, i] = (w[slot, Y, i] + _B1 * w[slot, K2, i] + _B2 * w[slot, K3, i] + _B3 * w[slot, K4, i]
                             + _B4 * w[slot, K5, i])
        e = _E1 * w[slot, K2, i] + _E2 * w[slot, K3, i] + _E3 * w[slot, K4, i] + _E4 * w[slot, K5, i]
        error += (e / (atol + rtol * max(abs(w[slot, Y, i]), abs(w[slot, Y_NEW, i])))) ** 2
    return math.sqrt(error / n)


@njit(**JIT)
def _jacobian_bound(jac, slot):
    """Infinity norm of the slot's Jacobian: a bound on its spectral radius [1/time]."""
    worst = 0.0
    for r in range(N_STATES):
        row = 0.0
        for c in range(N_STATES):
            row += abs(jac[slot, r, c])
        worst = max(worst, row)
    return worst


@njit(**JIT)
def _finished(endpoint_value, endpoint, absorbing):
    """After its metastasis, a mouse is followed only until it cannot reach the humane endpoint any more.

    That is when the endpoint state (``endpoint_value``) is exactly zero and stays there (``absorbing``: proven on
    the formulas when the module was generated, and no jump adds to it), e.g. once surgery has removed the primary.
    """
    return endpoint < 0 or (absorbing and endpoint_value == 0.0)


@njit(**JIT)
def _next_segment(slot, w, p, derived, base, clock, segment, days, cuts, window_index, window_value, jump_segment,
                  jump_state, jump_scale, jump_add, endpoint, absorbing, rtol, atol):
    """Move the slot's mouse to its next schedule segment that has length: apply the jumps at its start, hold its
    windows' parameters, and set the slot's clock (t, stop, h). False if the mouse is done instead: the schedule
    ended, it was culled, or it has its metastasis day and can no longer reach the endpoint."""
    while True:
        segment[slot] += 1
        current = segment[slot]
        if current >= len(cuts) - 1 or not np.isnan(days[slot, 1]):
            return False
        for j in range(len(jump_segment)):
            if jump_segment[j] == current:
                q = jump_state[j]
                w[slot, Y, q] = w[slot, Y, q] * jump_scale[j] + jump_add[j]
        if not np.isnan(days[slot, 0]) and _finished(w[slot, Y, max(endpoint, 0)], endpoint, absorbing):
            return False
        if cuts[current + 1] > cuts[current]:
            break
    for q in range(p.shape[1]):
        p[slot, q] = base[q]
    for col in range(window_index.shape[1]):
        if window_index[current, col] >= 0:
            p[slot, window_index[current, col]] = window_value[current, col]
    clock[slot, 0], clock[slot, 1] = cuts[current], cuts[current + 1]
    derive(p, slot, derived)
    rhs(w, slot, Y, F, p, derived)
    clock[slot, 2] = _initial_step(w, slot, p, derived, rtol, atol, clock[slot, 1] - clock[slot, 0])
    return True


@njit(**JIT)
def solve_mice(first, last, initial, params, thresholds, cuts, window_index, window_value, jump_segment, jump_state,
               jump_scale, jump_add, detect, endpoint, absorbing, rtol, atol, method, max_steps, chance, keys, limits,
               out):
    """Integrate mice first to last - 1 (rows of initial, params, thresholds and out), ``SLOTS`` at a time.

    Each mouse runs over the schedule's segments and gets (metastasis day, endpoint day, status, steps) in its row
    of ``out``. ``method``: 0 switches automatically, 1 is Dormand-Prince only, 2 Rosenbrock only. ``absorbing``:
    the endpoint state, once exactly zero, stays zero (the model keeps it there and no jump adds to it).
    ``chance``: the burden of state CHANCE_STATE is left to chance while small (``sim.chance``), with each mouse's
    ``keys`` and ``limits`` (its ``chance_limit``); every INTERVAL days the state is interpolated within the
    accepted step, updated by ``_chance_update``, and where the burden changed the step ends there. A held burden
    has 0 in the last column of ``params``, which the generated equations multiply its rate by.
    """
    n = N_STATES
    w = np.empty((SLOTS, WORK_ROWS, WORK_COLUMNS))
    p = np.empty((SLOTS, params.shape[1]))
    derived = np.empty((SLOTS, N_DERIVED))
    jac, a = np.zeros((SLOTS, n, n)), np.empty((SLOTS, n, n))
    pivots = np.empty((SLOTS, n), np.int64)
    mouse = np.full(SLOTS, -1)
    clock = np.zeros((SLOTS, 3))  # t, end of the segment, next step size [time]
    days = np.full((SLOTS, 2), np.nan)  # metastasis and endpoint day [time]
    segment, steps, counter = np.zeros(SLOTS, np.int64), np.zeros(SLOTS, np.int64), np.zeros(SLOTS, np.int64)
    stiff, jac_fresh, explicit = np.zeros(SLOTS, np.bool_), np.zeros(SLOTS, np.bool_), np.zeros(SLOTS, np.bool_)
    h, error, stiffness = np.zeros(SLOTS), np.zeros(SLOTS), np.zeros(SLOTS)
    counted, update = np.zeros(SLOTS, np.bool_), np.zeros(SLOTS, np.int64)
    colony = np.zeros((SLOTS, 3))
    moves = params.shape[1] - 1
    upcoming = first
    while True:
        for slot in range(SLOTS):
            while mouse[slot] < 0 and upcoming < last:  # a free slot takes the next mouse
                m = upcoming
                upcoming += 1
                mouse[slot] = m
                for i in range(n):
                    w[slot, Y, i] = initial[m, i]
                days[slot, 0] = 0.0 if detect >= 0 and initial[m, detect] >= thresholds[m, 0] else np.nan
                days[slot, 1] = 0.0 if endpoint >= 0 and initial[m, endpoint] >= thresholds[m, 1] else np.nan
                segment[slot], steps[slot], counter[slot] = -1, 0, 0
                stiff[slot] = method == 2
                update[slot] = 1
                counted[slot] = chance and initial[m, CHANCE_STATE] < 0.5 * limits[m]
                if counted[slot]:
                    w[slot, Y, CHANCE_STATE] = _whole_cells(initial[m, CHANCE_STATE], keys[m])
                    params[m, moves] = 0.0
                if not _next_segment(slot, w, p, derived, params[m], clock, segment, days, cuts, window_index,
                                     window_value, jump_segment, jump_state, jump_scale, jump_add, endpoint, absorbing,
                                     rtol, atol):
                    _finish(out[m], days[slot, 0], days[slot, 1], OK, 0)
                    mouse[slot] = -1
                jac_fresh[slot] = False
        if mouse.max() < 0:
            break
        for slot in range(SLOTS):
            explicit[slot] = mouse[slot] >= 0 and not stiff[slot]
            if mouse[slot] >= 0:
                steps[slot] += 1
                t, stop = clock[slot, 0], clock[slot, 1]
                h[slot] = stop - t if clock[slot, 2] >= (stop - t) * (1.0 - 1e-12) else clock[slot, 2]
        _dopri_steps(w, p, derived, h, explicit, rtol, atol, error, stiffness)
        # each slot's step is judged here, in line: a helper called per slot and step would be passed a dozen
        # reference-counted arrays (see the module's docstring)
        for slot in range(SLOTS):
            m = mouse[slot]
            if m < 0:
                continue
            t, stop, step = clock[slot, 0], clock[slot, 1], h[slot]
            if stiff[slot]:
                if not jac_fresh[slot]:
                    jacobian(w, slot, Y, p, derived, jac)
                    jac_fresh[slot] = True
                error[slot] = _rosenbrock_step(w, slot, p, derived, step, rtol, atol, jac, a, pivots)
            order = 4.0 if stiff[slot] else 5.0
            status = OK
            if steps[slot] > max_steps:
                status = TOO_MANY_STEPS
            elif not math.isfinite(error[slot]):
                clock[slot, 2] = 0.2 * step
                if clock[slot, 2] < 1e-12 * max(1.0, abs(t)):
                    status = NOT_FINITE
            elif error[slot] > 1.0:
                clock[slot, 2] = step * max(0.2, 0.9 * error[slot] ** (-1.0 / order))
            else:
                if stiff[slot]:
                    rhs(w, slot, Y_NEW, F_NEW, p, derived)
                t_new = stop if step == stop - t else t + step
                moved = False
                while chance and update[slot] * INTERVAL <= t_new:
                    day = update[slot] * INTERVAL
                    theta = min(1.0, max(0.0, (day - t) / step))
                    for i in range(n):
                        w[slot, STAGE, i] = _hermite(w, slot, step, theta, i)
                    colony_rates(w, slot, STAGE, p, colony)
                    burden, now_counted = _chance_update(
                        w[slot, STAGE, CHANCE_STATE], counted[slot], colony[slot, 0], colony[slot, 1], colony[slot, 2],
                        limits[m], keys[m], update[slot])
                    update[slot] += 1
                    if burden != w[slot, STAGE, CHANCE_STATE] or now_counted != counted[slot]:
                        # the step ends at the update: crossings are looked for up to here, and the mouse goes on
                        # from the changed burden
                        for i in range(n):
                            w[slot, Y_NEW, i] = w[slot, STAGE, i]
                        rhs(w, slot, Y_NEW, F_NEW, p, derived)
                        step, t_new, moved = day - t, day, True
                        counted[slot] = now_counted
                        params[m, moves] = 0.0 if now_counted else 1.0
                        break
                if detect >= 0 and np.isnan(days[slot, 0]) and w[slot, Y, detect] < thresholds[m, 0] <= w[slot, Y_NEW, detect]:
                    days[slot, 0] = _crossing(w, slot, t, step, detect, thresholds[m, 0])
                if endpoint >= 0 and w[slot, Y, endpoint] < thresholds[m, 1] <= w[slot, Y_NEW, endpoint]:
                    days[slot, 1] = _crossing(w, slot, t, step, endpoint, thresholds[m, 1])
                # stiffness switches, counted over accepted steps
                if method == 0:
                    if stiff[slot]:
                        counter[slot] = counter[slot] + 1 if step * _jacobian_bound(jac, slot) < _EXPLICIT_SAFE else 0
                        if counter[slot] >= _SWITCH_AFTER:
                            stiff[slot], counter[slot] = False, 0
                    elif stiffness[slot] > _STIFF_LIMIT:
                        counter[slot] += 1
                        if counter[slot] >= _SWITCH_AFTER:
                            stiff[slot], counter[slot] = True, 0
                    elif counter[slot] > 0 and stiffness[slot] < 0.5 * _STIFF_LIMIT:
                        counter[slot] -= 1
                for i in range(n):
                    w[slot, Y, i] = w[slot, Y_NEW, i]
                    w[slot, F, i] = w[slot, F_NEW, i]
                if moved:
                    w[slot, Y, CHANCE_STATE] = burden
                    p[slot, moves] = params[m, moves]
                    derive(p, slot, derived)
                    rhs(w, slot, Y, F, p, derived)
                clock[slot, 0] = t_new
                jac_fresh[slot] = False
                grow = min(10.0, 0.9 * error[slot] ** (-1.0 / order)) if error[slot] > 0.0 else 10.0
                clock[slot, 2] = step * grow
                done = not np.isnan(days[slot, 1]) or (
                    not np.isnan(days[slot, 0]) and _finished(w[slot, Y, max(endpoint, 0)], endpoint, absorbing))
                if not done and t_new >= stop:
                    done = not _next_segment(slot, w, p, derived, params[m], clock, segment, days, cuts, window_index,
                                             window_value, jump_segment, jump_state, jump_scale, jump_add, endpoint,
                                             absorbing, rtol, atol)
                if done:
                    _finish(out[m], days[slot, 0], days[slot, 1], OK, steps[slot])
                    mouse[slot] = -1
            if status != OK:
                _finish(out[m], days[slot, 0], days[slot, 1], status, steps[slot])
                mouse[slot] = -1


# --- chance in the bone: the functions of sim/chance.py, for one mouse ---
CHANCE_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}
"""No fastmath here: a draw compares a uniform number with sums of probabilities, which must come out as
sim.chance computes them, so that both engines give a mouse the same counts. (numba's exp and power may still
differ from NumPy's in the last bit, so a draw can differ when a uniform falls within ~1e-16 of a boundary.)"""
INTERVAL = 0.25
MAX_ARRIVALS = 200.0
DRAWS = 6
_MAX_TERMS = 100_000
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_DRAW_STRIDE = np.uint64(0xD1B54A32D192ED03)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)


@njit(**CHANCE_JIT)
def _mix(x):
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


@njit(**CHANCE_JIT)
def _uniform(key, update, draw):
    x = _mix(key + np.uint64(update) * _GOLDEN + np.uint64(draw) * _DRAW_STRIDE)
    return (float(x >> np.uint64(11)) + 0.5) * 2.0**-53


@njit(**CHANCE_JIT)
def _lineage(birth, death, span):
    """(survival probability, success probability of the geometric size) of one cell's lineage over ``span``."""
    net = birth - death
    if abs(net * span) < 1e-9:
        survive, size = 1.0 / (1.0 + birth * span), 1.0 + birth * span
    else:
        decay = math.exp(-net * span)
        survive = net / (birth - death * decay)
        size = 1.0 / (survive * decay) if survive * decay > 0.0 else np.inf
    if not survive > 0.0:
        return 0.0, 1.0
    survive = min(survive, 1.0)
    if not math.isfinite(size):
        size = 1e300
    return survive, 1.0 / max(size, 1.0)


@njit(**CHANCE_JIT)
def _poisson(u, mean):
    term = math.exp(-mean)
    total, count = term, 0.0
    while u > total and count < _MAX_TERMS:
        term = term * mean / (count + 1.0)
        count += 1.0
        total += term
        if not term > 0.0:
            break
    return count


@njit(**CHANCE_JIT)
def _binomial(u, trials, chance):
    flip = chance > 0.5
    q = 1.0 - chance if flip else chance
    if flip:
        u = 1.0 - u
    odds = q / max(1.0 - q, 1e-300)
    term = (1.0 - q) ** trials
    total, count = term, 0.0
    while u > total and count < trials and count < _MAX_TERMS:
        term = term * (trials - count) / (count + 1.0) * odds
        count += 1.0
        total += term
        if not term > 0.0:
            break
    return trials - count if flip else count


@njit(**CHANCE_JIT)
def _geometric_sum(u, lineages, q):
    term = q**lineages
    total, count = term, 0.0
    while u > total and count < _MAX_TERMS:
        term = term * (lineages + count) / (count + 1.0) * (1.0 - q)
        count += 1.0
        total += term
        if not term > 0.0:
            break
    return lineages + count


@njit(**CHANCE_JIT)
def _chance_update(burden, counted, arrivals, birth, death, limit, key, index):
    """(burden, counted) after chance update ``index``: ``sim.chance.update`` for one mouse."""
    if not counted:
        if burden < 0.5 * limit:
            burden = max(burden, 0.0)
            whole = math.floor(burden)
            return whole + (1.0 if _uniform(key, index, DRAWS - 1) < burden - whole else 0.0), True
        return burden, False
    expected = arrivals * INTERVAL
    if expected > MAX_ARRIVALS:
        return burden + expected, False
    arrived = _poisson(_uniform(key, index, 0), expected)
    survive, q = _lineage(birth, death, INTERVAL)
    survive_half, q_half = _lineage(birth, death, 0.5 * INTERVAL)
    kept = _binomial(_uniform(key, index, 1), burden, survive)
    founded = _binomial(_uniform(key, index, 2), arrived, survive_half)
    cells = _geometric_sum(_uniform(key, index, 3), kept, q) + _geometric_sum(_uniform(key, index, 4), founded, q_half)
    return cells, cells < limit


@njit(**CHANCE_JIT)
def _whole_cells(burden, key):
    burden = max(burden, 0.0)
    whole = math.floor(burden)
    return whole + (1.0 if _uniform(key, 0, DRAWS - 1) < burden - whole else 0.0)


@njit(**JIT)
def _finish(row, metastasis, culled, status, steps):
    """Write a mouse's (metastasis day, endpoint day, status, steps) to its row of the output."""
    if not np.isnan(culled) and not np.isnan(metastasis) and culled < metastasis:
        metastasis = np.nan  # the mouse was culled before its metastasis could be detected
    row[0], row[1], row[2], row[3] = metastasis, culled, status, steps
