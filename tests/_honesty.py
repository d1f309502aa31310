"""Float64 error estimates against an independent high-precision reference (issue #12).

``reference(N, eps, kind)`` is the one place the reference comes from: today symcoll's mpmath
path at ``REF_DPS`` digits (an independent computation: Gauss-Legendre pairs instead of
Gauss-Kronrod, mpmath solves, refined eigen-decomposition); it can be swapped for the midpoints
of the certified (Arb) path.  ``float64_results`` runs the float64 path and returns its
estimates; ``compare`` gives ``(true, estimate)`` per quantity.

Parameters are the paper's (Sec. VI E): h = 4, beta = m = 0.1, g = 50, sigma_p = 0.5,
Gamma = 1, initial state |0...0><0...0| (local basis).
"""
import warnings

import numpy as np

from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll.dynamics import Lindbladian
from symcoll.numeric import get_context

TIMES = np.array([1.0, 1e2, 1e3, 1e4, 1e5])
REF_DPS = 30
REF_TOL = 1e-20
GAMMA = 1.0


def setup(N, eps):
    """``(chain, bath, coupling, rho0)`` at the paper's parameters."""
    chain = QubitChain(N, h=4.0, eps=eps)
    rho0 = np.zeros((2**N, 2**N))
    rho0[0, 0] = 1.0
    return chain, EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50.0), rho0


def _c128(ctx, x):
    return ctx.to_complex128(np.asarray(x, dtype=object)) if ctx.is_mp else np.asarray(x, dtype=complex)


def reference(N, eps, kind, times=TIMES):
    """Reference map tensor, states at ``times`` (eigenbasis) and steady state, as complex128.

    Today: mpmath at ``REF_DPS`` digits with map tolerance ``REF_TOL`` (the reference's own
    error estimate is returned as ``"ref_error"``, for the record).  The local map (54)-(56) is
    taken from the compact path (the site qubit integrated alone and rotated with the
    eigenvectors: a different computation from the dense float64 map, and ~10x cheaper at
    N = 3; it agrees with the dense 30-digit map to 1e-32).
    """
    chain, bath, cp, rho0 = setup(N, eps)
    storage = "compact" if kind == "local" else "dense"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        S = collision_map(chain, bath, cp, kind=kind, dps=REF_DPS, tol=REF_TOL, storage=storage)
    ctx = get_context(REF_DPS)
    L = Lindbladian(chain, S, GAMMA, dps=REF_DPS)
    ev = L.evolve(rho0, times, basis="local")
    out = {"map": _c128(ctx, S.tensor), "states": _c128(ctx, ev.states),
           "ref_error": {"map": S.error_estimate, "states": np.asarray(ev.error_estimate)}}
    try:
        ss = L.steady_state()
        out["steady"] = _c128(ctx, ss.state)
        out["ref_error"]["steady"] = ss.error_estimate
    except ValueError:
        out["steady"] = None
    return out


def float64_results(N, eps, kind, times=TIMES, S=None):
    """Float64 map, states and steady state with their error estimates (and budgets)."""
    chain, bath, cp, rho0 = setup(N, eps)
    if S is None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            S = collision_map(chain, bath, cp, kind=kind)
    L = Lindbladian(chain, S, GAMMA)
    ev = L.evolve(rho0, times, basis="local")
    out = {"map": np.asarray(S.tensor), "map_est": S.error_estimate, "map_budget": S.error,
           "states": np.asarray(ev.states), "states_est": np.asarray(ev.error_estimate), "states_budget": ev.error,
           "generator": L}
    try:
        ss = L.steady_state()
        out.update(steady=np.asarray(ss.state), steady_est=ss.error_estimate, steady_budget=ss.error)
    except ValueError:
        out["steady"] = None
    return out


def compare(ref, f):
    """``{quantity: (true, estimate)}``: errors against the reference (max entry for maps and
    states, Frobenius for steady states: the quantities their estimates refer to).

    Quantities: ``"map"``, ``"t=<time>"`` for each time, ``"steady"``.
    """
    rows = {"map": (float(np.max(np.abs(f["map"] - ref["map"]))), float(f["map_est"]))}
    for a, t in enumerate(TIMES[: len(f["states_est"])]):
        rows[f"t={t:g}"] = (float(np.max(np.abs(f["states"][a] - ref["states"][a]))), float(f["states_est"][a]))
    if ref.get("steady") is not None and f.get("steady") is not None:
        # the steady state's estimate is of the Frobenius error (SteadyState.error)
        rows["steady"] = (float(np.linalg.norm(f["steady"] - ref["steady"])), float(f["steady_est"]))
    return rows
