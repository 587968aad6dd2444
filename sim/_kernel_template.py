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
def rhs(y, p, derived, dy):
    dy[0] = derived[0] * y[0]


@njit(**JIT)
def jacobian(y, p, derived, jac):
    jac[0, 0] = derived[0]
# --- end of equations ---


OK, TOO_MANY_STEPS, NOT_FINITE = 0, 1, 2
"""A mouse's status: how its integration ended."""

_A = np.array([
    [0.0, 0.0, 0.0, 0.0, 0.0],
    [1 / 5, 0.0, 0.0, 0.0, 0.0],
    [3 / 40, 9 / 40, 0.0, 0.0, 0.0],
    [44 / 45, -56 / 15, 32 / 9, 0.0, 0.0],
    [19372 / 6561, -25360 / 2187, 64448 / 6561, -212 / 729, 0.0],
    [9017 / 3168, -355 / 33, 46732 / 5247, 49 / 176, -5103 / 18656],
])
_B = np.array([35 / 384, 0.0, 500 / 1113, 125 / 192, -2187 / 6784, 11 / 84])
_E = np.array([-71 / 57600, 0.0, 71 / 16695, -71 / 1920, 17253 / 339200, -22 / 525, 1 / 40])
"""Dormand-Prince 5(4) (as scipy's RK45): stage coefficients, 5th-order weights, error weights (7 stages, FSAL)."""

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
def _norm(err, y0, y1, rtol, atol):
    total = 0.0
    for i in range(N_STATES):
        scale = atol + rtol * max(abs(y0[i]), abs(y1[i]))
        total += (err[i] / scale) ** 2
    return math.sqrt(total / N_STATES)


@njit(**JIT)
def _hermite(y0, y1, f0, f1, h, theta, i):
    """Cubic Hermite interpolant of component i at fraction theta of a step of size h."""
    d = y1[i] - y0[i]
    return (1.0 - theta) * y0[i] + theta * y1[i] + theta * (theta - 1.0) * (
        (1.0 - 2.0 * theta) * d + (theta - 1.0) * h * f0[i] + theta * h * f1[i])


@njit(**JIT)
def _crossing(y0, y1, f0, f1, t, h, i, threshold):
    """Time within [t, t + h] at which component i rises through ``threshold`` (Illinois regula falsi)."""
    lo, hi = 0.0, 1.0
    g_lo, g_hi = y0[i] - threshold, y1[i] - threshold
    side = 0
    for _ in range(60):
        if hi - lo < 1e-13:
            break
        mid = (lo * g_hi - hi * g_lo) / (g_hi - g_lo) if g_hi != g_lo else 0.5 * (lo + hi)
        if not lo < mid < hi:
            mid = 0.5 * (lo + hi)
        g = _hermite(y0, y1, f0, f1, h, mid, i) - threshold
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
def _initial_step(y, f, p, derived, rtol, atol, span, work):
    """Hairer's starting step (as scipy's select_initial_step) for a method of order 4."""
    d0 = 0.0
    d1 = 0.0
    for i in range(N_STATES):
        scale = atol + rtol * abs(y[i])
        d0 += (y[i] / scale) ** 2
        d1 += (f[i] / scale) ** 2
    d0, d1 = math.sqrt(d0 / N_STATES), math.sqrt(d1 / N_STATES)
    h0 = 1e-6 if d0 < 1e-5 or d1 < 1e-5 else 0.01 * d0 / d1
    h0 = min(h0, span)
    y1, f1 = work[0], work[1]
    for i in range(N_STATES):
        y1[i] = y[i] + h0 * f[i]
    rhs(y1, p, derived, f1)
    d2 = 0.0
    for i in range(N_STATES):
        scale = atol + rtol * abs(y[i])
        d2 += ((f1[i] - f[i]) / scale) ** 2
    d2 = math.sqrt(d2 / N_STATES) / h0
    h1 = max(1e-6, h0 * 1e-3) if d1 <= 1e-15 and d2 <= 1e-15 else (0.01 / max(d1, d2)) ** 0.2
    return min(100.0 * h0, h1, span)


@njit(**JIT)
def _dopri_step(y, f0, p, derived, h, rtol, atol, k, y_new, f_new, stage, err):
    """One Dormand-Prince step: fills y_new and f_new; returns (error norm, h * Lipschitz estimate)."""
    for i in range(N_STATES):
        k[0, i] = f0[i]
    for s in range(1, 6):
        for i in range(N_STATES):
            acc = 0.0
            for j in range(s):
                acc += _A[s, j] * k[j, i]
            stage[i] = y[i] + h * acc
        rhs(stage, p, derived, k[s])
    # stage now holds the sixth stage's state, which the stiffness estimate compares with y_new
    for i in range(N_STATES):
        acc = 0.0
        for j in range(6):
            acc += _B[j] * k[j, i]
        y_new[i] = y[i] + h * acc
    rhs(y_new, p, derived, f_new)
    for i in range(N_STATES):
        k[6, i] = f_new[i]
    num = 0.0
    den = 0.0
    for i in range(N_STATES):
        acc = 0.0
        for j in range(7):
            acc += _E[j] * k[j, i]
        # scaled as the error is: unscaled, the cell counts (1e9) would hide the fast interferon states
        scale = atol + rtol * abs(y_new[i])
        num += ((f_new[i] - k[5, i]) / scale) ** 2
        den += ((y_new[i] - stage[i]) / scale) ** 2
        err[i] = h * acc
    stiffness = h * math.sqrt(num / den) if den > 0.0 else 0.0
    return _norm(err, y, y_new, rtol, atol), stiffness


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
def _solve(a, pivots, b):
    """Solve in place with the factors of ``_lu``."""
    n = N_STATES
    for c in range(n):
        q = pivots[c]
        if q != c:
            b[c], b[q] = b[q], b[c]
    for r in range(n):
        for j in range(r):
            b[r] -= a[r, j] * b[j]
    for r in range(n - 1, -1, -1):
        for j in range(r + 1, n):
            b[r] -= a[r, j] * b[j]
        b[r] /= a[r, r]


@njit(**JIT)
def _rosenbrock_step(y, f0, p, derived, h, rtol, atol, jac, a, pivots, g, y_new, stage, f_stage):
    """One Rosenbrock step with the Jacobian ``jac`` at y: fills y_new; returns the error norm (inf if singular)."""
    n = N_STATES
    for r in range(n):
        for c in range(n):
            a[r, c] = -jac[r, c]
        a[r, r] += 1.0 / (_GAMMA * h)
    if not _lu(a, pivots):
        return np.inf
    g1, g2, g3, g4 = g[0], g[1], g[2], g[3]
    for i in range(n):
        g1[i] = f0[i]
    _solve(a, pivots, g1)
    for i in range(n):
        stage[i] = y[i] + _A21 * g1[i]
    rhs(stage, p, derived, f_stage)
    for i in range(n):
        g2[i] = f_stage[i] + _C21 * g1[i] / h
    _solve(a, pivots, g2)
    for i in range(n):
        stage[i] = y[i] + _A31 * g1[i] + _A32 * g2[i]
    rhs(stage, p, derived, f_stage)
    for i in range(n):
        g3[i] = f_stage[i] + (_C31 * g1[i] + _C32 * g2[i]) / h
    _solve(a, pivots, g3)
    for i in range(n):
        g4[i] = f_stage[i] + (_C41 * g1[i] + _C42 * g2[i] + _C43 * g3[i]) / h
    _solve(a, pivots, g4)
    err = stage  # reused: the stages are done
    for i in range(n):
        y_new[i] = y[i] + _B1 * g1[i] + _B2 * g2[i] + _B3 * g3[i] + _B4 * g4[i]
        err[i] = _E1 * g1[i] + _E2 * g2[i] + _E3 * g3[i] + _E4 * g4[i]
    return _norm(err, y, y_new, rtol, atol)


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

    ``y`` (initial states) and ``p`` (parameters, a working copy of ``base``) are changed in place.
    ``method``: 0 switches automatically, 1 is Dormand-Prince only, 2 Rosenbrock only. ``absorbing``: the
    endpoint state, once exactly zero, stays zero (the model keeps it there and no jump adds to it).
    """
    n = N_STATES
    metastasis, culled = np.nan, np.nan
    if detect >= 0 and y[detect] >= thresholds[0]:
        metastasis = 0.0
    if endpoint >= 0 and y[endpoint] >= thresholds[1]:
        culled = 0.0
    f0, f1, y_new = np.empty(n), np.empty(n), np.empty(n)
    stage, f_stage = np.empty(n), np.empty(n)
    k = np.empty((7, n))
    g = np.empty((4, n))
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
                y[jump_state[j]] = y[jump_state[j]] * jump_scale[j] + jump_add[j]
        if not np.isnan(metastasis) and _finished(y, endpoint, absorbing):
            break
        for q in range(len(p)):
            p[q] = base[q]
        for w in range(window_index.shape[1]):
            if window_index[segment, w] >= 0:
                p[window_index[segment, w]] = window_value[segment, w]
        t, stop = cuts[segment], cuts[segment + 1]
        derive(p, derived)
        rhs(y, p, derived, f0)
        h = _initial_step(y, f0, p, derived, rtol, atol, stop - t, k)
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
                    jacobian(y, p, derived, jac)
                    jac_fresh = True
                error = _rosenbrock_step(y, f0, p, derived, h, rtol, atol, jac, a, pivots, g, y_new, stage, f_stage)
                order = 4.0
            else:
                error, stiffness = _dopri_step(y, f0, p, derived, h, rtol, atol, k, y_new, f1, stage, f_stage)
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
                rhs(y_new, p, derived, f1)
            t_new = stop if last else t + h
            if detect >= 0 and np.isnan(metastasis) and y[detect] < thresholds[0] <= y_new[detect]:
                metastasis = _crossing(y, y_new, f0, f1, t, h, detect, thresholds[0])
            if endpoint >= 0 and y[endpoint] < thresholds[1] <= y_new[endpoint]:
                culled = _crossing(y, y_new, f0, f1, t, h, endpoint, thresholds[1])
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
                y[i] = y_new[i]
                f0[i] = f1[i]
            t = t_new
            jac_fresh = False
            if not np.isnan(culled) or (not np.isnan(metastasis) and _finished(y, endpoint, absorbing)):
                break
            h *= min(10.0, 0.9 * error ** (-1.0 / order)) if error > 0.0 else 10.0
        if status != OK:
            break
    if not np.isnan(culled) and not np.isnan(metastasis) and culled < metastasis:
        metastasis = np.nan  # the mouse was culled before its metastasis could be detected
    out[0], out[1], out[2], out[3] = metastasis, culled, status, steps


@njit(**JIT)
def _finished(y, endpoint, absorbing):
    """After its metastasis, a mouse is followed only until it cannot reach the humane endpoint any more.

    That is when the endpoint state is exactly zero and stays there (``absorbing``: proven on the formulas
    when the module was generated, and no jump adds to it), e.g. once surgery has removed the primary.
    """
    return endpoint < 0 or (absorbing and y[endpoint] == 0.0)


@njit(**JIT)
def solve_mice(first, last, initial, params, thresholds, cuts, window_index, window_value, jump_segment, jump_state,
               jump_scale, jump_add, detect, endpoint, absorbing, rtol, atol, method, max_steps, out):
    """``solve_mouse`` for mice first to last - 1 (rows of initial, params, thresholds and out)."""
    for m in range(first, last):
        solve_mouse(initial[m].copy(), params[m].copy(), params[m], thresholds[m], cuts, window_index, window_value,
                    jump_segment, jump_state, jump_scale, jump_add, detect, endpoint, absorbing, rtol, atol, method,
                    max_steps, out[m])
