"""The compiled cohort engine: each mouse integrated on its own, in machine code (the ``fast`` extra).

The right-hand side and Jacobian are generated from ``sim.symbolic.formulas``
(the model's own NumPy ``rhs``, traced with sympy), never written a second
time: sympy's common-subexpression elimination and code printer turn them
into Python source, which is completed with the integrator of
``sim/_kernel_template.py`` and written to a cache directory
(``$TUMORSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/tumorsim``, else
``~/.cache/tumorsim``; never a folder another user can write to, see
``cache_dir``) under a name keyed by a hash of that source and of the
numba and Python versions, and imported only if it holds exactly that source. numba compiles it with ``cache=True``, in a
separate process, so the compilation (about half a minute) happens once per
machine and every process runs the same cached machine code; it is announced
by one line on stderr.

Each mouse takes its own adaptive steps (Dormand-Prince 5(4), switching to a
Rosenbrock method where the mouse turns stiff, see the template), stops at
its humane endpoint, and stops at its metastasis day once it can no longer
reach the endpoint. A thread integrates several mice side by side, stage by
stage, so that the processor overlaps their work (see the template), but
each with its own steps: results do not depend on how a cohort is split
into chunks, threads or slots.

Needs numba and sympy: ``pip install -e '.[fast]'``.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import stat
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from pathlib import Path

import numpy as np

from .errors import InputError
from .models import Model
from .scenarios import Scenario

KERNEL_RTOL = 1e-6
KERNEL_ATOL = 1e-6
"""Per-mouse tolerances of the compiled engine (states in their units). Measured against rtol = 1e-10
solves (benchmarks/engine_speed.py): the dosed arm, whose slow threshold crossings are the most
sensitive, erred by up to 0.0055 day at 3e-6 and 0.009 at 1e-5 on its hardest mice; 1e-6 keeps a wide
margin below 0.01 day for about 20 % more time."""
MAX_STEPS_PER_MOUSE = 100_000
"""Steps one mouse may take (the shipped arms need a few hundred): an extreme parameter stops, not hangs."""
METHODS = {"auto": 0, "explicit": 1, "implicit": 2}
"""Integrator per mouse: switch on stiffness (default), Dormand-Prince only, Rosenbrock only."""
_BLOCK = 64
"""Mice per job handed to a thread: small enough that 200 mice keep both cores busy and uneven mice
balance over the threads, large enough that handing out jobs costs nothing measurable."""
_MARKER = "# --- equations (generated) ---"
_END_MARKER = "# --- end of equations ---"
INSTALL = "pip install -e '.[fast]'"


def available() -> bool:
    """True if numba and sympy can be imported (without importing them)."""
    return all(importlib.util.find_spec(name) is not None for name in ("numba", "sympy"))


def supports(model: Model) -> bool:
    """True if the compiled engine can integrate ``model``: it has a metastasis readout and no log-coordinate states."""
    return model.detection_state is not None and not model.log_states


def cache_dir() -> Path:
    """Where generated and compiled kernels are kept: created if missing, and only a folder no other user can write.

    ``$TUMORSIM_CACHE_DIR``, else ``$XDG_CACHE_HOME/tumorsim``, else ``~/.cache/tumorsim``; if that cannot be made
    or is unsafe, ``$TMPDIR/tumorsim-cache-<uid>`` if it is this user's own; else a fresh private temporary
    folder (compiling again in this process's lifetime). Python imports what it finds there, so a folder that
    another user can write to (or, in the shared temporary folder, that another user owns) is never used.
    """
    for candidate, must_own in ((_chosen_cache(), False), (_shared_tmp_cache(), True)):
        if candidate is None:
            continue
        try:
            candidate.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            continue
        problem = _unsafe(candidate, must_own)
        if problem is None:
            return candidate
        print(f"tumorsim: not using the kernel cache {candidate}: {problem}", file=sys.stderr, flush=True)
    return _private_cache()


def _chosen_cache() -> Path | None:
    if os.environ.get("TUMORSIM_CACHE_DIR"):
        return Path(os.environ["TUMORSIM_CACHE_DIR"])
    if os.environ.get("XDG_CACHE_HOME"):
        return Path(os.environ["XDG_CACHE_HOME"]) / "tumorsim"
    try:
        return Path.home() / ".cache" / "tumorsim"
    except (RuntimeError, KeyError):  # no HOME and no password entry
        return None


def _shared_tmp_cache() -> Path:
    return Path(tempfile.gettempdir()) / f"tumorsim-cache-{os.getuid() if hasattr(os, 'getuid') else 'user'}"


@cache
def _private_cache() -> Path:
    """A fresh folder only this user can enter, for this process (numba compiles into it again)."""
    return Path(tempfile.mkdtemp(prefix="tumorsim-private-cache-"))


def _unsafe(directory: Path, must_own: bool) -> str | None:
    """Why code in ``directory`` (or its numba ``__pycache__``) could be planted by another user; None if it cannot."""
    if not hasattr(os, "getuid"):  # Windows: per-user folders, no POSIX modes to check
        return None
    for folder in (directory, directory / "__pycache__"):
        try:
            info = os.lstat(folder)
        except FileNotFoundError:
            continue
        except OSError as error:
            return f"cannot inspect it ({error.strerror})"
        if not stat.S_ISDIR(info.st_mode):
            return f"{folder} is not a plain folder"
        if info.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
            return f"{folder} is writable by other users"
        if must_own and info.st_uid != os.getuid():
            return f"{folder} belongs to another user"
    return None


def equations_source(model: Model | str) -> tuple[str, bool]:
    """Python source of ``derive``, ``rhs_calls``, ``rhs_rest`` and ``jacobian`` for ``model``, from its formulas.

    Each works on one slot (a mouse) of arrays whose first index is the slot.
    ``rhs_calls(w, slot, src, p, derived)`` evaluates the library calls of the
    right-hand side (logs, non-integer powers) at the states in row ``src``
    of the slot's work array, in the model's order, into row ``CALLS``;
    ``rhs_rest(w, slot, src, dst, p, derived)`` then writes the rates to row
    ``dst``. Split so, the calls of several mice can run back to back, where
    the processor overlaps them (see the template). ``jacobian(w, slot, src,
    p, derived, jac)`` fills ``jac[slot]``. ``p[slot]`` holds the parameters
    in the order of ``formulas(model).parameters``; ``derived[slot]`` holds
    their combinations, which ``derive(p, slot, derived)`` computes once per
    schedule segment. Also returns whether the endpoint state, once exactly
    zero, stays zero (its rate vanishes there).
    """
    from .models import get_model
    from .symbolic import _sympy, colony_formulas, formulas

    sympy = _sympy()
    model = get_model(model) if isinstance(model, str) else model
    traced = formulas(model)
    # Local names that cannot clash with each other, Python keywords or the code's own names.
    states = {s: sympy.Symbol(f"s_{s.name}", real=True) for s in traced.states}
    params = {p: sympy.Symbol(f"p_{name}", real=True) for name, p in traced.parameters.items()}
    rates = [rate.xreplace({**states, **params}) for rate in traced.rates]
    chance_state = -1 if model.chance_state is None else model.state_names.index(model.chance_state)
    colony = [sympy.Float(0.0)] * 3
    if chance_state >= 0:
        # a burden counted by chance is held still between chance updates: its rate is multiplied by a last
        # parameter column, 1 (moving) or 0 (held), which the integrator sets per mouse
        moves = sympy.Symbol("chance_moves", real=True)
        params[moves] = sympy.Symbol("p_chance_moves", real=True)
        rates[chance_state] = params[moves] * rates[chance_state]
        colony = [rate.xreplace({**states, **params}) for rate in colony_formulas(model)]
    jac = sympy.Matrix(rates).jacobian(list(states.values()))
    n = len(states)
    absorbing = False
    if model.endpoint_state is not None:
        index = model.state_names.index(model.endpoint_state)
        at_zero = rates[index].xreplace({states[traced.states[index]]: sympy.Float(0.0)})
        absorbing = sympy.simplify(at_zero) == 0
    # Parts that depend on parameters only (log of the capacity, sums of rates) are computed once per
    # schedule segment by derive(), not at every evaluation.
    hoist = _Hoist(sympy, set(params.values()))
    rates = [hoist(rate) for rate in rates]
    calls = _Calls(sympy, set(states.values()))
    rates = [calls(rate) for rate in rates]
    entries = [(f"jac[slot, {r}, {c}]", hoist(jac[r, c])) for r in range(n) for c in range(n) if jac[r, c] != 0]
    printer = _printer(sympy)
    unpack_params = [f"    {p} = p[slot, {i}]" for i, p in enumerate(params.values())]
    unpack = [f"    {s} = w[slot, src, {i}]" for i, s in enumerate(states.values())]
    unpack += [f"    {k} = derived[slot, {i}]" for i, k in enumerate(hoist.symbols)] + unpack_params  # unused loads compile away
    lines = [
        f"N_STATES = {n}",
        f"CHANCE_STATE = {chance_state}",
        f"N_DERIVED = {max(1, len(hoist.symbols))}",
        f"N_CALLS = {len(calls.symbols)}",
        f"ENDPOINT_ABSORBING = {absorbing}",
        "",
        "",
        "@njit(**JIT)",
        "def derive(p, slot, derived):",
        f'    """Parameter-only parts of the equations of model {model.name!r}, once per schedule segment."""',
        *unpack_params,
        *_assignments(sympy, printer, [(f"derived[slot, {i}]", e) for i, e in enumerate(hoist.expressions)]),
        "",
        "",
        "@njit(**JIT)",
        "def rhs_calls(w, slot, src, p, derived):",
        f'    """The library calls in d(state)/dt of model {model.name!r} at row src, into row CALLS."""',
        *unpack, *_assignments(sympy, printer, [(f"w[slot, CALLS, {i}]", e) for i, e in enumerate(calls.expressions)]),
        "",
        "",
        "@njit(inline='always', **JIT)",  # measured: 15 % faster than a call
        "def rhs_rest(w, slot, src, dst, p, derived):",
        f'    """d(state)/dt of model {model.name!r} at row src, with the library calls of row CALLS, into row dst."""',
        *unpack, *[f"    {c} = w[slot, CALLS, {i}]" for i, c in enumerate(calls.symbols)],
        *_assignments(sympy, printer, [(f"w[slot, dst, {i}]", rate) for i, rate in enumerate(rates)]),
        "",
        "",
        "@njit(**JIT)",
        "def colony_rates(w, slot, src, p, out):",
        f'    """Arrivals, birth and death per cell of the chance state of model {model.name!r} at row src, into out[slot]."""',
        *unpack[:n], *unpack_params,
        *_assignments(sympy, printer, [(f"out[slot, {i}]", rate) for i, rate in enumerate(colony)]),
        "",
        "",
        "@njit(**JIT)",
        "def jacobian(w, slot, src, p, derived, jac):",
        f'    """d(rhs)/d(state) of model {model.name!r} (row: equation, column: state), generated with sympy."""',
        *unpack, "    jac[slot, :, :] = 0.0", *_assignments(sympy, printer, entries),
    ]
    return "\n".join(lines) + "\n", absorbing


def _assignments(sympy, printer, targets: list[tuple[str, object]]) -> list[str]:
    """Lines computing each (target, expression), sharing common subexpressions."""
    temporaries, reduced = sympy.cse([expr for _, expr in targets], symbols=sympy.numbered_symbols("t_"))
    lines = [f"    {name} = {printer.doprint(value)}" for name, value in temporaries]
    lines += [f"    {target} = {printer.doprint(expr)}" for (target, _), expr in zip(targets, reduced)]
    return lines


class _Named:
    """Expressions replaced by numbered symbols ``{prefix}_i``, kept in order: the same expression, the same symbol."""

    def __init__(self, sympy, prefix: str):
        self.sympy, self.prefix = sympy, prefix
        self.symbols: list = []
        self.expressions: list = []
        self._known: dict = {}

    def name(self, expr):
        if expr not in self._known:
            self._known[expr] = self.sympy.Symbol(f"{self.prefix}_{len(self.symbols)}", real=True)
            self.symbols.append(self._known[expr])
            self.expressions.append(expr)
        return self._known[expr]


class _Hoist(_Named):
    """Replaces each largest parameter-only part of an expression by a symbol ``k_i`` (same part, same symbol)."""

    def __init__(self, sympy, params: set):
        super().__init__(sympy, "k")
        self.params = params

    def __call__(self, expr):
        if self._constant(expr):
            return self._symbol(expr)
        if not expr.args or expr.is_Atom:
            return expr
        if expr.is_Add or expr.is_Mul:  # group the parameter-only terms or factors of a sum or product
            fixed = [a for a in expr.args if self._constant(a)]
            rest = [self(a) for a in expr.args if not self._constant(a)]
            if len(fixed) == 1 and fixed[0].is_Symbol:
                return expr.func(*fixed, *rest)
            return expr.func(self._symbol(expr.func(*fixed)), *rest) if fixed else expr.func(*rest)
        return expr.func(*(self(a) for a in expr.args))

    def _constant(self, expr) -> bool:
        free = expr.free_symbols
        return bool(free) and free <= self.params and not expr.is_Symbol

    def _symbol(self, expr):
        return expr if expr.is_Symbol else self.name(expr)


class _Calls(_Named):
    """Replaces each library call on the states in an expression (log, exp, a non-integer power) by a symbol ``c_i``.

    Innermost calls first, so that a call of a call reads the inner one's symbol; the same call gets the same symbol.
    """

    def __init__(self, sympy, states: set):
        super().__init__(sympy, "c")
        self.states = states

    def __call__(self, expr):
        if expr.is_Atom:
            return expr
        args = [self(a) for a in expr.args]
        if args != list(expr.args):
            expr = expr.func(*args)
        if self._is_call(expr) and expr.free_symbols & (self.states | set(self.symbols)):
            return self.name(expr)
        return expr

    def _is_call(self, expr) -> bool:
        sympy = self.sympy
        return isinstance(expr, (sympy.log, sympy.exp)) or (expr.is_Pow and not expr.exp.is_Integer)


def _printer(sympy):
    from sympy.printing.pycode import PythonCodePrinter

    class Printer(PythonCodePrinter):
        """Python that numba compiles: Heaviside (from differentiating the clipping) as a comparison, and the log
        of a clipped value (``log(max(1e-300, P))``) not computed when the value is at the clip, where its log is
        a constant: the primary is exactly zero for most of a mouse's life, and skipping its log made the dosed
        arm 4 % faster (measured). (Writing non-integer powers as exp and log instead measured no faster.)
        """

        def _print_Heaviside(self, expr):
            return f"(1.0 if {self._print(expr.args[0])} > 0.0 else 0.0)"

        def _print_log(self, expr):
            argument = expr.args[0]
            if not (isinstance(argument, sympy.Max) and len(argument.args) == 2 and argument.args[0].is_Number
                    and argument.args[0] > 0):
                return super()._print_log(expr)
            floor, value = (self._print(a) for a in argument.args)
            return f"(math.log({value}) if {value} > {floor} else {math.log(float(argument.args[0]))!r})"

    return Printer({"fully_qualified_modules": True})


def module_source(model: Model | str) -> str:
    """The whole module numba compiles: the integrator template with ``model``'s equations in place."""
    template = (Path(__file__).with_name("_kernel_template.py")).read_text(encoding="utf-8")
    head, rest = template.split(_MARKER)
    _, tail = rest.split(_END_MARKER)
    equations, _ = equations_source(model)
    return f"{head}{_MARKER}\n{equations}{_END_MARKER}{tail}"


def kernel_file(model_name: str, numba_version: str) -> tuple[str, str]:
    """The cache file name of a model's kernel and the source it must hold (the name is keyed by a hash of both)."""
    source = module_source(model_name)
    key = hashlib.sha256(f"{source}\n{numba_version}\n{sys.version}".encode()).hexdigest()[:16]
    return f"kernel_{model_name}_{key}.py", source


@cache
def compiled(model_name: str):
    """The compiled kernel module of a model: generated, written and compiled once per machine."""
    try:
        import numba
    except ImportError:
        raise InputError(f"the compiled cohort engine needs numba: {INSTALL}") from None
    name, source = kernel_file(model_name, numba.__version__)
    directory = cache_dir()
    path = directory / name
    if _read(path) != source:  # missing, truncated or changed: never import it, write what it must hold
        try:
            path.with_suffix(".compiled").unlink(missing_ok=True)
            _write_atomically(path, source)
        except OSError as error:  # a read-only cache: compile in a private one instead
            print(f"tumorsim: cannot write the kernel cache {directory} ({error.strerror}); compiling in a private "
                  "temporary folder", file=sys.stderr, flush=True)
            directory = _private_cache()
            path = directory / path.name
            _write_atomically(path, source)
    marker = path.with_suffix(".compiled")
    if not marker.exists():
        print(f"tumorsim: compiling the cohort engine for model '{model_name}' (once per machine; cached in "
              f"{directory})", file=sys.stderr, flush=True)
        # In a separate process, so that this one, like every later one, runs the machine code numba cached on
        # disk: code compiled in the running process differed from the cached code in the last bits of some
        # days (measured: up to 1e-13 day for 6 of 400 mice), and the same seed must give the same numbers.
        done = subprocess.run([sys.executable, "-c", f"from sim.kernel import _compile; _compile({str(path)!r})"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise InputError(f"compiling the cohort engine failed: {(done.stderr.strip().splitlines() or ['?'])[-1]}")
        _write_atomically(marker, "")
    return _load(path)


def _read(path: Path) -> str | None:
    """The text of ``path``; None if it is missing, unreadable or not UTF-8."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _load(path: Path):
    """The kernel module at ``path``; numba loads its compiled functions from its disk cache."""
    name = f"tumorsim_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _compile(path: str) -> None:
    """Compile the kernel module at ``path`` for the argument types ``solve`` passes, into numba's disk cache."""
    _warm_up(_load(Path(path)))


def _write_atomically(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that a concurrent reader (another worker) never sees half a file."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def _warm_up(module) -> None:
    """Compile every function for the argument types ``solve`` passes (one mouse, one day)."""
    n = module.N_STATES
    params = np.zeros((1, 64))
    out = np.zeros((1, 4))
    module.solve_mice(0, 1, np.ones((1, n)), params, np.array([[np.inf, np.inf]]), np.array([0.0, 1.0]),
                      np.full((1, 1), -1, np.int64), np.zeros((1, 1)), np.zeros(0, np.int64), np.zeros(0, np.int64),
                      np.zeros(0), np.zeros(0), -1, -1, False, KERNEL_RTOL, KERNEL_ATOL, 0, 10, False,
                      np.zeros(1, np.uint64), np.ones(1), out)


def solve(
    scenario: Scenario,
    varied: Mapping[str, np.ndarray],
    *,
    rtol: float = KERNEL_RTOL,
    atol: float = KERNEL_ATOL,
    threads: int = 1,
    method: str = "auto",
    keys: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Metastasis and endpoint days of mice of ``scenario``, each integrated on its own.

    Parameters
    ----------
    scenario : Scenario
        The arm: model, schedule, initial state, parameter values shared by its mice.
    varied : mapping of str to ndarray, shape (n,)
        Each mouse's own values of some parameters (in their units), as for ``sim.batch.solve_batch``.
    rtol, atol : float
        Per-mouse tolerances (atol in each state's unit).
    threads : int
        Threads integrating mice at once (the kernel releases the GIL).
    method : str
        "auto" (explicit, switching to implicit where a mouse is stiff), "explicit" or "implicit".
    keys : ndarray of uint64, shape (n,), optional
        Each mouse's chance key (``sim.chance.mouse_keys``); needed when ``scenario.chance`` is on.

    Returns
    -------
    metastasis_day, endpoint_day : ndarray, shape (n,)
        As ``sim.batch.BatchOutcome`` [day]: NaN if never (a metastasis after the cull is never).
    """
    from .batch import initial_states, mouse_values
    from .symbolic import formulas

    model = scenario.model
    if not supports(model):
        raise InputError(f"{scenario.name}: the compiled engine integrates models with a metastasis readout and no "
                         f"log-coordinate states; use engine='numpy' for model '{model.name}'")
    module = compiled(model.name)
    names = list(formulas(model).parameters)
    n, values = mouse_values(scenario, varied)
    params = np.ones((n, len(names) + 1))  # the last column: 1 while the chance state moves (see the template)
    for column, name in enumerate(names):
        params[:, column] = values[name]
    if scenario.chance and (keys is None or len(keys) != n):
        raise InputError(f"{scenario.name}: with chance on, keys= needs one chance key per mouse "
                         "(sim.chance.mouse_keys(seed, scenario.name, indices)); or solve its mean_field()")
    keys = np.zeros(n, np.uint64) if keys is None else np.ascontiguousarray(keys, np.uint64)
    limits = np.broadcast_to(np.asarray(values.get("chance_limit", np.inf), float), (n,)).copy()
    initial = np.ascontiguousarray(initial_states(scenario, values, n).T)
    thresholds = np.empty((n, 2))
    thresholds[:, 0] = values[model.detection_parameter]
    thresholds[:, 1] = values[model.endpoint_parameter] if model.endpoint_parameter else np.inf
    schedule = _schedule_arrays(scenario, names)
    states = model.state_names
    endpoint = states.index(model.endpoint_state) if model.endpoint_state else -1
    absorbing = bool(module.ENDPOINT_ABSORBING) and not any(
        j.add != 0 for j in scenario.schedule.jumps if j.state == model.endpoint_state)
    out = np.zeros((n, 4))

    def run(first: int, last: int) -> None:
        module.solve_mice(first, last, initial, params, thresholds, *schedule, states.index(model.detection_state),
                          endpoint, absorbing, float(rtol), float(atol), METHODS[method], MAX_STEPS_PER_MOUSE,
                          bool(scenario.chance), keys, limits, out)

    blocks = [(s, min(s + _BLOCK, n)) for s in range(0, n, _BLOCK)]
    if threads <= 1 or len(blocks) == 1:
        run(0, n)
    else:
        pool = ThreadPoolExecutor(max_workers=threads)
        try:
            for future in [pool.submit(run, *block) for block in blocks]:
                future.result()
        except BaseException:  # Ctrl-C or SIGTERM: drop the queued blocks; running ones end within milliseconds
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        pool.shutdown()
    failed = np.flatnonzero(out[:, 2] != 0)
    if failed.size:
        first = failed[0]
        what = (f"more than {MAX_STEPS_PER_MOUSE:,} solver steps" if out[first, 2] == module.TOO_MANY_STEPS
                else "the equations overflowed (the solver steps shrank to nothing)")
        raise InputError(f"{scenario.name}: stopped: {what} for {failed.size:,} of {n:,} mice (the first is mouse "
                         f"{first}); a parameter of some mice is probably extreme (check the --set values and the "
                         "variability)")
    return out[:, 0].copy(), out[:, 1].copy()


def _schedule_arrays(scenario: Scenario, names: list[str]) -> tuple:
    """The arm's schedule as arrays: segment edges, windows held in each segment, jumps at each segment's start.

    Returns ``cuts`` (segments + 1,) [day]; ``window_index`` (segments, windows) int, the parameter column held
    in each segment or -1; ``window_value`` (segments, windows); per jump, the segment at whose start it acts,
    the state index, scale and added amount.
    """
    schedule, states = scenario.schedule, scenario.model.state_names
    cuts = np.array(schedule.breakpoints(scenario.days), float)
    windows = [w for w in schedule.windows if w.parameter in names]
    window_index = np.full((len(cuts) - 1, max(1, len(windows))), -1, np.int64)
    window_value = np.zeros(window_index.shape)
    for segment, start in enumerate(cuts[:-1]):
        for column, window in enumerate(windows):
            if window.active(start):
                window_index[segment, column] = names.index(window.parameter)
                window_value[segment, column] = window.value
    segment_of = {day: segment for segment, day in enumerate(cuts[:-1])}
    jumps = [j for j in schedule.jumps if j.day in segment_of]  # a jump on the last day acts after follow-up
    return (cuts, window_index, window_value,
            np.array([segment_of[j.day] for j in jumps], np.int64), np.array([states.index(j.state) for j in jumps], np.int64),
            np.array([j.scale for j in jumps], float), np.array([j.add for j in jumps], float))
