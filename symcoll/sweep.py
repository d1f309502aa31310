"""Parameter sweeps on Dask (``symcoll.sweep.sweep``, ``symcoll sweep``): a grid of model parameters, one
Dask task per point, results as a labelled xarray Dataset written point by point to a zarr store.

Grid and parameters
    Any of :data:`SWEEP_PARAMETERS` (the model of the paper: N, h, eps, beta, m, g, sigma_p, Gamma of
    (40)-(41), (64)-(65), (71); the bombarded ``site``, the ``ladder`` convention, the map ``kind``
    (exact (38), global (45), local (54)-(56)) and its ``tol``; the two-reservoir transport parameters
    ``beta_hot``, ``beta_cold``, ``gamma_hot``, ``gamma_cold``, ``site_hot``, ``site_cold``).  The
    grid is the Cartesian product of the lists given; every other parameter takes its default
    (:data:`SWEEP_PARAMETERS`: the paper's values, Sec. VI E) or the value in ``fixed``.  Every
    point is checked with the model's own validation before anything is submitted.

Tasks (plain module-level functions of a dict of plain parameters, so they pickle by reference)
    ``"stationary"``
        The steady state of (71) (:meth:`symcoll.dynamics.Lindbladian.steady_state`) and the
        observables under the names of ``results.json`` of ``symcoll paper``: ``populations``,
        ``ratio_123_00`` (74), ``beta_eff_0_2`` (75), ``rho_23`` (real, imag), plus
        ``trace_distance_gibbs`` (72), ``trace_distance_local_thermal`` (73) and ``relaxation_time``
        (1/gap of (71), :func:`symcoll.paper.relaxation_time_of`).  The values are computed by the
        same functions as :func:`symcoll.paper.run_one` (``ratio_where_resolved``,
        ``beta_eff_where_resolved``, :func:`symcoll.observables.trace_distance`), so they agree bit
        for bit with the API.
    ``"evolve"``
        :func:`symcoll.paper.run_one` from ``|0..0>`` (the paper's initial state) at ``times``:
        the same observables over an extra ``time`` dimension (bit for bit those of ``symcoll
        evolve --json``).
    ``"transport"``
        Two reservoirs, ``Lindbladian(chain, [S_hot, S_cold], [gamma_hot, gamma_cold])`` (Eq. (7)
        with two maps) and :func:`symcoll.transport.heat_flows` at its steady state: ``J``, ``Q``,
        ``W`` (per ``reservoir`` = hot, cold), ``sigma``.
    a callable ``f(model)``
        ``model`` is a :class:`SweepModel` (chain, bath, coupling, Gamma, map options, params,
        times; ``model.collision_map()``, ``model.lindbladian()``); ``f`` returns ``{name: array}``
        or ``{name: (dims, array)}`` of real (or complex: split into a ``part`` dimension) numbers,
        the same shapes at every point.  It must be picklable (a module-level function; for one
        defined in a script or test module, ``cloudpickle.register_pickle_by_value(module)``).

Errors (the vocabulary of :mod:`symcoll.budget`)
    Every observable ``X`` goes with ``X_error``, an **estimate** (the state's error is an estimate
    for float64 runs): the state's error ``delta`` (the steady state's Frobenius error, the
    evolution's largest-entry error) propagated by exact inequalities: an entry is off by at most
    ``delta``; a band sum of ``n`` populations by ``n delta`` (entries) or ``sqrt(n) delta``
    (Frobenius, Cauchy-Schwarz); a ratio ``P/p`` by ``(a + (P + a)/(p - delta) delta)/p`` with ``a``
    the error of P (valid for ``p > delta``); ``beta_eff`` (75) by ``(delta/(p_0 - delta) + delta/(p_2 -
    delta))/(e_2 - e_0)`` (mean value theorem for the log); the trace distance by
    ``||drho||_1/2 <= sqrt(d) delta_F / 2`` (triangle inequality).  The parts of the state's error
    are stored too (``state_error_<part>``).  Transport flows carry their ``heat_flows`` budgets.

Store (zarr, format 2 for the widest reader support; open with ``xarray.open_zarr(path)``)
    Dimensions: the swept parameters in the order given (one coordinate each), then ``time``
    (evolve), ``level``, ``part``, ``reservoir`` where needed.  Per point: ``status`` (0 pending, 1
    done, 2 failed), ``error_message`` (the exception of a failed point), ``seconds`` (compute time
    of the point, a diagnostic).  Attributes: ``symcoll_version``, ``conventions``, ``task``,
    ``fixed`` and ``grid`` (JSON), ``definition`` (JSON of everything that fixes the values) and
    ``command``.  Each point is one uncompressed chunk of every variable, written as soon as the
    client sees its task finished: the points that finished while the previous batch was being
    written are gathered and written together (no point waits for an unfinished one), the data of
    the batch first, ``status`` last: a point whose status is not 1 is recomputed on resume
    (:class:`_Writer`).

Resume and safety
    Re-running the same sweep on the same store skips the points whose status is 1 (failed points
    are retried).  A store written by a different sweep definition, or a path that is not a sweep
    store, is refused (ValueError): a store is never silently overwritten.

Cluster
    By default a ``distributed.LocalCluster`` with one worker process per core (``workers=``),
    one thread per worker, and every task runs under ``threadpoolctl.threadpool_limits(blas_threads)``
    (one BLAS thread: never oversubscribe the cores).  ``client=`` (a ``distributed.Client``) or
    ``scheduler="tcp://host:port"`` uses an existing cluster (for example dask-jobqueue on SLURM);
    an unreachable address fails within ``connect_timeout`` seconds.  A worker that dies in the
    middle of a sweep loses no written point: Dask reschedules its tasks on the other workers.
"""
from __future__ import annotations

import itertools
import json
import math
import os
import re
import shlex
import sys
import time
import traceback
import warnings
from dataclasses import dataclass, field

import numpy as np

from ._version import __version__

__all__ = ["sweep", "SweepResult", "SweepModel", "SWEEP_PARAMETERS", "TASKS", "parse_grid_spec", "grid_points",
           "run_point", "open_sweep"]

#: Parameters a sweep can vary, with their defaults (the paper's values, Sec. VI E, and two-bath transport).
SWEEP_PARAMETERS = {
    "N": 3, "h": 4.0, "eps": 0.1, "beta": 0.1, "m": 0.1, "g": 50.0, "sigma_p": 0.5, "Gamma": 1.0,
    "site": 1, "ladder": "paper", "kind": "exact", "tol": None,
    "beta_hot": 0.1, "beta_cold": 0.5, "gamma_hot": 1.0, "gamma_cold": 1.0, "site_hot": 1, "site_cold": None,
}
_INT_PARAMS = ("N", "site", "site_hot", "site_cold")
_STR_PARAMS = ("ladder", "kind")

#: The built-in tasks.
TASKS = ("stationary", "evolve", "transport")

_STATUS_PENDING, _STATUS_DONE, _STATUS_FAILED = 0, 1, 2


# ----------------------------------------------------------------------------- grid
def _number(text, name):
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"--grid {name}: {text!r} is not a number") from None


def parse_grid_spec(text):
    """``"name=SPEC"`` -> ``(name, values)``.

    SPEC is a comma-separated list (``sigma_p=0.1,0.3,0.5``, ``kind=exact,local``), or
    ``start:stop:COUNTlog`` (COUNT log-spaced values, ``eps=1e-4:1e-1:13log``) or
    ``start:stop:COUNT`` (COUNT linearly spaced values), both ends included.

    Raises
    ------
    ValueError
        An unknown name, an empty or malformed SPEC (the message names the parameter and the forms).
    """
    forms = "NAME=v1,v2,... or NAME=start:stop:COUNT or NAME=start:stop:COUNTlog"
    if not isinstance(text, str) or "=" not in text:
        raise ValueError(f"--grid must be {forms} (got {text!r})")
    name, spec = (s.strip() for s in text.split("=", 1))
    _check_name(name)
    if not spec:
        raise ValueError(f"--grid {name}: empty list of values; use {forms}")
    if ":" in spec:
        parts = spec.split(":")
        m = re.fullmatch(r"\s*(\d+)\s*(log)?\s*", parts[-1]) if len(parts) == 3 else None
        if m is None:
            raise ValueError(f"--grid {name}: {spec!r} is not start:stop:COUNT or start:stop:COUNTlog "
                             "(COUNT a positive integer)")
        a, b, n, log = _number(parts[0], name), _number(parts[1], name), int(m.group(1)), bool(m.group(2))
        if n < 1:
            raise ValueError(f"--grid {name}: COUNT must be >= 1 (got {n})")
        if log:
            if not (a > 0 and b > 0):
                raise ValueError(f"--grid {name}: a log-spaced range needs start, stop > 0 (got {a:g}, {b:g})")
            values = np.logspace(np.log10(a), np.log10(b), n)
        else:
            values = np.linspace(a, b, n)
        return name, [_coerce(name, float(v)) for v in values]
    items = [s.strip() for s in spec.split(",")]
    if any(not s for s in items):
        raise ValueError(f"--grid {name}: empty item in {spec!r}; use {forms}")
    if name in _STR_PARAMS:
        return name, items
    return name, [_coerce(name, _number(s, name)) for s in items]


def _check_name(name):
    if name not in SWEEP_PARAMETERS:
        raise ValueError(f"unknown parameter {name!r}; allowed: {', '.join(SWEEP_PARAMETERS)}")


def _coerce(name, value):
    """A plain Python value for parameter ``name`` (int for N and sites, str for ladder/kind, else float)."""
    if value is None and SWEEP_PARAMETERS[name] is None:
        return None
    if name in _STR_PARAMS:
        if not isinstance(value, str):
            raise TypeError(f"{name} must be a string (got {value!r})")
        return value
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(f"{name} must be a real number (got {value!r})")
    if name in _INT_PARAMS:
        if float(value) != int(value):
            raise ValueError(f"{name} must be an integer (got {value!r})")
        return int(value)
    return float(value)


def _normalise_grid(grid):
    if isinstance(grid, (list, tuple)) and all(isinstance(g, str) for g in grid):
        grid = dict(parse_grid_spec(g) for g in grid)
    if not isinstance(grid, dict) or not grid:
        raise ValueError(f"grid must be a non-empty dict {{parameter: list of values}} (got {grid!r})")
    out = {}
    for name, values in grid.items():
        _check_name(name)
        if isinstance(values, (str, bytes)) or not hasattr(values, "__iter__"):
            values = [values]
        values = [_coerce(name, v.item() if isinstance(v, np.generic) else v) for v in values]
        if not values:
            raise ValueError(f"grid {name}: empty list of values")
        if len(set(values)) != len(values):
            raise ValueError(f"grid {name}: repeated values {values}")
        out[name] = values
    return out


def _normalise_fixed(fixed, grid):
    fixed = dict(fixed or {})
    for name in fixed:
        _check_name(name)
        if name in grid:
            raise ValueError(f"parameter {name!r} is both swept (grid) and fixed")
    out = {}
    for name, default in SWEEP_PARAMETERS.items():
        if name in grid:
            continue
        v = fixed.get(name, default)
        out[name] = _coerce(name, v.item() if isinstance(v, np.generic) else v)
    return out


def grid_points(grid):
    """Every point of the grid as ``(index tuple, {name: value})``, in C order (last name fastest)."""
    names = list(grid)
    for idx in itertools.product(*(range(len(grid[n])) for n in names)):
        yield idx, {n: grid[n][i] for n, i in zip(names, idx)}


# ----------------------------------------------------------------------------- the model of a point
@dataclass
class SweepModel:
    """The model objects of one point (built on the worker from plain parameters)."""

    chain: object
    bath: object
    coupling: object
    Gamma: float
    options: object
    params: dict
    times: np.ndarray = None
    _map: object = field(default=None, repr=False)

    def collision_map(self):
        """The collision map of the point (cached per worker process for identical map parameters)."""
        if self._map is None:
            self._map = _cached_map(self.chain, self.bath, self.coupling, self.options)
        return self._map

    def lindbladian(self):
        """``Lindbladian(chain, map, Gamma)``, Eq. (71)."""
        from .dynamics import Lindbladian

        return Lindbladian(self.chain, self.collision_map(), self.Gamma)


def build_model(params, times=None) -> SweepModel:
    """The validated model objects of a parameter dict (the model's own checks; messages name the parameter)."""
    from .dynamics import _check_gamma
    from .model import DeltaCoupling, EffusionBath, QubitChain
    from .parameters import MapOptions

    p = params
    chain = QubitChain(p["N"], p["h"], p["eps"], ladder=p["ladder"])
    bath = EffusionBath(p["beta"], p["m"], p["sigma_p"])
    coupling = DeltaCoupling(p["g"], site=p["site"])
    if coupling.site > chain.N:
        raise ValueError(f"site must be in 1..N = 1..{chain.N} (got {coupling.site})")
    _check_gamma(p["Gamma"])
    options = MapOptions(p["kind"], tol=p["tol"])
    return SweepModel(chain, bath, coupling, p["Gamma"], options, dict(p), times)


def _check_transport(p):
    from .dynamics import _check_gamma
    from .model import DeltaCoupling, EffusionBath

    N = p["N"]
    for b in ("beta_hot", "beta_cold"):
        EffusionBath(p[b], p["m"], p["sigma_p"])
    for gname in ("gamma_hot", "gamma_cold"):
        try:
            _check_gamma(p[gname])
        except (ValueError, TypeError) as exc:
            raise type(exc)(gname + str(exc)[len("Gamma"):]) from None
    for s in ("site_hot", "site_cold"):
        site = N if (s == "site_cold" and p[s] is None) else p[s]
        DeltaCoupling(p["g"], site=site)
        if not 1 <= site <= N:
            raise ValueError(f"{s} must be in 1..N = 1..{N} (got {site})")


_MAP_CACHE = {}
_MAP_CACHE_SIZE = 4


def _cached_map(chain, bath, coupling, options):
    """The collision map, reused within one worker process for the same map parameters.

    A sweep over Gamma (which enters (71), not the map) builds each map once per worker.  The key
    is every input of the map; the cached object is the one ``options.build`` returned, so the values
    are those of a fresh build.
    """
    from .errors import NotCompletelyPositiveWarning

    key = (chain.N, float(chain.h), float(chain.eps), chain.ladder, float(bath.beta), float(bath.m),
           float(bath.sigma_p), float(coupling.g), coupling.site, options)
    m = _MAP_CACHE.get(key)
    if m is None:
        with warnings.catch_warnings():
            # a CP defect of (38) is a property of the incident state (41): recorded as a diagnostic
            warnings.simplefilter("ignore", NotCompletelyPositiveWarning)
            m = options.build(chain, bath, coupling)
        if len(_MAP_CACHE) >= _MAP_CACHE_SIZE:
            _MAP_CACHE.pop(next(iter(_MAP_CACHE)))
        _MAP_CACHE[key] = m
    return m


# ----------------------------------------------------------------------------- tasks
def _nan_list(values):
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _derived(p, chain, delta, band_factor, ratio, beta_eff):
    """Error estimates of ratio (74) and beta_eff (75) from the state's error ``delta`` (see the module doc).

    ``p``: (T, d) populations; ``band_factor``: error of a band sum in units of delta.
    """
    bands = np.asarray(chain.eigensystem().bands)
    n1 = int(np.sum(bands == 1))
    a = band_factor(n1) * delta
    p0 = p[:, 0]
    P1 = ratio * p0
    with np.errstate(divide="ignore", invalid="ignore"):
        ok = p0 > delta
        r_err = np.where(ok & np.isfinite(ratio), (a + (P1 + a) / (p0 - delta) * delta) / p0, np.nan)
        if p.shape[1] > 2:
            e = np.asarray(chain.eigensystem().energies, dtype=float)
            okb = (p0 > delta) & (p[:, 2] > delta) & np.isfinite(beta_eff)
            b_err = np.where(okb, (delta / (p0 - delta) + delta / (p[:, 2] - delta)) / (e[2] - e[0]), np.nan)
        else:
            b_err = np.full(len(p), np.nan)
    return r_err, b_err


def _pad_levels(a, nlev):
    out = np.full(a.shape[:-1] + (nlev,), np.nan)
    out[..., : a.shape[-1]] = a
    return out


def _budget_parts(budget, prefix):
    return {f"{prefix}_{k}": np.asarray(p.value, dtype=float) for k, p in budget.parts.items()}


def task_stationary(model):
    """The stationary task (see the module doc): steady state of (71) and its observables."""
    from . import observables as ob
    from .paper import beta_eff_where_resolved, ratio_where_resolved, relaxation_time_of

    chain = model.chain
    L = model.lindbladian()
    ss = L.steady_state()
    states = np.asarray(ss)[None]
    dF = float(ss.error_estimate)
    d = chain.dim
    ratio, _ = ratio_where_resolved(states, chain, [dF])
    beta, _ = beta_eff_where_resolved(states, chain, [dF], 0, 2)
    ratio, beta = _nan_list(ratio), _nan_list(beta)
    pops = np.real(np.einsum("tii->ti", states))
    r_err, b_err = _derived(pops, chain, dF, math.sqrt, ratio, beta)
    gibbs = ob.gibbs_state(chain, model.bath.beta)
    loc = ob.local_thermal_state(chain, model.bath.beta, site=model.coupling.site)
    rho = np.asarray(ss)
    r23 = np.array([rho[2, 3].real, rho[2, 3].imag]) if d >= 4 else np.full(2, np.nan)
    nlev = 2 ** int(model.params.get("_max_N", chain.N))
    td_err = math.sqrt(d) * dF / 2
    out = {
        "populations": (("level",), _pad_levels(pops[0], nlev)),
        "populations_error": dF,
        "ratio_123_00": ratio[0], "ratio_123_00_error": r_err[0],
        "beta_eff_0_2": beta[0], "beta_eff_0_2_error": b_err[0],
        "rho_23": (("part",), r23), "rho_23_error": dF if d >= 4 else np.nan,
        "trace_distance_gibbs": ob.trace_distance(rho, gibbs), "trace_distance_gibbs_error": td_err,
        "trace_distance_local_thermal": ob.trace_distance(rho, loc), "trace_distance_local_thermal_error": td_err,
        "relaxation_time": relaxation_time_of(L),
        "state_error": dF,
        "steady_residual": float(ss.residual),
        "map_error": float(L.map_error),
    }
    out.update(_budget_parts(ss.error, "state_error"))
    return out


def task_evolve(model):
    """The evolve task: :func:`symcoll.paper.run_one` from ``|0..0>`` at ``model.times``."""
    from .paper import run_one

    chain = model.chain
    res = run_one(chain, model.bath, model.coupling, model.Gamma, model.options, model.times)
    delta = np.asarray(res["error_estimate"], dtype=float)
    pops = np.asarray(res["populations"], dtype=float)
    ratio, beta = _nan_list(res["ratio_123_00"]), _nan_list(res["beta_eff_0_2"])
    r_err, b_err = _derived(pops, chain, delta, lambda n: n, ratio, beta)
    T = len(delta)
    r23 = np.array([v if v is not None else [np.nan, np.nan] for v in res["rho_23"]], dtype=float)
    nlev = 2 ** int(model.params.get("_max_N", chain.N))
    out = {
        "populations": (("time", "level"), _pad_levels(pops, nlev)),
        "populations_error": (("time",), delta),
        "ratio_123_00": (("time",), ratio), "ratio_123_00_error": (("time",), r_err),
        "beta_eff_0_2": (("time",), beta), "beta_eff_0_2_error": (("time",), b_err),
        "rho_23": (("time", "part"), r23),
        "rho_23_error": (("time",), delta if chain.dim >= 4 else np.full(T, np.nan)),
        "state_error": (("time",), delta),
        "relaxation_time": res["relaxation_time"],
        "map_error": res["map_error_estimate"],
    }
    for k, v in res["error"]["parts"].items():
        out[f"state_error_{k}"] = (("time",), np.asarray(v["value"], dtype=float))
    st = res["stationary"]
    out["trace_distance_gibbs"] = st["trace_distance_gibbs"] if st["unique"] else np.nan
    return out


def task_transport(model):
    """The transport task: two reservoirs (hot on ``site_hot``, cold on ``site_cold``) and
    :func:`symcoll.transport.heat_flows` at the steady state of Eq. (7) with two maps."""
    from .dynamics import Lindbladian
    from .model import DeltaCoupling, EffusionBath
    from .transport import heat_flows

    p, chain = model.params, model.chain
    site_cold = chain.N if p["site_cold"] is None else p["site_cold"]
    maps = [_cached_map(chain, EffusionBath(p[b], p["m"], p["sigma_p"]), DeltaCoupling(p["g"], site=s),
                        model.options)
            for b, s in (("beta_hot", p["site_hot"]), ("beta_cold", site_cold))]
    L = Lindbladian(chain, maps, [p["gamma_hot"], p["gamma_cold"]])
    hf = heat_flows(L)
    out = {}
    for name in ("J", "Q", "W"):
        F = getattr(hf, name)
        out[name] = (("reservoir",), np.asarray(F, dtype=float))
        out[name + "_error"] = (("reservoir",), np.asarray(F.error.total, dtype=float) * np.ones(2))
    out["sigma"] = float(hf.sigma)
    out["sigma_error"] = float(np.asarray(hf.sigma.error.total))
    return out


_RESERVED = ("status", "error_message", "seconds", "time")

_TASK_FUNCS = {"stationary": task_stationary, "evolve": task_evolve, "transport": task_transport}


def _as_variables(result):
    """``{name: (dims, float array)}`` from a task's ``{name: array | (dims, array)}``."""
    if not isinstance(result, dict):
        raise TypeError(f"a sweep task must return a dict {{name: array}} (got {type(result).__name__})")
    out = {}
    for name, v in result.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ValueError(f"variable names must be identifiers (got {name!r})")
        if name in SWEEP_PARAMETERS or name in _RESERVED:
            raise ValueError(f"variable name {name!r} is taken (a parameter or one of {', '.join(_RESERVED)})")
        if isinstance(v, tuple) and len(v) == 2 and isinstance(v[0], (tuple, list)):
            dims, arr = tuple(v[0]), np.asarray(v[1])
        else:
            arr = np.asarray(v)
            dims = tuple(f"{name}_dim_{i}" for i in range(arr.ndim))
        if arr.ndim != len(dims):
            raise ValueError(f"variable {name}: {len(dims)} dimension names for an array of shape {arr.shape}")
        if np.iscomplexobj(arr):
            arr = np.stack([arr.real, arr.imag], axis=-1)
            dims = dims + ("part",)
        try:
            arr = np.asarray(arr, dtype=float)
        except (TypeError, ValueError):
            raise TypeError(f"variable {name}: values must be real or complex numbers (got {arr.dtype})") from None
        out[name] = (dims, arr)
    return out


_THREADPOOL = []


def _blas_limits(n):
    from threadpoolctl import ThreadpoolController

    if not _THREADPOOL:
        _THREADPOOL.append(ThreadpoolController())
    return _THREADPOOL[0].limit(limits=n)


def run_point(task, params, times=None, blas_threads=1):
    """Run one point on a worker; never raises: ``{"ok", "variables" | "error", "seconds"}``.

    ``task`` is a name of :data:`TASKS` or a picklable callable ``f(SweepModel)``.  Runs under
    ``threadpool_limits(blas_threads)``.
    """
    t0 = time.perf_counter()
    try:
        with _blas_limits(blas_threads):
            model = build_model(params, None if times is None else np.asarray(times, dtype=float))
            fn = _TASK_FUNCS[task] if isinstance(task, str) else task
            variables = _as_variables(fn(model))
        return {"ok": True, "variables": variables, "seconds": time.perf_counter() - t0}
    except Exception as exc:  # recorded in the store, never stops the sweep
        tb = traceback.format_exception_only(type(exc), exc)[-1].strip()
        return {"ok": False, "error": tb, "seconds": time.perf_counter() - t0}


# ----------------------------------------------------------------------------- store
def _definition(task, grid, fixed, times):
    import functools

    if isinstance(task, str):
        tname = task
    elif isinstance(task, functools.partial):
        f = task.func
        tname = (f"{getattr(f, '__module__', '?')}:{getattr(f, '__qualname__', repr(f))}"
                 f"(*{task.args!r}, **{dict(sorted(task.keywords.items()))!r})")
    else:
        tname = f"{getattr(task, '__module__', '?')}:{getattr(task, '__qualname__', repr(task))}"
    return {"task": tname, "grid": grid, "fixed": fixed,
            "times": None if times is None else [float(t) for t in times]}


def _canon(obj):
    return json.dumps(obj, sort_keys=True)


def open_sweep(path):
    """The store at ``path`` as an xarray Dataset (``xarray.open_zarr``)."""
    import xarray as xr

    return xr.open_zarr(path)


def _is_store(path):
    return os.path.isdir(path) and (os.path.exists(os.path.join(path, ".zgroup"))
                                    or os.path.exists(os.path.join(path, "zarr.json")))


def _read_definition(path):
    import zarr

    try:
        g = zarr.open_group(path, mode="r")
        return json.loads(g.attrs["definition"])
    except Exception:
        return None


def _differences(old, new):
    diffs = []
    for k in ("task", "grid", "fixed", "times"):
        if _canon(old.get(k)) != _canon(new.get(k)):
            diffs.append(f"{k}: store has {_canon(old.get(k))}, this sweep {_canon(new.get(k))}")
    return "; ".join(diffs)


def _prepare_store(path, definition, grid, attrs, create=True):
    """Check an existing store (returns False), or create it (coordinates, status, error_message,
    seconds; returns True; with ``create=False`` only check that it can be created)."""
    import dask.array as da
    import xarray as xr

    if os.path.exists(path):
        if not _is_store(path):
            raise ValueError(f"out {path!r} exists and is not a symcoll sweep store; choose another path "
                             "(an existing file or directory is never overwritten)")
        old = _read_definition(path)
        if old is None:
            raise ValueError(f"out {path!r} is a zarr store without a symcoll sweep definition; choose another "
                             "path (it is never overwritten)")
        if _canon(old) != _canon(definition):
            raise ValueError(f"out {path!r} was written by a different sweep definition ({_differences(old, definition)}); "
                             "use another --out path or delete the store to start afresh (it is never overwritten)")
        return False
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise ValueError(f"out {path!r}: the directory {parent!r} does not exist")
    if not os.access(parent, os.W_OK):
        raise ValueError(f"out {path!r}: the directory {parent!r} is not writable")
    if not create:
        return True
    names = list(grid)
    shape = tuple(len(grid[n]) for n in names)
    chunks = (1,) * len(shape)
    coords = {n: (n, np.array(grid[n], dtype=object if n in _STR_PARAMS else float if n not in _INT_PARAMS
                              else np.int64)) for n in names}
    ds = xr.Dataset({
        "status": (names, da.zeros(shape, dtype="i1", chunks=chunks),
                   {"meaning": "0 pending, 1 done, 2 failed (error_message)"}),
        "error_message": (names, da.full(shape, "", dtype=object, chunks=chunks),
                          {"meaning": "the exception of a failed point"}),
        "seconds": (names, da.full(shape, np.nan, chunks=chunks),
                    {"meaning": "compute time of the point on its worker (diagnostic; varies between runs)"}),
    }, coords=coords, attrs=attrs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # object dtype of error_message: xarray's SerializationWarning
        ds.to_zarr(path, compute=False, zarr_format=2, consolidated=True, mode="w-",
                   encoding={k: _raw_encoding() for k in ("status", "seconds")})
    return True


def _raw_encoding():
    """Encoding of an array written point by point: no compressor, no filter (a point's chunk is a few
    numbers, which compression does not shrink), so :class:`_Writer` can write its chunks directly."""
    import zarr

    return {"compressors" if int(zarr.__version__.split(".")[0]) >= 3 else "compressor": None}


def _ensure_variables(path, grid, variables, known, attrs):
    """Create the data variables first seen in a result (NaN-filled, one chunk per point).

    The arrays' metadata are written as the zarr format-2 specification defines them (``.zattrs``
    with xarray's ``_ARRAY_DIMENSIONS``, then ``.zarray``: float64, C order, no compressor, fill NaN,
    no chunk written), then the store's consolidated metadata are rewritten: a few ms, where an
    xarray ``to_zarr(compute=False)`` of a NaN-filled dask array builds a task graph (~0.5-1 s).
    """
    import zarr

    new = {k: v for k, v in variables.items() if k not in known}
    if not new:
        return False
    names = list(grid)
    shape = [len(grid[n]) for n in names]
    for k, (dims, arr) in new.items():
        vattrs = _VARIABLE_ATTRS.get(k) or ({"kind": "estimate", "meaning": "error estimate of "
                                             + k[: -len('_error')]} if k.endswith("_error") else {})
        meta = {"shape": shape + list(arr.shape), "chunks": [1] * len(shape) + list(arr.shape), "dtype": "<f8",
                "fill_value": "NaN", "order": "C", "filters": None, "dimension_separator": ".", "compressor": None,
                "zarr_format": 2}
        d = os.path.join(path, k)
        os.makedirs(d)
        _write_json(os.path.join(d, ".zattrs"), dict(vattrs, _ARRAY_DIMENSIONS=names + list(dims)))
        _write_json(os.path.join(d, ".zarray"), meta)
    zarr.consolidate_metadata(path)
    known.update({k: (tuple(dims), arr.shape) for k, (dims, arr) in new.items()})
    return True


def _write_json(path, obj):
    tmp = path + f".tmp-{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


class _Arrays:
    """The arrays of a group, each opened once (opening reads and parses its metadata)."""

    def __init__(self, group):
        self.group = group
        self.attrs = group.attrs
        self._cache = {}

    def __getitem__(self, name):
        a = self._cache.get(name)
        if a is None:
            a = self._cache[name] = self.group[name]
        return a

    def array_keys(self):
        return self.group.array_keys()


def _open_group(path):
    """The store's root group for writing, read from the store itself (not its consolidated metadata,
    which does not list variables added since it was opened)."""
    import zarr

    if int(zarr.__version__.split(".")[0]) >= 3:
        return zarr.open_group(path, mode="r+", use_consolidated=False)
    return zarr.open_group(path, mode="r+")


_VARIABLE_ATTRS = {
    "ratio_123_00": {"meaning": "band ratio (74): P_1/rho_00 (rho_123/rho_00 for N = 3)"},
    "beta_eff_0_2": {"meaning": "effective inverse temperature (75), levels 0 -> 2"},
    "rho_23": {"meaning": "coherence rho_23 in the eigenbasis (part 0 real, 1 imaginary)"},
    "trace_distance_gibbs": {"meaning": "trace distance of the state to the Gibbs state (72)"},
    "trace_distance_local_thermal": {"meaning": "trace distance to the local thermal state (73)"},
    "relaxation_time": {"meaning": "1/gap of the generator (71) (smallest |Re lambda| over non-zero eigenvalues)"},
    "populations": {"meaning": "eigenbasis populations, ascending energies (NaN beyond 2^N levels)"},
    "state_error": {"kind": "estimate", "meaning": "error of the state: Frobenius (stationary) or largest "
                                                   "entry (evolve)"},
}


class _Writer:
    """Writes finished points to the store, a batch at a time (:func:`sweep`).

    Order within a batch: every data variable of every point, then ``error_message``, ``seconds``,
    and ``status`` last, so a point whose status is 1 has all its data on disk; a batch interrupted
    half-way leaves its points pending (status 0) and they are recomputed on resume.

    A chunk of an uncompressed, unfiltered numeric array of format 2 (how :func:`_prepare_store` and
    :func:`_ensure_variables` create ``status``, ``seconds`` and the data variables) is by the zarr
    format-2 specification the array's bytes in C order, at the key ``i.j.k`` of its chunk indices;
    such a chunk is written directly as a file (to a temporary name, then ``os.replace``: a reader never
    sees a half-written chunk), which costs ~0.05 ms instead of ~2-5 ms for a zarr ``__setitem__``
    (zarr 3's asynchronous machinery, per array and point).  Any other array (``error_message``, or
    a store created with other settings) is written through zarr.
    """

    _FAST_DTYPES = ("<f8", "|i1")

    def __init__(self, path, grid):
        self.path = path
        self.ngrid = len(grid)
        self.group = _Arrays(_open_group(path))
        self._layout = {}
        self._messages = set()

    def reopen(self):
        self.group = _Arrays(_open_group(self.path))

    def _fast(self, name):
        """``(dtype, separator, chunk shape of the non-grid dims)`` if chunks of ``name`` can be written
        as raw files, else None."""
        if name not in self._layout:
            lay = None
            try:
                with open(os.path.join(self.path, name, ".zarray")) as f:
                    meta = json.load(f)
                tail = tuple(meta["shape"][self.ngrid:])
                if (meta.get("zarr_format") == 2 and meta.get("compressor") is None and not meta.get("filters")
                        and meta.get("order") == "C" and meta.get("dtype") in self._FAST_DTYPES
                        and meta.get("dimension_separator", ".") == "."
                        and tuple(meta["chunks"]) == (1,) * self.ngrid + tail):
                    lay = (np.dtype(meta["dtype"]), ".", tail)
            except (OSError, ValueError, KeyError, TypeError):
                lay = None
            self._layout[name] = lay
        return self._layout[name]

    def write(self, name, idx, value):
        lay = self._fast(name)
        if lay is None:
            self.group[name][idx] = value
            return
        dtype, sep, tail = lay
        arr = np.asarray(value, dtype=dtype)
        if arr.shape != tail:
            raise _ShapeMismatch(f"variable {name}: shape {arr.shape} here, {tail} in the store")
        key = sep.join(str(int(i)) for i in tuple(idx) + (0,) * len(tail))
        final = os.path.join(self.path, name, key)
        tmp = os.path.join(self.path, name, f".tmp-{os.getpid()}-{key}")
        with open(tmp, "wb") as f:
            f.write(np.ascontiguousarray(arr).tobytes())
        os.replace(tmp, final)

    def load_messages(self):
        """Remember the points that carry an error message (read once, when a store is resumed)."""
        msgs = np.asarray(self.group["error_message"][...], dtype=object)
        self._messages = {tuple(int(i) for i in ix) for ix in zip(*np.nonzero(msgs != ""))}

    def clear_message(self, idx):
        """A point that failed before (or whose failure was half-written) and now succeeded: its
        ``error_message`` back to ``""``."""
        if tuple(idx) in self._messages:
            self.group["error_message"][idx] = ""
            self._messages.discard(tuple(idx))

    def write_batch(self, entries, known):
        """``entries``: list of ``(idx, result)``; returns the results as recorded (a shape mismatch
        turns a result into a failure)."""
        out = []
        for idx, res in entries:
            if res["ok"]:
                try:
                    for k, (dims, arr) in res["variables"].items():
                        want = known[k]
                        if tuple(dims) != want[0] or arr.shape != want[1]:
                            raise _ShapeMismatch(f"variable {k} has dimensions {tuple(dims)} shape {arr.shape} here "
                                                 f"but {want[0]} shape {want[1]} at other points")
                except _ShapeMismatch as exc:
                    res = {"ok": False, "error": f"ValueError: {exc}", "seconds": res["seconds"]}
            out.append((idx, res))
        for idx, res in out:  # the data first
            if res["ok"]:
                for k, (dims, arr) in res["variables"].items():
                    self.write(k, idx, arr)
        for idx, res in out:
            if res["ok"]:
                self.clear_message(idx)
            else:
                self.group["error_message"][idx] = res["error"]
                self._messages.add(tuple(idx))
        for idx, res in out:
            self.write("seconds", idx, res["seconds"])
        for idx, res in out:  # last: the point is complete
            self.write("status", idx, _STATUS_DONE if res["ok"] else _STATUS_FAILED)
        return out


class _ShapeMismatch(ValueError):
    pass


# ----------------------------------------------------------------------------- cluster
def _connect(client, scheduler, workers, connect_timeout):
    """``(client, owned)``: the given client, one connected to ``scheduler``, or a new LocalCluster."""
    from distributed import Client, LocalCluster

    if client is not None:
        if scheduler is not None:
            raise ValueError("give either client or scheduler, not both")
        return client, False
    if scheduler is not None:
        if not isinstance(scheduler, str) or not re.fullmatch(r"(tcp|tls|inproc|ucx|ws|wss)://[^\s:/]+(:\d+)?"
                                                              r"|[^\s:/]+:\d+", scheduler):
            raise ValueError(f"scheduler must be an address like tcp://host:port (got {scheduler!r})")
        try:
            return Client(scheduler, timeout=connect_timeout), True
        except (OSError, TimeoutError) as exc:
            raise ValueError(f"scheduler {scheduler}: cannot connect within {connect_timeout:g} s "
                             f"({type(exc).__name__}: {exc})") from None
    n = workers or os.cpu_count() or 1
    cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                           silence_logs=40)
    return Client(cluster), True


def _n_workers(client):
    try:
        return max(1, len(client.scheduler_info().get("workers", {})))
    except Exception:  # pragma: no cover
        return 1


# ----------------------------------------------------------------------------- the sweep
@dataclass
class SweepResult:
    """What :func:`sweep` did: ``path`` of the store, ``done``, ``skipped``, ``failed`` point counts,
    ``wall`` seconds, ``busy`` (sum of the points' compute seconds), ``workers`` and ``efficiency``
    (``busy / (wall x workers)``: 1 when every worker computed all the time)."""

    path: str
    done: int
    skipped: int
    failed: int
    wall: float
    busy: float
    workers: int

    @property
    def efficiency(self) -> float:
        return self.busy / (self.wall * self.workers) if self.wall > 0 else float("nan")

    def dataset(self):
        """The store as an xarray Dataset."""
        return open_sweep(self.path)

    def summary(self) -> str:
        eff = "n/a" if self.done + self.failed == 0 else f"{self.efficiency:.2f}"
        return (f"points: {self.done} done, {self.skipped} skipped, {self.failed} failed; wall {self.wall:.1f} s; "
                f"efficiency {eff}")


def _check_times_arg(task, times):
    if task == "evolve":
        if times is None:
            raise ValueError("times must be given for task 'evolve' (a 1-D array of times >= 0)")
    if times is None:
        return None
    from .dynamics import _check_times

    return [float(t) for t in _check_times(times)]


def sweep(grid, task="stationary", *, out, fixed=None, times=None, client=None, scheduler=None, workers=None,
          blas_threads=1, progress=False, command=None, connect_timeout=10.0) -> SweepResult:
    """Run ``task`` at every point of ``grid`` as Dask tasks; results go to the zarr store ``out``.

    Parameters
    ----------
    grid : dict or list of str
        ``{parameter: values}`` (parameters of :data:`SWEEP_PARAMETERS`), or ``--grid`` strings
        (:func:`parse_grid_spec`).  The store's dimensions follow this order.
    task : str or callable
        ``"stationary"``, ``"evolve"`` (needs ``times``), ``"transport"``, or ``f(SweepModel) ->
        {name: array}`` (see the module doc).
    out : str
        Path of the zarr store: created, or resumed if it holds the same sweep definition.
    fixed : dict, optional
        Values of the parameters not swept (default: :data:`SWEEP_PARAMETERS`).
    times : 1-D array, optional
        Times of the evolve task (or of a user task, ``model.times``).
    client, scheduler, workers
        A ``distributed.Client``; or a scheduler address ``tcp://host:port``; or the number of
        worker processes of the default LocalCluster (default: one per core).
    blas_threads : int
        BLAS threads per task (threadpoolctl; default 1).
    progress : bool
        A tqdm progress bar on stderr.
    command : str, optional
        The command line, recorded in the attributes.
    connect_timeout : float
        Seconds to wait for ``scheduler``.

    Returns
    -------
    SweepResult

    Raises
    ------
    ValueError, TypeError
        Unknown parameter, empty or malformed grid, a value the model refuses (checked at every
        point before any submission), an unreachable scheduler, an ``out`` that is not this sweep's store.
    """
    import zarr

    if not (isinstance(task, str) and task in TASKS) and not callable(task):
        raise ValueError(f"task must be one of {TASKS} or a callable f(model) (got {task!r})")
    if isinstance(blas_threads, bool) or not isinstance(blas_threads, int) or blas_threads < 1:
        raise ValueError(f"blas_threads must be an integer >= 1 (got {blas_threads!r})")
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be an integer >= 1 (got {workers!r})")
    if not isinstance(out, (str, os.PathLike)):
        raise TypeError(f"out must be a path (got {out!r})")
    out = os.fspath(out)
    grid = _normalise_grid(grid)
    fixed = _normalise_fixed(fixed, grid)
    times = _check_times_arg(task, times)
    points = list(grid_points(grid))
    max_N = max(grid["N"]) if "N" in grid else fixed["N"]
    for idx, pt in points:  # every point checked before anything runs
        p = dict(fixed, **pt)
        build_model(p)
        if task == "transport":
            _check_transport(p)
    definition = _definition(task, grid, fixed, times)
    from . import conventions as cv

    attrs = {
        "symcoll_version": __version__,
        "conventions": "hbar = 1; eigenbasis of H(eps), ascending energies (phase rule of symcoll.conventions); "
                       "ladder: " + "; ".join(f"{k}: {v}" for k, v in cv.LADDER_DESCRIPTIONS.items())
                       + "; column-stacking vectorisation; *_error variables are error estimates",
        "task": definition["task"],
        "grid": json.dumps(grid),
        "fixed": json.dumps(fixed),
        "times": json.dumps(times),
        "definition": _canon(definition),
        "command": command or "symcoll.sweep.sweep(...)",
    }
    new_store = _prepare_store(out, definition, grid, attrs, create=False)
    if new_store:
        todo = points
    else:
        status = np.asarray(_open_group(out)["status"][...])
        todo = [(idx, pt) for idx, pt in points if status[idx] != _STATUS_DONE]
    skipped = len(points) - len(todo)
    t0 = time.perf_counter()
    done = failed = 0
    busy = 0.0
    nworkers = 1
    if todo:
        cl, owned = _connect(client, scheduler, workers, connect_timeout)  # before the store is created
        try:
            from distributed import as_completed

            if new_store:
                _prepare_store(out, definition, grid, attrs)
            writer = _Writer(out, grid)
            if not new_store:
                writer.load_messages()
            group = writer.group
            store_attrs = dict(group.attrs)
            known = {k: (tuple(group[k].attrs.get("_ARRAY_DIMENSIONS", []))[len(grid):], group[k].shape[len(grid):])
                     for k in group.array_keys() if k not in grid and k not in ("status", "error_message", "seconds")}
            nworkers = _n_workers(cl)
            t0 = time.perf_counter()
            params = [dict(fixed, **pt, _max_N=max_N) for _, pt in todo]
            n = len(todo)
            flist = cl.map(run_point, [task] * n, params, [times] * n, [blas_threads] * n, pure=False)
            futs = {f: idx for f, (idx, _) in zip(flist, todo)}
            del flist
            bar = _bar(len(todo), progress)
            try:
                # every finished point is written as soon as the client sees it; points that finish
                # while a batch is being written form the next batch (one gather per batch)
                for batch in as_completed(list(futs)).batches():
                    entries = [(futs.pop(f), res) for f, res in zip(batch, _gather(cl, batch))]
                    for _, res in entries:
                        if res["ok"] and _ensure_variables(out, grid, res["variables"], known, store_attrs):
                            writer.reopen()
                    for _, res in writer.write_batch(entries, known):
                        if res["ok"]:
                            done += 1
                        else:
                            failed += 1
                        if math.isfinite(res["seconds"]):
                            busy += res["seconds"]
                    if bar is not None:
                        bar.set_postfix_str(f"{failed} failed")
                        bar.update(len(entries))
                    for f in batch:
                        f.release()
            finally:
                if bar is not None:
                    bar.close()
                for f in futs:
                    f.cancel()
        finally:
            if owned:
                cluster = getattr(cl, "cluster", None)
                cl.close()
                if cluster is not None:
                    cluster.close()
    return SweepResult(out, done, skipped, failed, time.perf_counter() - t0, busy, nworkers)


def _gather(cl, batch):
    """The results of finished futures (one round trip); a future that raised (the infrastructure
    failed, e.g. ``KilledWorker`` after retries: :func:`run_point` itself never raises) becomes a failed point."""
    def failed(exc):
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}", "seconds": float("nan")}

    good = [f for f in batch if f.status == "finished"]
    try:
        got = dict(zip(good, cl.gather(good))) if good else {}
    except Exception:  # a result lost between its completion and the gather: one at a time
        got = {}
    out = []
    for f in batch:
        if f in got:
            out.append(got[f])
            continue
        try:
            out.append(f.result())
        except Exception as exc:
            out.append(failed(exc))
    return out


def _bar(total, progress):
    if not progress:
        return None
    try:
        from tqdm import tqdm

        return tqdm(total=total, desc="symcoll sweep", file=sys.stderr, leave=False)
    except ImportError:  # pragma: no cover
        return None


# ----------------------------------------------------------------------------- command line
def parse_set(text):
    """``--set NAME=VALUE`` -> ``(name, value)`` (a fixed, non-swept parameter)."""
    if not isinstance(text, str) or "=" not in text:
        raise ValueError(f"--set must be NAME=VALUE (got {text!r})")
    name, value = (s.strip() for s in text.split("=", 1))
    _check_name(name)
    if name in _STR_PARAMS:
        return name, value
    if value.lower() == "none" and SWEEP_PARAMETERS[name] is None:
        return name, None
    return name, _coerce(name, _number(value, name))


def main(args) -> int:
    """``symcoll sweep``: run the sweep, print the summary line last."""
    from .cli import parse_times

    grid = {}
    for g in args.grid or []:
        name, values = parse_grid_spec(g)
        if name in grid:
            raise ValueError(f"--grid {name} given twice")
        grid[name] = values
    if not grid:
        raise ValueError("--grid is required (at least one NAME=SPEC)")
    fixed = dict(parse_set(s) for s in args.set or [])
    times = parse_times(args.times) if args.times is not None else None
    command = shlex.join(["symcoll"] + [str(a) for a in getattr(args, "argv", None) or ["sweep"]])
    res = sweep(grid, args.task, out=args.out, fixed=fixed, times=times, scheduler=args.scheduler,
                workers=args.workers, progress=sys.stderr.isatty() or args.progress, command=command,
                connect_timeout=args.timeout)
    print(f"wrote {args.out} (open with xarray.open_zarr)")
    print(res.summary())
    return 0
