"""Collision maps with error bounds: exact (38), global (45), local (54)-(56).

All maps are computed in the variable of Appendix B, the outgoing kinetic energy
``E`` (``E_out`` of Eq. (B3)).  Writing ``Delta_{ab} = eps_a - eps_b``,
``P_{j'j}(E) = sqrt(2 m (E + Delta_{j'j}))`` and changing variables in (38)
(``p = P_{j'j}(E)``, ``pi(p) = P_{k'k}(E)``, ``dp = m dE / p``)::

    S^{jk}_{j'k'} = sum_alpha int_0^inf dE  w(p, q)  a^alpha_{j'j}(E) [a^alpha_{k'k}(E)]^*,
    w(p, q) = m rho_U(p, q) / sqrt(p q)
            = beta (p + q) / (2 sqrt(p q)) exp(-beta (p + q)^2 / (8 m)) exp(-(p - q)^2 / (2 sigma_p^2)),
    a^alpha_{j'j}(E) = s^(alpha)_{j'j}(E + eps_j'),     p = P_{j'j}(E),  q = P_{k'k}(E),

where ``a`` vanishes when channel j (or k) is closed, so the integrand starts at
``E_min = max(0, -Delta_{j'j}, -Delta_{k'k})`` (the ``p_inf`` of (38)).  Both factors
share the outgoing energy E, so one quadrature node needs the s-matrices only at
the d energies ``E + eps_j'`` (one row of each).

The narrow-packet limit (44) turns the weight into ``beta exp(-beta (E + Delta_{j'j}))``
on the entries with ``Delta_{j'j} = Delta_{k'k}`` and zero elsewhere: the global map (45).

Quadrature: panels between all channel thresholds ``eps_l - eps_j' > 0`` (and 0), the
substitution of :mod:`symcoll.quadrature`, Gauss-Legendre of orders n and 2n per panel
(difference = error *estimate*), adaptive order doubling and bisection, and an
analytic (rigorous) bound on the truncated Gaussian tail.
"""
from __future__ import annotations

import math
import numbers
import warnings

import numpy as np

from . import conventions as cv
from .conventions import HBAR
from .model import DeltaCoupling, EffusionBath, QubitChain, System, to_ctx
from .numeric import Tolerances, get_context
from .quadrature import graded_panels, sin4_panel_nodes, tail_bound

__all__ = ["collision_map", "CollisionMap", "KINDS", "MAX_BYTES", "estimate_memory"]

KINDS = ("exact", "global", "local", "exact_h0")
"""Map kinds: exact (38), global/narrow (45), local (54)-(56), exact_h0 ((38) with H(0))."""

MAX_BYTES = 8 * 2**30
"""Largest memory (tensor plus workspaces) :func:`collision_map` will allocate (8 GiB)."""

_CHUNK_BYTES = 48 * 2**20


# ----------------------------------------------------------------------------- validation
def _check_tol(tol, ctx):
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a real number in (0, 1e-3] (got {tol!r})")
    tol = float(tol)
    if not (0 < tol <= 1e-3):
        raise ValueError(f"tol must be in (0, 1e-3] (got {tol!r})")
    floor = 1e3 * ctx.eps
    if tol < floor:
        raise ValueError(
            f"tol={tol:.1e} is below what {ctx.name} arithmetic can deliver (>= {floor:.1e}); "
            "use dps=None only for tol >= 1e3 * 2.2e-16, or a larger dps"
        )
    return tol


def estimate_memory(d: int, kind: str, dps=None) -> int:
    """Bytes needed for a map of dimension d: tensor, adaptive copies and workspaces.

    The exact kinds keep three dense ``d^4`` accumulators (total, order n, order 2n) and
    produce the output tensor and a rotated copy; the global/local kinds produce a dense
    ``d^4`` output tensor plus one rotated or densified copy.
    """
    per = 16 if dps is None else 240  # complex128, or an mpmath mpc object (measured ~ 200 B)
    n4 = d**4
    copies = 5 if kind in ("exact", "exact_h0") else 3
    return int(copies * n4 * per + 4 * _CHUNK_BYTES)


# ----------------------------------------------------------------------------- the engine
class _Engine:
    """Quadrature of the E-variable integrand for one spectrum and coupling.

    Parameters
    ----------
    ctx : context
    energies : (d,) ctx numbers (degenerate groups already snapped to a common value)
    V_eig : (d, d) coupling operator in the eigenbasis of H
    m, g, beta, sigma_p : ctx numbers
    narrow : bool
        True for the narrow-packet weight of (45) restricted to Bohr classes.
    classes : list of int arrays
        Flat pair indices ``j' d + j`` of each Bohr class (narrow only).
    """

    def __init__(self, ctx, energies, V_eig, m, g, beta, sigma_p, narrow, classes=None):
        self.ctx = ctx
        self.e = energies
        self.d = d = len(energies)
        self.D = d * d
        self.m, self.g, self.beta, self.sigma_p = m, g, beta, sigma_p
        self.hbar = to_ctx(ctx, HBAR)
        self.mg = m * g / (self.hbar * self.hbar)
        self.narrow = narrow
        self.classes = classes
        # thr[j', l] = eps_l - eps_j'  (channel l opens at E = thr[j', l] for outgoing j')
        self.thr = energies[None, :] - energies[:, None]
        if ctx.is_mp:
            self.iVT = np.asarray(V_eig, dtype=object).T * ctx.mpc(0, self.mg)
        else:
            self.iVT = 1j * self.mg * np.asarray(V_eig).T
        if narrow:
            self.class_rep = [int(c[0]) for c in classes]
            self.size = sum(len(c) ** 2 for c in classes)
        else:
            self.size = self.D * self.D
        self.evals = 0

    # -- s-matrix rows (C1)-(C2) -------------------------------------------------------
    def rows(self, a, u):
        """``a^(+)[n, j', j]``, ``a^(-)[n, j', j]`` and ``Re K`` at energies ``E_n = a + u_n``.

        Row j' of ``s^(+)(E + eps_j') = K^{1/2} (K + i m g V)^{-1} K^{1/2}`` (Eq. (C1)) from
        one solve with the transposed matrix; ``s^(-) = s^(+) - I`` on open channels (C2).
        """
        ctx = self.ctx
        d = self.d
        n = len(u)
        base = a - self.thr  # (d, d): E + eps_j' - eps_l at u = 0
        Xe = base[None, :, :] + u[:, None, None]  # (n, j', l)
        if ctx.is_mp:
            X = Xe * (2 * self.m)
            K = ctx.csqrt(X) / self.hbar
            is_open = np.frompyfunc(lambda x: x > 0, 1, 1)(X).astype(bool)
            zero = ctx.mp.mpf(0)
            ReK = np.where(is_open, ctx.real(K), zero)
            Kh = np.where(is_open, ctx.sqrt(ReK), zero)
            x = np.empty((n, d, d), dtype=object)
            for i in range(n):
                for jp in range(d):
                    M = self.iVT.copy()
                    for r in range(d):
                        M[r, r] = M[r, r] + K[i, jp, r]
                    rhs = ctx.zeros(d, complex=True)
                    rhs[jp] = ctx.mp.mpc(1)
                    x[i, jp] = ctx.solve(M, rhs)
        else:
            X = 2 * self.m * Xe
            is_open = X > 0
            absX = np.sqrt(np.abs(X))
            K = np.where(is_open, absX + 0j, 1j * absX) / self.hbar
            ReK = np.where(is_open, K.real, 0.0)
            Kh = np.sqrt(ReK)
            M = np.broadcast_to(self.iVT, (n, d, d, d)).copy()
            idx = np.arange(d)
            M[:, :, idx, idx] += K
            rhs = np.broadcast_to(np.eye(d, dtype=complex), (n, d, d))[..., None]
            x = np.linalg.solve(M, rhs)[..., 0]
        diagKh = np.stack([Kh[:, j, j] for j in range(d)], axis=1)  # (n, d): outgoing channel j'
        ap = diagKh[:, :, None] * x * Kh
        am = ap.copy()
        one = ctx.mpf(1)
        for j in range(d):
            am[:, j, j] = am[:, j, j] - one
        self.evals += n * d
        return ap, am, ReK * self.hbar

    # -- weights ------------------------------------------------------------------------
    def _weights_exact(self, P):
        """``w(p, q)`` of the E-variable form of (38)-(41) on all pair pairs, ``(n, D, D)``."""
        ctx = self.ctx
        n = P.shape[0]
        p1 = P.reshape(n, self.D)[:, :, None]
        p2 = P.reshape(n, self.D)[:, None, :]
        if ctx.is_mp:
            out = np.empty((n, self.D, self.D), dtype=object)
            b, m, s = self.beta, self.m, self.sigma_p
            zero = ctx.mp.mpf(0)
            exp, sqrt = ctx.mp.exp, ctx.mp.sqrt
            P2 = P.reshape(n, self.D)
            for i in range(n):
                for A in range(self.D):
                    pa = P2[i, A]
                    for B in range(self.D):
                        pb = P2[i, B]
                        if pa > 0 and pb > 0:
                            sm, df = pa + pb, pa - pb
                            out[i, A, B] = b * sm / (2 * sqrt(pa * pb)) * exp(
                                -b * sm * sm / (8 * m) - df * df / (2 * s * s)
                            )
                        else:
                            out[i, A, B] = zero
            return out
        b, m, s = self.beta, self.m, self.sigma_p
        prod = p1 * p2
        sm = p1 + p2
        df = p1 - p2
        with np.errstate(divide="ignore", invalid="ignore"):
            w = (b / 2) * sm / np.sqrt(prod) * np.exp(-(b / (8 * m)) * sm * sm - df * df / (2 * s * s))
        return np.where(prod > 0, w, 0.0)

    def panel(self, a, b, order):
        """Integral over ``[a, b]`` with ``order`` nodes: flat accumulator and scale ``int max w``."""
        ctx = self.ctx
        u, wt = sin4_panel_nodes(a, b, order, ctx)
        acc = ctx.zeros(self.size, complex=True)
        scale = 0.0
        per_node = max(1, (self.size if not self.narrow else self.D) * 16 * 6)
        chunk = max(1, min(order, _CHUNK_BYTES // per_node)) if not ctx.is_mp else order
        for s0 in range(0, order, chunk):
            uu, ww = u[s0:s0 + chunk], wt[s0:s0 + chunk]
            ap, am, P = self.rows(a, uu)
            n = len(uu)
            Ap, Am = ap.reshape(n, self.D), am.reshape(n, self.D)
            if self.narrow:
                blocks = []
                wmax = np.zeros(n)
                for c, rep in zip(self.classes, self.class_rep):
                    Pc = P.reshape(n, self.D)[:, rep]
                    if ctx.is_mp:
                        wc = np.array(
                            [self.beta * ctx.mp.exp(-self.beta * pc * pc / (2 * self.m)) if pc > 0 else ctx.mp.mpf(0)
                             for pc in Pc], dtype=object)
                    else:
                        wc = np.where(Pc > 0, self.beta * np.exp(-self.beta * Pc * Pc / (2 * self.m)), 0.0)
                    f = (ww * wc)
                    Xp, Xm = Ap[:, c], Am[:, c]
                    blk = (Xp * f[:, None]).T @ ctx.conj(Xp) + (Xm * f[:, None]).T @ ctx.conj(Xm)
                    blocks.append(blk.reshape(-1))
                    wmax = np.maximum(wmax, np.abs(np.asarray(ctx.to_float(wc), dtype=float)))
                acc = acc + np.concatenate(blocks)
                scale += float(np.sum(np.abs(ctx.to_float(ww)) * wmax))
            else:
                W = self._weights_exact(P)
                if ctx.is_mp:
                    G = Ap[:, :, None] * ctx.conj(Ap)[:, None, :] + Am[:, :, None] * ctx.conj(Am)[:, None, :]
                    acc = acc + np.tensordot(ww, W * G, axes=(0, 0)).reshape(-1)
                    wmax = np.array([float(ctx.to_float(np.max(ctx.to_float(W[i])))) for i in range(n)])
                else:
                    Ww = W * ww[:, None, None]
                    acc += np.einsum("nab,na,nb->ab", Ww, Ap, Ap.conj(), optimize=True).reshape(-1)
                    acc += np.einsum("nab,na,nb->ab", Ww, Am, Am.conj(), optimize=True).reshape(-1)
                    wmax = W.reshape(n, -1).max(axis=1)
                scale += float(np.sum(np.abs(ctx.to_float(ww)) * wmax))
        return acc, scale


def _adaptive(engine, panels, tol_q, ctx, n0, nmax, max_panels=200000):
    """Adaptive panel quadrature: orders n, 2n (estimate = difference), doubling, bisection.

    Returns the accumulated flat integral, the summed quadrature error *estimate*, the
    summed scale ``int max w dE`` (for the rounding estimate), counts and flags.
    """
    total = ctx.zeros(engine.size, complex=True)
    est_total = 0.0
    scale_total = 0.0
    stack = [(a, b, tol_q / len(panels)) for (a, b, _i) in panels]
    stack.reverse()
    n_panels = 0
    unresolved = 0
    while stack:
        a, b, tp = stack.pop()
        n = n0
        I1, _ = engine.panel(a, b, n)
        while True:
            I2, sc = engine.panel(a, b, 2 * n)
            diff = I2 - I1
            err = float(np.max(ctx.to_float(ctx.abs(diff)))) if len(diff) else 0.0
            floor = 64 * ctx.eps * sc
            if err <= max(tp, floor):
                total = total + I2
                est_total += err
                scale_total += sc
                n_panels += 1
                break
            if 2 * n < nmax:
                n, I1 = 2 * n, I2
                continue
            width = float(ctx.to_float(b - a))
            if n_panels + len(stack) > max_panels or width < 1e-13 * max(1.0, abs(float(ctx.to_float(a)))):
                total = total + I2
                est_total += err
                scale_total += sc
                n_panels += 1
                unresolved += 1
                break
            mid = (a + b) / 2
            stack.append((mid, b, tp / 2))
            stack.append((a, mid, tp / 2))
            break
    return total, est_total, scale_total, n_panels, unresolved


def _cluster_sorted(values_f, tol):
    """Group indices of sorted float values into clusters with consecutive gaps <= tol."""
    order = np.argsort(values_f, kind="stable")
    groups, cur = [], [order[0]]
    for i in range(1, len(order)):
        if values_f[order[i]] - values_f[order[i - 1]] <= tol:
            cur.append(order[i])
        else:
            groups.append(cur)
            cur = [order[i]]
    groups.append(cur)
    return groups


def _snap_energies(ctx, es):
    """Energies with every degenerate group replaced by its mean (exact covariance inside levels)."""
    e = np.array(es.energies, dtype=object if ctx.is_mp else float).copy()
    for grp in es.degenerate_groups:
        idx = list(grp)
        mean = sum(e[i] for i in idx) / len(idx)
        for i in idx:
            e[i] = mean
    return e


def _bohr_classes(ctx, e, what="Delta_{j'j} = Delta_{k'k}"):
    """Classes of pairs (j', j) with equal Bohr frequency ``Delta_{j'j}`` (tolerance tied to the spectrum).

    Raises ValueError when two Bohr frequencies differ by more than the tolerance but by
    less than 1e3 times it (ambiguous: the narrow-packet selection (44) is then ill-defined
    at this precision).
    """
    d = len(e)
    ef = np.array(ctx.to_float(e), dtype=float) if ctx.is_mp else np.asarray(e, dtype=float)
    scale = float(np.max(np.abs(ef))) if d else 1.0
    tol = Tolerances(ctx.eps).bohr_equality(scale, d)
    delta = (ef[:, None] - ef[None, :]).reshape(-1)
    srt = np.sort(delta)
    gaps = np.diff(srt)
    amb = gaps[(gaps > tol) & (gaps <= 1e3 * tol)]
    if amb.size:
        raise ValueError(
            f"cannot decide {what}: two Bohr frequencies differ by {amb.min():.3e}, between the "
            f"equality tolerance {tol:.1e} and 1e3 times it; the narrow-packet selection rule (44) "
            "is ambiguous at this precision (use dps=... or the exact map)"
        )
    groups = _cluster_sorted(delta, tol)
    return [np.array(sorted(g), dtype=int) for g in groups], tol


def _breakpoints(ctx, e):
    """Sorted channel thresholds ``eps_l - eps_j' > 0`` plus 0, merged within the Bohr tolerance."""
    d = len(e)
    thr = e[None, :] - e[:, None]
    thr_f = np.array(ctx.to_float(thr), dtype=float).reshape(-1) if ctx.is_mp else thr.reshape(-1)
    flat = thr.reshape(-1)
    scale = float(np.max(np.abs(thr_f))) if d else 1.0
    tol = Tolerances(ctx.eps).bohr_equality(scale, d)
    pos = np.flatnonzero(thr_f > tol)
    pts_f = [0.0]
    pts = [ctx.mpf(0)]
    if pos.size:
        for g in _cluster_sorted(thr_f[pos], tol):
            k = pos[g[0]]
            pts.append(flat[k])
            pts_f.append(thr_f[k])
    return pts, pts_f


def _integrate(ctx, energies, V_eig, bath, g, tol, narrow, classes=None):
    """Run the quadrature; returns flat result, error parts, info."""
    m = to_ctx(ctx, bath.m)
    beta = to_ctx(ctx, bath.beta)
    sig = to_ctx(ctx, bath.sigma_p)
    engine = _Engine(ctx, energies, V_eig, m, to_ctx(ctx, g), beta, sig, narrow, classes)
    pts, pts_f = _breakpoints(ctx, energies)
    ef = np.array(ctx.to_float(energies), dtype=float) if ctx.is_mp else np.asarray(energies, dtype=float)
    spread = float(ef.max() - ef.min()) if len(ef) else 0.0
    bf = float(bath.beta)
    tol_tail = tol / 8
    e_max = spread + math.log(1 / tol_tail) / bf
    for _ in range(5):
        tb = tail_bound(e_max, bf, spread)
        if tb <= tol_tail:
            break
        e_max += math.log(max(tb / tol_tail, 1.0 + 1e-3)) / bf
    # tail points every 4/beta (not singular; they keep each panel's exponential variation mild)
    step = 4.0 / bf
    x = pts_f[-1] + step
    while x < e_max - step / 2:
        pts.append(ctx.mpf(x))
        pts_f.append(x)
        x += step
    panels_f = graded_panels(pts_f, e_max)
    # map float panel edges back to exact ctx breakpoints where they coincide
    lookup = {pf: p for pf, p in zip(pts_f, pts)}
    e_max_c = ctx.mpf(e_max)
    lookup[e_max] = e_max_c
    panels = [(lookup.get(a, ctx.mpf(a)), lookup.get(b, ctx.mpf(b)), i) for (a, b, i) in panels_f]
    n0 = 8
    nmax = 64 if not ctx.is_mp else 128
    tol_q = tol / 2
    flat, est, scale, n_panels, unresolved = _adaptive(engine, panels, tol_q, ctx, n0, nmax)
    d = len(energies)
    rounding = 32.0 * d * ctx.eps * max(scale, 1.0)
    parts = {
        "quadrature": {
            "value": float(est),
            "kind": "estimate",
            "note": "sum over panels of max-entry |G_2n - G_n| (Gauss-Legendre of orders n and 2n "
                    "after the sin^4 substitution); the returned value is the 2n rule",
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
            "note": "32 d eps int max_entries w dE (linear solves and accumulation in the working precision)",
        },
    }
    info = {"panels": n_panels, "unresolved_panels": unresolved, "evaluations": engine.evals,
            "E_max": e_max, "breakpoints": len(pts_f)}
    return flat, parts, info


def _rotate(ctx, T0, W):
    """``T[j',k',j,k] = sum conj(W[a',j']) W[b',k'] W[a,j] conj(W[b,k]) T0[a',b',a,b]``.

    Change of basis of a collision tensor from the basis ``|a>`` to ``|j> = sum_a W[a, j] |a>``.
    """
    Wc = ctx.conj(W) if ctx.is_mp else np.conj(W)
    T = np.tensordot(T0, Wc, axes=([0], [0]))  # [b', a, b, j']
    T = np.tensordot(T, W, axes=([0], [0]))  # [a, b, j', k']
    T = np.tensordot(T, W, axes=([0], [0]))  # [b, j', k', j]
    T = np.tensordot(T, Wc, axes=([0], [0]))  # [j', k', j, k]
    return T


# ----------------------------------------------------------------------------- public API
class CollisionMap:
    """A collision tensor ``S^{jk}_{j'k'}`` with its error bound (Eqs. (17), (38), (45), (54)-(56)).

    Attributes
    ----------
    tensor : (d, d, d, d) complex array
        ``tensor[j', k', j, k] = S^{jk}_{j'k'}`` in the eigenbasis of ``system.eigensystem(dps)``
        so that ``(S rho)_{j'k'} = sum_{jk} tensor[j', k', j, k] rho_{jk}``; float64 complex, or an
        object array of mpmath numbers when ``dps`` is given.
    error_bound : float
        Bound on the largest absolute error of any entry: the sum of ``error_parts``.  It is
        rigorous only as far as its parts are (see each part's ``kind``).
    error_parts : dict
        ``name -> {"value", "kind" ("bound" | "estimate"), "note"}``.
    kind, system, bath, coupling, dps, eigensystem, ladder
        Inputs and the eigenbasis the tensor refers to.
    info : dict
        Quadrature statistics (panels, evaluations, E_max).
    """

    def __init__(self, tensor, error_parts, kind, system, bath, coupling, dps, eigensystem, info=None):
        self.tensor = tensor
        self.error_parts = error_parts
        self.error_bound = float(sum(p["value"] for p in error_parts.values()))
        self.kind = kind
        self.system = system
        self.bath = bath
        self.coupling = coupling
        self.dps = dps
        self.eigensystem = eigensystem
        self.ladder = getattr(system, "ladder", None)
        self.info = dict(info or {})

    def __repr__(self):
        return (f"CollisionMap(kind={self.kind!r}, d={self.dim}, dps={self.dps}, "
                f"error_bound={self.error_bound:.2e}, system={getattr(self.system, 'name', self.system)!r})")

    @property
    def dim(self) -> int:
        return self.tensor.shape[0]

    def _float_tensor(self):
        if self.tensor.dtype == object:
            ctx = get_context(self.dps)
            return ctx.to_float(self.tensor) + 1j * ctx.to_float(ctx.imag(self.tensor))
        return self.tensor

    def superoperator(self):
        """Column-stacking superoperator ``(d^2, d^2)`` (QuTiP's convention, :mod:`symcoll.conventions`)."""
        return cv.tensor_to_superoperator(self.tensor)

    def choi(self):
        """Choi matrix ``J = sum_{jk} |j><k| (x) S(|j><k|)`` (QuTiP's ``to_choi`` ordering).

        ``J[j d + j', k d + k'] = tensor[j', k', j, k]``; S is completely positive iff J >= 0.
        """
        d = self.dim
        return self.tensor.transpose(2, 0, 3, 1).reshape(d * d, d * d)

    def choi_eigenvalues(self):
        """Eigenvalues (float64, ascending) of the Hermitian part of the Choi matrix."""
        J = self._float_tensor().transpose(2, 0, 3, 1).reshape(self.dim**2, self.dim**2)
        return np.linalg.eigvalsh((J + J.conj().T) / 2)

    def kraus(self, tol=1e-12):
        """Kraus operators ``K_i`` with ``S(rho) = sum_i K_i rho K_i^dagger`` from the Choi matrix.

        Eigenvectors of the (Hermitian part of the) Choi matrix with eigenvalue ``> tol``
        give ``K_i[j', j] = sqrt(lambda_i) v_i[j d + j']`` (float64).  If the map is not
        completely positive to within ``tol`` (the exact map (38) with the Gaussian kernel
        (41) restricted to p > 0 can have Choi eigenvalues ~ -1e-9) a RuntimeWarning names
        the most negative eigenvalue; the negative part is dropped, so the returned Kraus
        set reproduces the map only up to that amount.
        """
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
            raise ValueError(f"tol must be a real number >= 0 (got {tol!r})")
        d = self.dim
        J = self._float_tensor().transpose(2, 0, 3, 1).reshape(d * d, d * d)
        lam, V = np.linalg.eigh((J + J.conj().T) / 2)
        if lam[0] < -tol:
            warnings.warn(
                f"map is not completely positive: smallest Choi eigenvalue {lam[0]:.3e} < -tol={tol:.1e}; "
                "the Kraus operators drop the negative part", RuntimeWarning, stacklevel=2)
        keep = np.flatnonzero(lam > tol)[::-1]
        return [np.sqrt(lam[i]) * V[:, i].reshape(d, d).T for i in keep]

    def apply(self, rho):
        """``(S rho)_{j'k'} = sum_{jk} S^{jk}_{j'k'} rho_{jk}`` (rho in the eigenbasis of H)."""
        r = np.asarray(rho)
        d = self.dim
        if r.shape[-2:] != (d, d):
            raise ValueError(f"rho must have shape ({d}, {d}) (or (..., {d}, {d})) (got {r.shape})")
        if self.tensor.dtype == object or r.dtype == object:
            return np.tensordot(np.asarray(r, dtype=object), self.tensor, axes=([-2, -1], [2, 3]))
        return np.einsum("abjk,...jk->...ab", self.tensor, r)

    def diagnostics(self) -> dict:
        """Structural checks, each ``{"value", "meaning"}`` (float64 numbers).

        * ``trace_preservation``: ``max_{jk} |sum_j' S^{jk}_{j'j'} - delta_jk|``;
        * ``hermiticity``: ``max |S^{jk}_{j'k'} - conj(S^{kj}_{k'j'})|`` (Eq. (39));
        * ``detailed_balance``: ``max |S^{jj}_{j'j'} - e^{-beta Delta_{j'j}} S^{j'j'}_{jj}|`` (Eq. (30));
        * ``sum_rule``: ``max |sum_j S^{jj}_{j'k'} e^{-beta eps^(0)_j} - e^{-beta eps^(0)_j'} delta_j'k'|``
          (Eq. (66), chains only; exact for the local map, an O(eps) statement otherwise);
        * ``min_choi_eigenvalue``: smallest eigenvalue of the Choi matrix (< 0: not CP).
        """
        T = self._float_tensor()
        d = self.dim
        idx = np.arange(d)
        tr = np.einsum("aajk->jk", T) - np.eye(d)
        herm = T - np.conj(T.transpose(1, 0, 3, 2))
        e = np.array(get_context(self.dps).to_float(self.eigensystem.energies), dtype=float)
        beta = float(self.bath.beta)
        P = T[idx[:, None], idx[:, None], idx[None, :], idx[None, :]].real  # P[j', j] = S^{jj}_{j'j'}
        h0 = self.kind in ("local", "exact_h0")
        e_db = float(self.system.h) * np.asarray(self.eigensystem.bands, dtype=float) if h0 else e
        db = P - np.exp(-beta * (e_db[:, None] - e_db[None, :])) * P.T
        out = {
            "trace_preservation": {"value": float(np.max(np.abs(tr))),
                                   "meaning": "max_jk |sum_j' S^{jk}_{j'j'} - delta_jk| (0: trace preserving)"},
            "hermiticity": {"value": float(np.max(np.abs(herm))),
                            "meaning": "max |S^{jk}_{j'k'} - conj(S^{kj}_{k'j'})|, Eq. (39)"},
            "detailed_balance": {"value": float(np.max(np.abs(db))),
                                 "meaning": "max_{j'j} |S^{jj}_{j'j'} - exp(-beta Delta_{j'j}) S^{j'j'}_{jj}|, Eq. (30), "
                                            + ("with the H(0) energies eps0 = h * band used in the scattering"
                                               if h0 else "with the energies of H")},
        }
        if h0:
            db_eps = P - np.exp(-beta * (e[:, None] - e[None, :])) * P.T
            out["detailed_balance_eps"] = {
                "value": float(np.max(np.abs(db_eps))),
                "meaning": "Eq. (30) with the energies of H(eps): violated at O(beta eps) by the maps built "
                           "on H(0) (intra-band populations do not thermalise, Fig. 4)"}
        if isinstance(self.system, QubitChain):
            e0 = float(self.system.h) * np.asarray(self.eigensystem.bands, dtype=float)
            g = np.exp(-beta * (e0 - e0.min()))
            lhs = np.einsum("abjj,j->ab", T, g)
            res = lhs - np.diag(g)
            out["sum_rule"] = {
                "value": float(np.max(np.abs(res))),
                "meaning": "max |sum_j S^{jj}_{j'k'} e^{-beta eps0_j} - e^{-beta eps0_j'} delta_j'k'|, Eq. (66) "
                           "(eps0 = h * band; exact for kind='local', O(eps) or O(sigma_p coherence) otherwise)",
                "applies": self.kind == "local",
            }
        lam = self.choi_eigenvalues()
        out["min_choi_eigenvalue"] = {"value": float(lam[0]),
                                      "meaning": "smallest eigenvalue of the Choi matrix; < 0 means not completely positive"}
        out["error_bound"] = {"value": self.error_bound, "meaning": "bound on max abs entry error (sum of error_parts)"}
        return out


def collision_map(system, bath, coupling, kind="exact", dps=None, tol=1e-12) -> CollisionMap:
    """Collision map ``S^{jk}_{j'k'}`` of ``system`` bombarded by ``bath`` units through ``coupling``.

    Parameters
    ----------
    system : System or QubitChain
        System Hamiltonian (real symmetric for detailed balance).
    bath : EffusionBath
        ``beta``, ``m``, ``sigma_p`` of Eqs. (40)-(41).
    coupling : DeltaCoupling
        ``g V delta(x)`` of Eq. (65).
    kind : {"exact", "global", "local", "exact_h0"}
        * ``"exact"``: Eq. (38) with the Gaussian incident state (41) (needs ``sigma_p > 0``).
        * ``"global"``: Eq. (45), the narrow-packet limit (44): entries only where
          ``Delta_{j'j} = Delta_{k'k}`` (decided with :meth:`Tolerances.bohr_equality`).
        * ``"local"``: the paper's local map, Eqs. (54)-(56) (used in (67) and Figs. 3-4):
          the formula (45) evaluated with the scattering matrices and energies of
          ``H(0) = H_loc`` (selection rule: equal band jumps ``Delta^(0)_{j'j} = Delta^(0)_{k'k}``,
          lower limit ``sqrt(2 m h)`` in (55) -- printed ``sqrt(2 m hbar)``, a typo), expressed in
          the eigenbasis of ``H(eps)``.  This is the paper's "local" because (54)-(56) are the
          eps -> 0 limit of (52)-(53), which already assume (48): sigma_p narrow with respect to
          inter-band momentum changes, so inter-band coherence terms are dropped.
        * ``"exact_h0"``: Eq. (38) with ``H(0)`` in the scattering and finite sigma_p (keeps the
          inter-band coherence terms that (48) drops; differs from "local" by ~1e-2 at the
          paper's parameters), rotated likewise.
        Chains only for "local" and "exact_h0".
    dps : int or None
        None for float64; otherwise mpmath at ``dps >= 15`` digits (same algorithm).
    tol : float in (0, 1e-3]
        Target for ``error_bound`` (quadrature estimate + tail bound + rounding estimate).

    Returns
    -------
    CollisionMap

    Raises
    ------
    TypeError, ValueError
        Bad kinds of inputs / values (unknown kind, tol out of range, V of wrong shape, sigma_p = 0
        for the exact kinds, ambiguous Bohr equalities for "global", memory above 8 GiB).

    Notes
    -----
    Degenerate levels (chains with N >= 4): (38) and (45) depend on the energies only, so the
    tensor is covariant under unitary rotations inside a degenerate level.  The energies of a
    degenerate group are snapped to their mean before integrating, which makes the covariance
    exact and the Bohr classes of (45) unambiguous; the tensor refers to the canonical basis of
    each level given by ``system.eigensystem(dps)``.

    Examples
    --------
    >>> from symcoll import QubitChain, EffusionBath, DeltaCoupling, collision_map
    >>> S = collision_map(QubitChain(1, h=4, eps=0), EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50), kind="global")
    >>> round(S.diagnostics()["trace_preservation"]["value"], 10)
    0.0
    """
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} (got {kind!r})")
    if not isinstance(system, System):
        raise TypeError(f"system must be a symcoll System or QubitChain (got {type(system).__name__})")
    if not isinstance(bath, EffusionBath):
        raise TypeError(f"bath must be an EffusionBath (got {type(bath).__name__})")
    if not isinstance(coupling, DeltaCoupling):
        raise TypeError(f"coupling must be a DeltaCoupling (got {type(coupling).__name__})")
    ctx = get_context(dps)
    tol = _check_tol(tol, ctx)
    d = system.dim
    need = estimate_memory(d, kind, dps)
    if need > MAX_BYTES:
        raise ValueError(
            f"the {kind} map for d = {d} needs about {need / 2**30:.1f} GiB (dense d^4 = {d**4} entries "
            f"plus workspaces), above the limit of {MAX_BYTES / 2**30:.0f} GiB; use a smaller system"
        )
    if kind in ("exact", "exact_h0") and float(bath.sigma_p) == 0.0:
        raise ValueError("sigma_p = 0 is the narrow-packet limit (44): use kind='global' (or sigma_p > 0)")
    if kind in ("local", "exact_h0") and not isinstance(system, QubitChain):
        raise ValueError(f"kind={kind!r} needs a QubitChain (it uses H(0) = H_loc); got {type(system).__name__}")
    V = coupling.operator(system)  # validates the shape
    es = system.eigensystem(dps)

    if kind in ("exact", "global"):
        scat_sys, es_s = system, es
    else:
        scat_sys = QubitChain(system.N, system.h, 0, ladder=system.ladder)
        es_s = scat_sys.eigensystem(dps)
    U = es_s.vectors
    Vc = ctx.array(coupling.operator(scat_sys)) if ctx.is_mp else coupling.operator(scat_sys)
    V_eig = ctx.matmul(ctx.matmul(ctx.conj(U).T, Vc), U) if ctx.is_mp else U.conj().T @ Vc @ U
    if not ctx.is_mp and np.isrealobj(U):
        V_eig = np.real(V_eig)
    e = _snap_energies(ctx, es_s)
    narrow = kind in ("global", "local")
    classes = None
    if narrow:
        what = "Delta_{j'j} = Delta_{k'k}" if kind == "global" else "Delta^(0)_{j'j} = Delta^(0)_{k'k}"
        classes, _ = _bohr_classes(ctx, e, what)
    flat, parts, info = _integrate(ctx, e, V_eig, bath, coupling.g, tol, narrow, classes)
    D = d * d
    if narrow:
        T2 = ctx.zeros((D, D), complex=True)
        pos = 0
        for c in classes:
            k = len(c)
            T2[np.ix_(c, c)] = flat[pos:pos + k * k].reshape(k, k)
            pos += k * k
    else:
        T2 = flat.reshape(D, D)
    tensor = T2.reshape(d, d, d, d).transpose(0, 2, 1, 3)
    if kind in ("local", "exact_h0"):
        W = ctx.matmul(ctx.conj(es_s.vectors).T, es.vectors) if ctx.is_mp else es_s.vectors.conj().T @ es.vectors
        tensor = _rotate(ctx, tensor, W)
        parts["rotation"] = {"value": float(8 * d * ctx.eps), "kind": "estimate",
                             "note": "rounding of the change of basis H(0) -> H(eps) (orthogonal, band-preserving)"}
    if not ctx.is_mp:
        tensor = np.ascontiguousarray(tensor)
    info["kind"] = kind
    cm = CollisionMap(tensor, parts, kind, system, bath, coupling, dps, es, info)
    if cm.error_bound > tol:
        warnings.warn(f"collision_map: error_bound {cm.error_bound:.2e} exceeds tol {tol:.1e}", RuntimeWarning,
                      stacklevel=2)
    return cm
