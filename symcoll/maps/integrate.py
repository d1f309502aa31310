"""Adaptive panel quadrature of the map integrals: breakpoints, truncation, error parts.

:func:`_integrate` places panels between the channel thresholds (:func:`_breakpoints`),
cuts the Gaussian tail where :func:`symcoll.quadrature.tail_bound` is small enough
(:func:`_truncation`), and runs :func:`_adaptive` with the engine of the map kind
(:class:`~symcoll.maps.exact.ExactEngine` for (38), :class:`~symcoll.maps.narrow.NarrowEngine`
for (45)/(54)-(56)), under a BLAS thread limit (:class:`_blas_threads`).
"""
from __future__ import annotations

import math
import os

import numpy as np
from threadpoolctl import ThreadpoolController

from ..interpolation import RowInterpolant, resonance_poles
from ..model import to_ctx
from ..numeric import Tolerances
from ..quadrature import MIN_REL_WIDTH, graded_panels, rule_pair, tail_bound
from .exact import ExactEngine
from .exact_fast import FastExactEngine
from .narrow import NarrowEngine
from .spectrum import _cluster_sorted


_BLAS_CONTROLLER = None


def _blas_controller():
    """One :class:`threadpoolctl.ThreadpoolController` (scanning the loaded libraries costs ~1 ms)."""
    global _BLAS_CONTROLLER
    if _BLAS_CONTROLLER is None:
        _BLAS_CONTROLLER = ThreadpoolController()
    return _BLAS_CONTROLLER


class _blas_threads:
    """Context manager limiting the BLAS threads (default 1, env ``SYMCOLL_BLAS_THREADS``; 0: no limit).

    The map accumulation issues many mid-sized matrix products; on a shared machine
    multi-threaded OpenBLAS spins and was measured 8x slower (N = 4 exact map: 15 s with
    2 threads vs 1.9 s with 1 thread under load).  The previous setting is restored
    (:meth:`threadpoolctl.ThreadpoolController.limit`).
    """

    def __init__(self):
        self.n = int(os.environ.get("SYMCOLL_BLAS_THREADS", "1"))
        self._limits = None

    def __enter__(self):
        if self.n > 0:
            self._limits = _blas_controller().limit(limits=self.n, user_api="blas")
        return self

    def __exit__(self, *exc):
        if self._limits is not None:
            self._limits.restore_original_limits()
            self._limits = None
        return False


def _Engine(ctx, energies, V_eig, m, g, beta, sigma_p, narrow, classes=None, sel=None, interpolate=False):
    """The engine of a map kind: :class:`NarrowEngine` for (45)/(54)-(56), :class:`ExactEngine` for (38)
    (:class:`FastExactEngine` with interpolated rows: float64, whole map)."""
    if narrow:
        return NarrowEngine(ctx, energies, V_eig, m, g, beta, sigma_p, classes, sel)
    if interpolate and sel is None:
        return FastExactEngine(ctx, energies, V_eig, m, g, beta, sigma_p)
    return ExactEngine(ctx, energies, V_eig, m, g, beta, sigma_p, sel)


def _max_abs_diff(ctx, x, y):
    """``max |x - y|`` (float), chunked in float64 to avoid a full-size temporary."""
    out = 0.0
    step = 1 << 20
    for s in range(0, len(x), step):
        out = max(out, float(np.max(ctx.abs_float(x[s:s + step] - y[s:s + step]))))
    return out


PANEL_BUDGET = 64
"""Work limit of :func:`_adaptive`: at most this many accepted panels per initial panel (the
paper's maps need 1.0-1.3).  Beyond it no panel is bisected any more: the pending panels are
accepted with their error estimates, so the reported error grows instead of the run time."""


def _adaptive(engine, panels, tol_q, ctx, max_panels=None, progress=None):
    """Adaptive panel quadrature with nested rule pairs (:func:`symcoll.quadrature.rule_pair`).

    Each panel gets the tolerance ``tol_q / n_panels`` (halved on bisection).  A panel is
    accepted when the max-entry difference between the finer and the coarser rule (an
    error *estimate* of the coarser rule, hence conservative for the finer one returned) is
    below its tolerance or below the rounding floor ``64 eps * scale``; otherwise the next
    rule pair is tried, and when they are exhausted the panel is bisected.

    Both sides of the test scale with the panel width, so an integrand whose rounding noise
    exceeds the floor would be bisected without end; the panels are therefore graded toward
    the resonance poles of the s-matrix beforehand (:func:`_resonances`, where the noise of the
    ill-conditioned solves is largest), and two limits stop the bisection: panels narrower
    than ``MIN_REL_WIDTH * max(1, |a|)`` and a total of ``max_panels`` (default
    ``PANEL_BUDGET * len(panels)``).  A panel stopped by either is accepted *unresolved*: its
    estimate still enters the sum.

    ``progress``: optional callable, called with the fraction (0..1] of the integration range
    accepted so far (for a progress bar on long builds).

    Returns the accumulated flat integral, the summed error estimate, the summed magnitude
    scale (for the rounding estimate), the number of accepted panels and of panels accepted
    unresolved.
    """
    if max_panels is None:
        max_panels = PANEL_BUDGET * len(panels)
    rules = getattr(engine, "rule_pair", None) or rule_pair  # the engine's own rule ladder, if any
    on_accept = getattr(engine, "on_accept", None)
    in_place = bool(getattr(engine, "in_place", False))
    width_total = sum(float(ctx.to_float(b - a)) for (a, b, _, _) in panels) or 1.0
    width_done = 0.0
    total = ctx.zeros(engine.size, complex=True)
    est_total = 0.0
    scale_total = 0.0
    stack = [(a, b, sl, sr, tol_q / len(panels)) for (a, b, sl, sr) in panels]
    stack.reverse()
    n_panels = 0
    unresolved = 0
    while stack:
        a, b, sl, sr, tp = stack.pop()
        level = 0
        while True:
            t, W = rules(ctx, level)
            if in_place:  # the engine adds the panel to total itself (FastExactEngine) and returns the difference
                (_, diff), sc = engine.panel(a, b, t, W, sl, sr, total=total)
                acc = None
                err = engine.err_factor * diff
            else:
                acc, sc = engine.panel(a, b, t, W, sl, sr)
                if isinstance(acc, tuple):  # (fine sums, max |fine - coarse|) from engines that form the difference
                    acc, diff = acc
                    acc = acc.reshape(1, -1)
                    err = engine.err_factor * diff
                else:
                    err = engine.err_factor * _max_abs_diff(ctx, acc[0], acc[1]) if acc.shape[1] else 0.0
            floor = 64 * ctx.eps * float(np.max(sc)) if np.size(sc) else 0.0
            if err <= max(tp, floor):
                accepted = True
                break
            if rules(ctx, level + 1) is not None:
                if in_place:  # the panel is already in total: take it out before the next rule
                    engine.undo(total)
                level += 1
                continue
            width = float(ctx.to_float(b - a))
            too_narrow = width < MIN_REL_WIDTH * max(1.0, abs(float(ctx.to_float(a))))
            if too_narrow or n_panels + len(stack) + 2 > max_panels:
                unresolved += 1
                accepted = True  # (in place: its fine sums are already in total)
                break
            if in_place:  # bisected: take the panel out of total
                engine.undo(total)
            mid = (a + b) / 2
            stack.append((mid, b, False, sr, tp / 2))
            stack.append((a, mid, sl, False, tp / 2))
            accepted = False
            break
        if accepted:
            if acc is not None:
                total += acc[0]
            if on_accept is not None:
                on_accept()
            est_total += err
            scale_total += sc
            n_panels += 1
            if progress is not None:
                width_done += float(ctx.to_float(b - a))
                progress(min(width_done / width_total, 1.0))
    return total, est_total, scale_total, n_panels, unresolved



def _breakpoints(ctx, e):
    """Sorted channel thresholds ``eps_l - eps_j' > 0`` plus 0, merged within the Bohr tolerance."""
    d = len(e)
    thr = e[None, :] - e[:, None]
    thr_f = ctx.float_array(thr).reshape(-1)
    flat = thr.reshape(-1)
    scale = float(np.max(np.abs(thr_f))) if d else 1.0
    tol = Tolerances(ctx.eps).bohr_equality(scale, d)
    pos = np.flatnonzero(thr_f > tol)
    pts_f = [0.0]
    pts = [ctx.mpf(0)]
    if pos.size:
        groups, _ = _cluster_sorted(flat[pos], tol, ctx)
        for g in groups:
            k = pos[g[0]]
            pts.append(flat[k])
            pts_f.append(float(thr_f[k]))
    return pts, pts_f


def _resonances(engine):
    """Near-real poles ``(T_r, gamma)`` of the s-matrix rows of the engine (:func:`resonance_poles`)."""
    ctx = engine.ctx
    return resonance_poles(ctx.float_array(engine.e), ctx.to_complex128(engine.iVT), float(ctx.to_float(engine.m)),
                           float(ctx.to_float(engine.hbar)), engine.snap_tol)


def _poles_in_E(engine, poles, e_max):
    """The poles in the outgoing kinetic energy: row j' is evaluated at ``T = E + eps_j'``, so a
    pole at total energy T_r shows in the integrand at ``E = T_r - eps_j'`` for every outgoing
    level of the rows used; those inside ``(0, e_max)``, one per distinct position."""
    e = engine.ctx.float_array(engine.e)
    out = {}
    for t_r, gamma in poles:
        for jp in engine.jps:
            c = t_r - e[jp]
            if 0.0 < c < e_max:
                key = round(c / engine.snap_tol) if engine.snap_tol > 0 else c
                out[key] = (c, gamma)
    return sorted(out.values())


def _truncation(spread, beta, tol):
    """Cut ``E_max`` of the outgoing kinetic energy with :func:`tail_bound` ``<= tol / 32``."""
    tol_tail = tol / 32
    e_max = spread + math.log(1 / tol_tail) / beta
    for _ in range(5):
        tb = tail_bound(e_max, beta, spread)
        if tb <= tol_tail:
            break
        e_max += math.log(max(tb / tol_tail, 1.0 + 1e-3)) / beta
    return e_max


def _integrate(ctx, energies, V_eig, bath, g, tol, narrow, classes=None, sel=None, bp_energies=None,
               interpolate=False, progress=None):
    """Run the quadrature; returns flat result, error parts, info.

    ``bp_energies`` (default ``energies``): spectrum whose channel thresholds set the panel
    breakpoints and whose width sets the tail cut (the compact local map integrates the site
    qubit alone on the panels of the whole chain, so that it reproduces the dense path).
    ``interpolate``: read the s-matrix rows off :class:`symcoll.interpolation.RowInterpolant`
    (float64, narrow kinds) instead of solving for them at every node.
    """
    m = to_ctx(ctx, bath.m)
    beta = to_ctx(ctx, bath.beta)
    sig = to_ctx(ctx, bath.sigma_p)
    engine = _Engine(ctx, energies, V_eig, m, to_ctx(ctx, g), beta, sig, narrow, classes, sel, interpolate)
    bp_e = energies if bp_energies is None else bp_energies
    pts, pts_f = _breakpoints(ctx, bp_e)
    ef = ctx.float_array(bp_e)
    spread = float(ef.max() - ef.min()) if len(ef) else 0.0
    bf = float(bath.beta)
    e_max = _truncation(spread, bf, tol)
    # tail points every 4/beta (not singular; they keep each panel's exponential variation mild)
    n_sing = len(pts_f)
    step = 4.0 / bf
    x = pts_f[-1] + step
    while x < e_max - step / 2:
        pts.append(ctx.mpf(x))
        pts_f.append(x)
        x += step
    with _blas_threads():  # many small eigen/solve calls (measured 6x slower with 2 threads, N = 8)
        poles = _resonances(engine)
    panels_f = graded_panels(pts_f, e_max, n_singular=n_sing, poles=_poles_in_E(engine, poles, e_max))
    # map float panel edges back to exact ctx breakpoints where they coincide
    lookup = {pf: p for pf, p in zip(pts_f, pts)}
    lookup[e_max] = ctx.mpf(e_max)
    panels = [(lookup.get(a, ctx.mpf(a)), lookup.get(b, ctx.mpf(b)), sl, sr) for (a, b, sl, sr) in panels_f]
    tol_q = tol / 2
    if interpolate:
        engine.interp = _row_interpolant(engine, energies, e_max, bf, tol / 8, poles)
    with _blas_threads():
        flat, est, scale, n_panels, unresolved = _adaptive(engine, panels, tol_q, ctx, progress=progress)
    flat = engine.finalize(flat)
    d = len(energies)
    rounding = 16.0 * d * ctx.eps * max(float(np.max(scale)) if np.size(scale) else 0.0, 1.0)
    parts = {
        "quadrature": {
            "value": float(est),
            "kind": "estimate",
            "note": "sum over panels of max-entry |fine - coarse| (float64: Gauss-Kronrod K21 vs G10; "
                    "mpmath: Gauss-Legendre 2n vs n) after the square-root endpoint substitution; "
                    "the finer rule is returned",
        },
        "tail": {
            "value": float(tail_bound(e_max, bf, spread)),
            "kind": "bound",
            "note": f"int_(E_max={e_max:.4g})^inf w dE <= R exp(-beta (E_max - W)), W = spectral width; "
                    "|sum_alpha a a*| <= 1 by Cauchy-Schwarz and flux unitarity",
        },
        "rounding": {
            "value": float(rounding),
            "kind": "estimate",
            "note": "16 d eps max_entries int |integrand| dE (class-wise upper estimate of the absolute "
                    "integral; linear solves and accumulation in the working precision)",
        },
    }
    info = {"panels": n_panels, "initial_panels": len(panels), "unresolved_panels": unresolved,
            "evaluations": engine.evals,
            "E_max": e_max, "breakpoints": len(pts_f), "smatrix": "solve",
            "resonances": [(float(t), float(gam)) for t, gam in poles]}
    if engine.interp is not None and not narrow:
        ip = engine.interp
        parts["interpolation"] = {
            "value": engine.interp_error(),
            "kind": "estimate",
            "note": "s-matrix rows (C1) read off piecewise Chebyshev interpolants in the total energy; the row "
                    "error (twice the largest sqrt(Re K_j') |X_interp - X|_j'l over open l at the check midpoints, "
                    "against direct solves) propagated through the integrand of (38) node by node, per Bohr-class "
                    "pair: (beta/2) max (|dT1_AB| + |dT1_BA|)",
        }
        info.update(ip.stats())
        info["smatrix"] = "interpolate"
        from . import exact_fast

        gk15 = exact_fast.FIRST_RULE == "gk15"
        info["rules"] = "GK15 then GK21" if gk15 else "GK21"
        done, full = engine.pair_work
        info["open_pair_work"] = done / full if full else 1.0  # classes closed on a whole panel skipped (round 3)
        parts["quadrature"]["note"] = ("sum over panels of (beta/2) max-entry |fine - coarse| of H = T1 + T1^H ("
                                       + ("Gauss-Kronrod K15 vs G7, where that fails K21 vs G10" if gk15
                                          else "Gauss-Kronrod K21 vs G10")
                                       + ") after the square-root endpoint substitution; the finer rule is returned")
    elif engine.interp is not None:
        ip = engine.interp
        parts["interpolation"] = {
            "value": float(ip.entry_error()),
            "kind": "estimate",
            "note": "s-matrix rows (C1) read off piecewise Chebyshev interpolants in the total energy: "
                    f"{ip.ENTRY_FACTOR:g} * sum over panels of (weight of (45) on the panel) * (twice the largest "
                    "scaled row error sqrt(Re K_j' Re K_l) |X_interp - X| at the check midpoints, "
                    "against direct solves)",
        }
        info.update(ip.stats())
        info["smatrix"] = "interpolate"
    return flat, parts, info


def _interp_table_bytes(ctx, energies, beta, tol):
    """Memory estimate of the interpolation tables for a float64 narrow map (before building)."""
    e = np.asarray(energies, dtype=float)
    d = len(e)
    thr = float(np.ptp(e)) if d else 1.0
    snap = Tolerances(ctx.eps).bohr_equality(thr, d)
    e_max = _truncation(thr, beta, tol)
    # poles=[]: the estimate only counts the panels between levels (V = 0 has no resonances, and
    # locating them needs a d x d eigenvalue problem per level gap: minutes at d = 512)
    R = RowInterpolant(e, np.zeros((d, d)), 1.0, 1.0, snap, e_max + float(e.max()), lambda a, b: b - a, tol,
                       poles=[])
    return R.table_bytes() + R.workspace_bytes()


def _row_interpolant(engine, energies, e_max, beta, tol_rows, poles=None):
    """:class:`RowInterpolant` for the narrow-packet weight ``beta exp(-beta (T - eps_j))`` of (45).

    In the total energy ``T = E + eps_j'`` the weight of (45) is ``beta exp(-beta (T - eps_j))``
    with ``T - eps_j >= 0`` (incoming kinetic energy), so on a panel [t1, t2] it integrates to at
    most ``int beta exp(-beta max(0, T - eps_max)) dT``.
    """
    e = np.asarray(energies, dtype=float)
    top = float(e.max())

    def weight(t1, t2):
        lo = min(t2, max(t1, top))  # [t1, lo] below the top level: weight <= beta
        out = beta * (lo - t1)
        if t2 > lo:
            out += math.exp(-beta * (lo - top)) - math.exp(-beta * (t2 - top))
        return out

    return RowInterpolant(e, engine.iVT, engine.m, engine.hbar, engine.snap_tol, e_max + top, weight, tol_rows,
                          poles=poles)
