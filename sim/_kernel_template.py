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

A mouse's vectors are rows of one work array (``Y``, ``F``, ... below),
addressed by row number, never slices or separate arrays: numba counts
references to every array a function receives or slices, with atomic
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
N_DERIVED = 1
ENDPOINT_ABSORBING = False


@njit(**JIT)
def derive(p, derived):
    derived[0] = -p[0]


@njit(**JIT)
def rhs(w, src, dst, p, derived):
    w[dst, 0] = derived[0] * w[src, 0]


@njit(**JIT)
def jacobian(w, src, p, derived, jac):
    jac[0, 0] = derived[0]
# --- end of equations ---


OK, TOO_MANY_STEPS, NOT_FINITE = 0, 1, 2
"""A mouse's status: how its integration ended."""

Y, F, Y_NEW, F_NEW, STAGE, K2, K3, K4, K5, K6 = range(10)
"""Rows of a mouse's work array: the state at the step's start and its rate, the state at the step's end and its
rate, a stage's state, and the rates of Dormand-Prince's stages 2-6 (the Rosenbrock step keeps its four stage
vectors in K2-K5 and its stage rates in K6)."""
WORK_ROWS = 10

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
def _hermite(w, h, theta, i):
    """Cubic Hermite interpolant of component i at fraction theta of the step of size h from row Y to row Y_NEW."""
    d = w[Y_NEW, i] - w[Y, i]
    return (1.0 - theta) * w[Y, i] + theta * w[Y_NEW, i] + theta * (theta - 1.0) * (
        (1.0 - 2.0 * theta) * d + (theta - 1.0) * h * w[F, i] + theta * h * w[F_NEW, i])


@njit(**JIT)
def _crossing(w, t, h, i, threshold):
    """Time within [t, t + h] at which component i rises through ``threshold`` (Illinois regula falsi)."""
    lo, hi = 0.0, 1.0
    g_lo, g_hi = w[Y, i] - threshold, w[Y_NEW, i] - threshold
    side = 0
    for _ in range(60):
        if hi - lo < 1e-13:
            break
        mid = (lo * g_hi - hi * g_lo) / (g_hi - g_lo) if g_hi != g_lo else 0.5 * (lo + hi)
        if not lo < mid < hi:
            mid = 0.5 * (lo + hi)
        g = _hermite(w, h, mid, i) - threshold
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
def _initial_step(w, p, derived, rtol, atol, span):
    """Hairer's starting step (as scipy's select_initial_step) for a method of order 4, from rows Y and F."""
    d0 = 0.0
    d1 = 0.0
    for i in range(N_STATES):
        scale = atol + rtol * abs(w[Y, i])
        d0 += (w[Y, i] / scale) ** 2
        d1 += (w[F, i] / scale) ** 2
    d0, d1 = math.sqrt(d0 / N_STATES), math.sqrt(d1 / N_STATES)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, span)
    for i in range(N_STATES):
        w[STAGE, i] = w[Y, i] + h0 * w[F, i]
    rhs(w, STAGE, K2, p, derived)
    d2 = 0.0
    for i in range(N_STATES):
        scale = atol + rtol * abs(w[Y, i])
        d2 += ((w[K2, i] - w[F, i]) / scale) ** 2
    d2 = math.sqrt(d2 / N_STATES) / h0
    h1 = max(1e-6, h0 * 1e-3) if d1 <= 1e-15 and d2 <= 1e-15 else (0.01 / max(d1, d2)) ** 0.2
    return min(100.0 * h0, h1, span)


@njit(**JIT)
def _dopri_step(w, p, derived, h, rtol, atol):
    """One Dormand-Prince 5(4) step (scipy's RK45 tableau, FSAL) from rows Y, F to rows Y_NEW, F_NEW.

    Returns the error norm and h times an estimate of the local Lipschitz constant (Hairer's stiffness test).
    """
    for i in range(N_STATES):
        w[STAGE, i] = w[Y, i] + h * (1 / 5 * w[F, i])
    rhs(w, STAGE, K2, p, derived)
    for i in range(N_STATES):
        w[STAGE, i] = w[Y, i] + h * (3 / 40 * w[F, i] + 9 / 40 * w[K2, i])
    rhs(w, STAGE, K3, p, derived)
    for i in range(N_STATES):
        w[STAGE, i] = w[Y, i] + h * (44 / 45 * w[F, i] - 56 / 15 * w[K2, i] + 32 / 9 * w[K3, i])
    rhs(w, STAGE, K4, p, derived)
    for i in range(N_STATES):
        w[STAGE, i] = w[Y, i] + h * (19372 / 6561 * w[F, i] - 25360 / 2187 * w[K2, i] + 64448 / 6561 * w[K3, i]
                                     - 212 / 729 * w[K4, i])
    rhs(w, STAGE, K5, p, derived)
    for i in range(N_STATES):
        w[STAGE, i] = w[Y, i] + h * (9017 / 3168 * w[F, i] - 355 / 33 * w[K2, i] + 46732 / 5247 * w[K3, i]
                                     + 49 / 176 * w[K4, i] - 5103 / 18656 * w[K5, i])
    rhs(w, STAGE, K6, p, derived)
    # STAGE keeps the sixth stage's state, which the stiffness estimate compares with Y_NEW
    for i in range(N_STATES):
        w[Y_NEW, i] = w[Y, i] + h * (35 / 384 * w[F, i] + 500 / 1113 * w[K3, i] + 125 / 192 * w[K4, i]
                                     - 2187 / 6784 * w[K5, i] + 11 / 84 * w[K6, i])
    rhs(w, Y_NEW, F_NEW, p, derived)
    error = 0.0
    num = 0.0
    den = 0.0
    for i in range(N_STATES):
        e = h * (-71 / 57600 * w[F, i] + 71 / 16695 * w[K3, i] - 71 / 1920 * w[K4, i] + 17253 / 339200 * w[K5, i]
                 - 22 / 525 * w[K6, i] + 1 / 40 * w[F_NEW, i])
        error += (e / (atol + rtol * max(abs(w[Y, i]), abs(w[Y_NEW, i])))) ** 2
        # scaled as the error is: unscaled, the cell counts (1e9) would hide the fast interferon states
        scale = atol + rtol * abs(w[Y_NEW, i])
        num += ((w[F_NEW, i] - w[K6, i]) / scale) ** 2
        den += ((w[Y_NEW, i] - w[STAGE, i]) / scale) ** 2
    stiffness = h * math.sqrt(num / den) if den > 0.0 else 0.0
    return math.sqrt(error / N_STATES), stiffness


@njit(**JIT)
def _lu(a, pivots):
    """In-place LU factorisation with partial pivoting; False if singular."""
    n = N_STATES
    for c in range(n):
        best = c
        for r in range(c + 1, n):
            if abs(a[r, c]) > abs(a[best, c]):
                best = r
        pivots[c] = best
        if a[best, c] == 0.0:
            return False
        if best != c:
            for j in range(n):
                a[c, j], a[best, j] = a[best, j], a[c, j]
        for r in range(c + 1, n):
            a[r, c] /= a[c, c]
            factor = a[r, c]
            if factor != 0.0:
                for j in range(c + 1, n):
                    a[r, j] -= factor * a[c, j]
    return True


@njit(**JIT)
def _solve(a, pivots, w, row):
    """Solve in place for row ``row`` of ``w`` with the factors of ``_lu``."""
    n = N_STATES
    for c in range(n):
        q = pivots[c]
        if q != c:
            w[row, c], w[row, q] = w[row, q], w[row, c]
    for r in range(n):
        for j in range(r):
            w[row, r] -= a[r, j] * w[row, j]
    for r in range(n - 1, -1, -1):
        for j in range(r + 1, n):
            w[row, r] -= a[r, j] * w[row, j]
        w[row, r] /= a[r, r]


@njit(**JIT)
def _rosenbrock_step(w, p, derived, h, rtol, atol, jac, a, pivots):
    """One Rosenbrock step from rows Y, F with the Jacobian ``jac`` at Y: fills row Y_NEW; returns the error norm
    (inf if the iteration matrix is singular). The stages g1-g4 are rows K2-K5, stage rates row K6."""
    n = N_STATES
    for r in range(n):
        for c in range(n):
            a[r, c] = -jac[r, c]
        a[r, r] += 1.0 / (_GAMMA * h)
    if not _lu(a, pivots):
        return np.inf
    for i in range(n):
        w[K2, i] = w[F, i]
    _solve(a, pivots, w, K2)
    for i in range(n):
        w[STAGE, i] = w[Y, i] + _A21 * w[K2, i]
    rhs(w, STAGE, K6, p, derived)
    for i in range(n):
        w[K3, i] = w[K6, i] + _C21 * w[K2, i] / h
    _solve(a, pivots, w, K3)
    for i in range(n):
        w[STAGE, i] = w[Y, i] + _A31 * w[K2, i] + _A32 * w[K3, i]
    rhs(w, STAGE, K6, p, derived)
    for i in range(n):
        w[K4, i] = w[K6, i] + (_C31 * w[K2, i] + _C32 * w[K3, i]) / h
    _solve(a, pivots, w, K4)
    for i in range(n):
        w[K5, i] = w[K6, i] + (_C41 * w[K2, i] + _C42 * w[K3, i] + _C43 * w[K4, i]) / h
    _solve(a, pivots, w, K5)
    error = 0.0
    for i in range(n):
        w[Y_NEW, i] = w[Y, i] + _B1 * w[K2, i] + _B2 * w[K3, i] + _B3 * w[K4, i] + _B4 * w[K5, i]
        e = _E1 * w[K2, i] + _E2 * w[K3, i] + _E3 * w[K4, i] + _E4 * w[K5, i]
        error += (e / (atol + rtol * max(abs(w[Y, i]), abs(w[Y_NEW, i])))) ** 2
    return math.sqrt(error / n)


@njit(**JIT)
def _jacobian_bound(jac):
    """Infinity norm of the Jacobian: a bound on its spectral radius [1/time]."""
    worst = 0.0
    for r in range(N_STATES):
        row = 0.0
        for c in range(N_STATES):
            row += abs(jac[r, c])
        worst = max(worst, row)
    return worst


@njit(**JIT)
def solve_mouse(y, p, base, thresholds, cuts, window_index, window_value, jump_segment, jump_state, jump_scale,
                jump_add, detect, endpoint, absorbing, rtol, atol, method, max_steps, out):
    """Integrate one mouse over the schedule's segments; write (metastasis day, endpoint day, status, steps) to ``out``.

    ``y`` (initial states) is read; ``p`` (parameters, a working copy of ``base``) is changed in place.
    ``method``: 0 switches automatically, 1 is Dormand-Prince only, 2 Rosenbrock only. ``absorbing``: the
    endpoint state, once exactly zero, stays zero (the model keeps it there and no jump adds to it).
    """
    n = N_STATES
    metastasis, culled = np.nan, np.nan
    if detect >= 0 and y[detect] >= thresholds[0]:
        metastasis = 0.0
    if endpoint >= 0 and y[endpoint] >= thresholds[1]:
        culled = 0.0
    w = np.empty((WORK_ROWS, n))
    for i in range(n):
        w[Y, i] = y[i]
    jac, a = np.zeros((n, n)), np.empty((n, n))
    pivots = np.empty(n, np.int64)
    derived = np.empty(N_DERIVED)
    stiff = method == 2
    stiffness = 0.0
    counter = 0
    steps = 0
    status = OK
    for segment in range(len(cuts) - 1):
        if not np.isnan(culled):
            break
        for j in range(len(jump_segment)):
            if jump_segment[j] == segment:
                w[Y, jump_state[j]] = w[Y, jump_state[j]] * jump_scale[j] + jump_add[j]
        if not np.isnan(metastasis) and _finished(w[Y, max(endpoint, 0)], endpoint, absorbing):
            break
        for q in range(len(p)):
            p[q] = base[q]
        for col in range(window_index.shape[1]):
            if window_index[segment, col] >= 0:
                p[window_index[segment, col]] = window_value[segment, col]
        t, stop = cuts[segment], cuts[segment + 1]
        derive(p, derived)
        rhs(w, Y, F, p, derived)
        h = _initial_step(w, p, derived, rtol, atol, stop - t)
        jac_fresh = False
        while t < stop:
            steps += 1
            if steps > max_steps:
                status = TOO_MANY_STEPS
                break
            last = h >= (stop - t) * (1.0 - 1e-12)
            if last:
                h = stop - t
            if stiff:
                if not jac_fresh:
                    jacobian(w, Y, p, derived, jac)
                    jac_fresh = True
                error = _rosenbrock_step(w, p, derived, h, rtol, atol, jac, a, pivots)
                order = 4.0
            else:
                error, stiffness = _dopri_step(w, p, derived, h, rtol, atol)
                order = 5.0
            if not math.isfinite(error):
                h *= 0.2
                if h < 1e-12 * max(1.0, abs(t)):
                    status = NOT_FINITE
                    break
                continue
            if error > 1.0:
                h *= max(0.2, 0.9 * error ** (-1.0 / order))
                continue
            if stiff:
                rhs(w, Y_NEW, F_NEW, p, derived)
            t_new = stop if last else t + h
            if detect >= 0 and np.isnan(metastasis) and w[Y, detect] < thresholds[0] <= w[Y_NEW, detect]:
                metastasis = _crossing(w, t, h, detect, thresholds[0])
            if endpoint >= 0 and w[Y, endpoint] < thresholds[1] <= w[Y_NEW, endpoint]:
                culled = _crossing(w, t, h, endpoint, thresholds[1])
            # stiffness switches, counted over accepted steps
            if method == 0:
                if stiff:
                    counter = counter + 1 if h * _jacobian_bound(jac) < _EXPLICIT_SAFE else 0
                    if counter >= _SWITCH_AFTER:
                        stiff, counter = False, 0
                elif stiffness > _STIFF_LIMIT:
                    counter += 1
                    if counter >= _SWITCH_AFTER:
                        stiff, counter = True, 0
                elif counter > 0 and stiffness < 0.5 * _STIFF_LIMIT:
                    counter -= 1
            for i in range(n):
                w[Y, i] = w[Y_NEW, i]
                w[F, i] = w[F_NEW, i]
            t = t_new
            jac_fresh = False
            if not np.isnan(culled) or (not np.isnan(metastasis)
                                        and _finished(w[Y, max(endpoint, 0)], endpoint, absorbing)):
                break
            h *= min(10.0, 0.9 * error ** (-1.0 / order)) if error > 0.0 else 10.0
        if status != OK:
            break
    if not np.isnan(culled) and not np.isnan(metastasis) and culled < metastasis:
        metastasis = np.nan  # the mouse was culled before its metastasis could be detected
    out[0], out[1], out[2], out[3] = metastasis, culled, status, steps


@njit(**JIT)
def _finished(endpoint_value, endpoint, absorbing):
    """After its metastasis, a mouse is followed only until it cannot reach the humane endpoint any more.

    That is when the endpoint state (``endpoint_value``) is exactly zero and stays there (``absorbing``: proven on
    the formulas when the module was generated, and no jump adds to it), e.g. once surgery has removed the primary.
    """
    return endpoint < 0 or (absorbing and endpoint_value == 0.0)


@njit(**JIT)
def solve_mice(first, last, initial, params, thresholds, cuts, window_index, window_value, jump_segment, jump_state,
               jump_scale, jump_add, detect, endpoint, absorbing, rtol, atol, method, max_steps, out):
    """``solve_mouse`` for mice first to last - 1 (rows of initial, params, thresholds and out)."""
    for m in range(first, last):
        solve_mouse(initial[m], params[m].copy(), params[m], thresholds[m], cuts, window_index, window_value,
                    jump_segment, jump_state, jump_scale, jump_add, detect, endpoint, absorbing, rtol, atol, method,
                    max_steps, out[m])
