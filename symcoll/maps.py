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

Quadrature: panels between all channel thresholds ``eps_l - eps_j' > 0`` (and 0), graded
toward clusters of thresholds and toward the near-real poles of the s-matrix (Feshbach
resonances, :func:`symcoll.interpolation.resonance_poles`), the square-root endpoint substitution of
:mod:`symcoll.quadrature` (the ``(E - E_min)^{-1/4}`` singularity of w cancels against the
flux factors ``K^{1/2}`` of (C1)), Gauss-Kronrod (G10, K21) per panel in float64 and
Gauss-Legendre pairs (n, 2n) in mpmath (difference = error *estimate*), bisection where
that estimate is too large, and an analytic (rigorous) bound on the truncated Gaussian tail.

Storage (``collision_map(..., storage=...)``): the exact kinds keep the dense ``d^4`` tensor;
the global and local kinds can be kept compactly (default for N >= 7): (45) as one matrix
per Bohr class (its only nonzero entries), (54)-(56) as the site-qubit map ``S_1`` with
``S = U^dagger [(S_1 (x) id_rest)(U rho U^dagger)] U`` (U = eigenvectors of H(eps) in the
local basis).  ``apply`` and ``diagnostics`` then work blockwise.

s-matrix rows (``collision_map(..., smatrix=...)``): solved at every node, or (float64, kinds
"global" and "local") read off Chebyshev tables of ``(K(T) + i m g V)^{-1}`` in the total energy
(:mod:`symcoll.interpolation`), with the interpolation error as its own part of the bound.
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
from .interpolation import resonance_poles
from .quadrature import MIN_REL_WIDTH, graded_panels, map_rule, rule_pair, tail_bound

__all__ = ["collision_map", "CollisionMap", "exact_entries", "KINDS", "MAX_BYTES", "estimate_memory",
           "STORAGES", "estimate_compact_memory", "SMATRIX"]

KINDS = ("exact", "global", "local", "exact_h0")
"""Map kinds: exact (38), global/narrow (45), local (54)-(56), exact_h0 ((38) with H(0))."""

MAX_BYTES = 8 * 2**30
"""Largest memory (tensor plus workspaces) :func:`collision_map` will allocate (8 GiB)."""

_CHUNK_BYTES = 192 * 2**20


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


# ----------------------------------------------------------------------------- BLAS threads
_BLAS = None


def _find_blas():
    """(get, set) thread-count functions of the OpenBLAS numpy is linked to, or None."""
    global _BLAS
    if _BLAS is not None:
        return _BLAS or None
    _BLAS = False
    try:
        import ctypes

        with open("/proc/self/maps") as fh:
            paths = {ln.split()[-1] for ln in fh if "openblas" in ln.lower() and ".so" in ln}
        for path in sorted(paths):
            lib = ctypes.CDLL(path)
            for get, set_ in (("scipy_openblas_get_num_threads64_", "scipy_openblas_set_num_threads64_"),
                              ("openblas_get_num_threads64_", "openblas_set_num_threads64_"),
                              ("openblas_get_num_threads", "openblas_set_num_threads")):
                if hasattr(lib, get) and hasattr(lib, set_):
                    _BLAS = (getattr(lib, get), getattr(lib, set_))
                    return _BLAS
    except (OSError, AttributeError, IndexError):  # pragma: no cover - platform dependent
        _BLAS = False
    return None


class _blas_threads:
    """Context manager limiting OpenBLAS threads (default 1, env ``SYMCOLL_BLAS_THREADS``).

    The map accumulation issues many mid-sized matrix products; on a shared machine
    multi-threaded OpenBLAS spins and was measured 8x slower (N = 4 exact map: 15 s with
    2 threads vs 1.9 s with 1 thread under load).  The previous setting is restored.
    """

    def __init__(self):
        import os

        self.n = int(os.environ.get("SYMCOLL_BLAS_THREADS", "1"))
        self.old = None

    def __enter__(self):
        fns = _find_blas()
        if fns is not None and self.n > 0:
            self.old = int(fns[0]())
            fns[1](self.n)
        return self

    def __exit__(self, *exc):
        fns = _find_blas()
        if fns is not None and self.old is not None:
            fns[1](self.old)
        return False


# ----------------------------------------------------------------------------- the engine
def _mp_solve_unit(M, col):
    """Solve ``M x = e_col`` by Gaussian elimination with partial pivoting (lists of mpmath numbers).

    Plain Python lists: numpy object arrays make ``mpc * ndarray`` go through mpmath's slow
    conversion attempt (it formats the whole array) on every row operation.
    """
    n = len(M)
    b = [0] * n
    b[col] = 1
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(M[r][c]))
        if M[piv][c] == 0:
            raise np.linalg.LinAlgError("singular matrix in the s-matrix solve (C1)")
        if piv != c:
            M[c], M[piv] = M[piv], M[c]
            b[c], b[piv] = b[piv], b[c]
        inv = 1 / M[c][c]
        rowc = M[c]
        for r in range(c + 1, n):
            f = M[r][c] * inv
            if f:
                rowr = M[r]
                for k in range(c + 1, n):
                    rowr[k] = rowr[k] - f * rowc[k]
                b[r] = b[r] - f * b[c]
    x = [0] * n
    for r in range(n - 1, -1, -1):
        acc = b[r]
        rowr = M[r]
        for k in range(r + 1, n):
            acc = acc - rowr[k] * x[k]
        x[r] = acc / rowr[r]
    out = np.empty(n, dtype=object)
    out[:] = x
    return out


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

    def __init__(self, ctx, energies, V_eig, m, g, beta, sigma_p, narrow, classes=None, sel=None):
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
        thr_f = np.abs(np.asarray(ctx.to_float(self.thr), dtype=float))
        self.snap_tol = Tolerances(ctx.eps).bohr_equality(float(thr_f.max()) if d else 1.0, d)
        if ctx.is_mp:
            self.iVT = np.asarray(V_eig, dtype=object).T * ctx.mpc(0, self.mg)
        else:
            self.iVT = 1j * self.mg * np.asarray(V_eig).T
        self.sel = None if sel is None else np.asarray(sel, dtype=int)
        # outgoing channels j' whose s-matrix rows are needed
        self.jps = list(range(d)) if sel is None else sorted({int(A) // d for A in self.sel})
        if narrow:
            self.class_rep = [int(c[0]) for c in classes]
            self.size = sum(len(c) ** 2 for c in classes)
            self._narrow_layout(classes)
        else:
            nsel = self.D if sel is None else len(self.sel)
            self.size = nsel * nsel
            # Bohr classes of the (selected) pairs: the weight depends on a pair only through Delta
            sel_idx = np.arange(self.D) if sel is None else self.sel
            delta = (energies[:, None] - energies[None, :]).reshape(-1)[sel_idx]
            ef = np.array(ctx.to_float(energies), dtype=float) if ctx.is_mp else np.asarray(energies, dtype=float)
            tolb = Tolerances(ctx.eps).bohr_equality(float(np.max(np.abs(ef))) if d else 1.0, d)
            groups, _ = _cluster_sorted(delta, tolb, ctx)
            self.xcls_of = np.empty(nsel, dtype=int)
            for ci, g in enumerate(groups):
                self.xcls_of[np.asarray(g, dtype=int)] = ci
            self.xrep = [int(g[0]) for g in groups]
            self.xmembers = [np.array(sorted(int(x) for x in g), dtype=int) for g in groups]
            # exponent of w(p, q): -c1 (p^2 + q^2) + c2 p q  (Eqs. (40)-(41) in the E variable)
            self.c1 = beta / (8 * m) + 1 / (2 * sigma_p * sigma_p)
            self.c2 = 1 / (sigma_p * sigma_p) - beta / (4 * m)
        self.evals = 0
        self.interp = None  # RowInterpolant (float64, narrow kinds) or None: direct solves
        # max |symmetrised difference| <= beta max |raw difference| for the exact kind
        self.err_factor = 1.0 if narrow else float(ctx.to_float(beta))

    def finalize(self, flat):
        """Hermitian completion ``(beta/2)(T1 + T1^H)`` of the exact-kind accumulator; for (45) the
        class blocks are put back in class order (see :meth:`_narrow_layout`)."""
        if self.narrow:
            return flat[self._order]
        n = int(round(math.sqrt(len(flat))))
        T1 = flat.reshape(n, n)
        out = (T1 + self.ctx.conj(T1.T)) * (self.beta / 2)
        return out.reshape(-1)

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
        # thresholds merged into the breakpoint a (within the Bohr tolerance) open exactly at a
        if ctx.is_mp:
            tiny = np.asarray(np.frompyfunc(lambda x: abs(x) <= self.snap_tol, 1, 1)(base), dtype=bool)
            if tiny.any():
                base = base.copy()
                base[tiny] = ctx.mpf(0)
        else:
            base = np.where(np.abs(base) <= self.snap_tol, 0.0, base)
        Xe = base[None, :, :] + u[:, None, None]  # (n, j', l)
        if ctx.is_mp:
            zero = ctx.mp.mpf(0)
            K = np.empty((n, d, d), dtype=object)
            K[...] = ctx.mpc(0)
            is_open = np.zeros((n, d, d), dtype=bool)
            ReK = np.empty((n, d, d), dtype=object)
            ReK[...] = zero
            Kh = ReK.copy()
            jps = self.jps  # only the rows that are needed (mpmath is slow)
            X = Xe[:, jps, :] * (2 * self.m)
            Kj = ctx.csqrt(X) / self.hbar
            oj = np.frompyfunc(lambda x: x > 0, 1, 1)(X).astype(bool)
            K[:, jps, :] = Kj
            is_open[:, jps, :] = oj
            ReK[:, jps, :] = np.where(oj, ctx.real(Kj), zero)
            Kh[:, jps, :] = np.where(oj, ctx.sqrt(ReK[:, jps, :]), zero)
            x = np.empty((n, d, d), dtype=object)
            x[...] = ctx.mpc(0)
            base_rows = [list(r) for r in self.iVT]
            for i in range(n):
                for jp in self.jps:
                    M = [row[:] for row in base_rows]
                    for r in range(d):
                        M[r][r] = M[r][r] + K[i, jp, r]
                    x[i, jp] = _mp_solve_unit(M, jp)
        else:
            X = 2 * self.m * Xe
            jps = self.jps
            ReK = np.sqrt(np.maximum(X, 0.0)) / self.hbar  # open channels (X > 0); 0 on closed ones
            Kh = np.sqrt(ReK)
            if self.interp is None:  # the direct solve needs K on closed channels too
                absX = np.sqrt(np.abs(X))
                K = np.where(X > 0, absX + 0j, 1j * absX) / self.hbar
        if not ctx.is_mp and self.interp is not None:
            xr = self.interp.rows_at(a, u, jps)  # (n, len(jps), d)
            if len(jps) == d:
                x = xr
            else:
                x = np.zeros((n, d, d), dtype=complex)
                x[:, jps] = xr
        elif not ctx.is_mp:
            M = np.broadcast_to(self.iVT, (n, len(jps), d, d)).copy()
            idx = np.arange(d)
            M[:, :, idx, idx] += K[:, jps, :]
            rhs = np.broadcast_to(np.eye(d, dtype=complex)[jps], (n, len(jps), d))[..., None]
            if len(jps) == d:
                x = np.linalg.solve(M, rhs)[..., 0]
            else:
                x = np.zeros((n, d, d), dtype=complex)
                x[:, jps] = np.linalg.solve(M, rhs)[..., 0]
        idx = np.arange(d)
        diagKh = Kh[:, idx, idx]  # (n, d): outgoing channel j'
        ap = diagKh[:, :, None] * x * Kh
        am = ap.copy()
        am[:, idx, idx] = am[:, idx, idx] - ctx.mpf(1)
        self.evals += n * len(self.jps)
        return ap, am, ReK * self.hbar

    # -- accumulation -------------------------------------------------------------------
    def _acc_exact(self, P, Ap, Am, Wn, first=True):
        """Weighted sums over nodes of the integrand of the E-variable form of (38).

        With ``Z = a / sqrt(p)`` (``a`` the s-matrix rows, ``p`` the incoming momentum of the
        pair; the flux factor ``K_j^{1/2} = sqrt(p)`` of (C1) cancels the ``1/sqrt(p q)`` of
        the weight) and ``c1 = beta/(8m) + 1/(2 sigma_p^2)``, ``c2 = 1/sigma_p^2 - beta/(4m)``::

            w(p_A, p_B) a_A a_B^* = (beta/2) e^{X_AB} (p_A Z_A Z_B^* + Z_A p_B Z_B^*),
            X_AB = -beta (p_A + p_B)^2 / (8m) - (p_A - p_B)^2 / (2 sigma_p^2)
                 = -c1 (p_A^2 + p_B^2) + c2 p_A p_B  (<= 0; evaluated in the first form),

        so ``sum_n W_n w a a^* = (beta/2) (T1 + T1^H)`` with
        ``T1 = sum_n W_n e^{X_n} o (sum_alpha (p Z^alpha) (Z^alpha)^H)``.  ``X`` depends on the
        pairs only through their Bohr frequencies, so it is computed per class pair and the
        sum over nodes and alpha becomes one matrix product per class of rows (BLAS).

        Returns ``(2, size)`` (fine and coarse rule of ``Wn``) and the magnitude scale
        ``sum_n |W_n| max_AB |integrand|`` (for the rounding estimate).
        """
        ctx = self.ctx
        n = P.shape[0]
        if self.sel is not None:
            P, Ap, Am = P[:, self.sel], Ap[:, self.sel], Am[:, self.sel]
        Ds = P.shape[1]
        cls_of, reps, members = self.xcls_of, self.xrep, self.xmembers
        Pc = P[:, reps]  # (n, U) momenta of the Bohr classes
        Pp = Pc[:, cls_of]  # (n, Ds)
        if ctx.is_mp:
            is_open = np.asarray(np.frompyfunc(lambda x: x > 0, 1, 1)(Pp), dtype=bool)
            one, zero = ctx.mpf(1), ctx.mpc(0)
            sq = ctx.sqrt(np.where(is_open, Pp, one))
            Zp = np.where(is_open, Ap / sq, zero)
            Zm = np.where(is_open, Am / sq, zero)
            sm = Pc[:, :, None] + Pc[:, None, :]
            df = Pc[:, :, None] - Pc[:, None, :]
            Xu = ctx.exp(sm * sm * (-self.beta / (8 * self.m)) - df * df * (1 / (2 * self.sigma_p ** 2)))
            out = np.empty((2, Ds, Ds), dtype=object)
            out[...] = zero
        else:
            is_open = Pp > 0
            sq = np.sqrt(np.where(is_open, Pp, 1.0))
            Zp = np.where(is_open, Ap / sq, 0.0)
            Zm = np.where(is_open, Am / sq, 0.0)
            # stable form of -c1 (p^2 + q^2) + c2 p q (no cancellation for small sigma_p)
            sm = Pc[:, :, None] + Pc[:, None, :]
            df = Pc[:, :, None] - Pc[:, None, :]
            Xu = np.exp(-(self.beta / (8 * self.m)) * sm * sm - df * df / (2 * self.sigma_p * self.sigma_p))
            # reused panel buffer: every row is assigned (first chunk) or added to, so no zeroing
            if getattr(self, "_buf", None) is None or self._buf.shape != (2, Ds, Ds):
                self._buf = np.empty((2, Ds, Ds), dtype=complex)
            out = self._buf
        Ust = np.concatenate([Zp * Pp, Zm * Pp], axis=0)  # (2n, Ds): rows (alpha, node)
        Vst = ctx.conj(np.concatenate([Zp, Zm], axis=0))
        for k in range(2):
            col = Wn[:, k]
            nz = np.flatnonzero(np.asarray([bool(x != 0) for x in col]) if ctx.is_mp else col != 0)
            if nz.size == 0:
                if first:
                    out[k] = 0
                continue
            w = col[nz]
            rows2 = np.concatenate([nz, nz + n])
            Us, Vs = Ust[rows2], Vst[rows2]
            Xs = Xu[nz]
            for c1, r1 in enumerate(members):
                Xrow = (Xs[:, c1, :] * w[:, None])[:, cls_of]  # (m, Ds)
                M = np.concatenate([Xrow, Xrow], axis=0) * Vs
                if first:
                    out[k, r1, :] = Us[:, r1].T @ M
                else:
                    out[k, r1, :] += Us[:, r1].T @ M
        # magnitude: |sum_alpha U_A V_B^*| e^X <= 2 max|U| max|V| e^X, maxima per class
        Uf = np.abs(np.asarray(ctx.to_float(ctx.abs(Ust)) if ctx.is_mp else Ust, dtype=complex if not ctx.is_mp else float))
        Vf = np.abs(np.asarray(ctx.to_float(ctx.abs(Vst)) if ctx.is_mp else Vst, dtype=complex if not ctx.is_mp else float))
        Uf = np.maximum(Uf[:n], Uf[n:])
        Vf = np.maximum(Vf[:n], Vf[n:])
        mU = np.zeros((n, len(members)))
        mV = np.zeros((n, len(members)))
        for c, r in enumerate(members):
            mU[:, c] = Uf[:, r].max(axis=1)
            mV[:, c] = Vf[:, r].max(axis=1)
        Xf = np.asarray(ctx.to_float(Xu), dtype=float) if ctx.is_mp else Xu
        w0 = np.abs(np.asarray(ctx.to_float(Wn[:, 0]), dtype=float))
        # per class pair: int |integrand| dE >= every entry's; symmetrised like T1 -> (beta/2)(T1 + T1^H)
        absT1 = 2 * np.einsum("n,nab,na,nb->ab", w0, Xf, mU, mV)
        scale = (absT1 + absT1.T) * (float(self.beta) / 2)
        # the Hermitian completion (beta/2)(T1 + T1^H) is linear: applied once to the total
        return out.reshape(2, -1), scale

    def _narrow_layout(self, classes):
        """Index tables for :meth:`_acc_narrow`.

        During the quadrature the class blocks are kept grouped by class size (each group one
        contiguous batch of ``(G, s, s)`` blocks, written by one batched matmul);
        :meth:`finalize` permutes the result to class order.
        """
        d = self.d
        offsets = np.cumsum([0] + [len(c) ** 2 for c in classes])
        by_size = {}
        for ci, c in enumerate(classes):
            by_size.setdefault(len(c), []).append(ci)
        self._groups = []
        gpos = np.zeros(len(classes), dtype=int)  # start of each class block in the grouped layout
        start = 0
        for k, cis in sorted(by_size.items()):
            mem = np.array([classes[ci] for ci in cis], dtype=int).reshape(len(cis), k)
            self._groups.append((np.array(cis), mem, start, len(cis), k))
            gpos[cis] = start + np.arange(len(cis)) * k * k
            start += len(cis) * k * k
        self._order = np.concatenate([gpos[ci] + np.arange(len(c) ** 2) for ci, c in enumerate(classes)]) \
            if classes else np.zeros(0, dtype=int)
        # classes holding diagonal pairs (j', j) = (j, j): s^(+) = s^(-) + 1 there
        self._diag = []
        for ci, c in enumerate(classes):
            c = np.asarray(c)
            delta = (c // d == c % d)
            if delta.any():
                self._diag.append((ci, c, delta.astype(float), gpos[ci]))
        self._perm = np.concatenate([np.asarray(c, dtype=int) for c in classes]) if classes else np.zeros(0, int)
        self._starts = np.cumsum([0] + [len(c) for c in classes])[:-1]

    def _acc_narrow(self, P, Ap, Am, Wn):
        """Weighted sums for the narrow-packet map (45): blocks of equal Bohr frequency.

        In the E variable the weight of (45) is ``mu_eff(p) m / p = beta exp(-beta p^2/(2m))``
        with ``p = P_{j'j}(E) = P_{k'k}(E)`` (class representative).  With ``a^(+) = a^(-) + delta``
        (C2) the sum over alpha is ``2 a^- a^-^H + a^- delta^T + delta a^-^H + delta delta^T``
        (delta = 1 on the diagonal pairs (j, j), which all sit in the Delta = 0 class): one
        matrix product per class over the nodes, batched over the classes of equal size.
        Returns the sums in the grouped layout of :meth:`_narrow_layout`.
        """
        ctx = self.ctx
        n = P.shape[0]
        Pc = P[:, self.class_rep]  # (n, U)
        if ctx.is_mp:
            wc = np.empty(Pc.shape, dtype=object)
            for idx in np.ndindex(*Pc.shape):
                pc = Pc[idx]
                wc[idx] = self.beta * ctx.mp.exp(-self.beta * pc * pc / (2 * self.m)) if pc > 0 else ctx.mp.mpf(0)
            acc = ctx.zeros((2, self.size), complex=True)
        else:
            wc = np.where(Pc > 0, self.beta * np.exp(-(self.beta / (2 * self.m)) * Pc * Pc), 0.0)
            acc = np.empty((2, self.size), dtype=complex)  # every entry is written by one class group
        for k in range(2):
            col = Wn[:, k]
            nz = np.flatnonzero(np.asarray([bool(x != 0) for x in col]) if ctx.is_mp else col != 0)
            f = wc[nz] * col[nz][:, None]  # (m, U)
            A = Am if len(nz) == n else Am[nz]  # (m, D)
            out = acc[k]
            for cis, mem, start, G, sz in self._groups:
                Ag = A[:, mem]  # (m, G, s)
                L = (Ag * (2 * f[:, cis])[:, :, None]).transpose(1, 2, 0)  # (G, s, m)
                R = ctx.conj(Ag).transpose(1, 0, 2)  # (G, m, s)
                seg = out[start:start + G * sz * sz]
                if ctx.is_mp:
                    seg[:] = np.matmul(L, R).reshape(-1)
                else:
                    # contiguous operands and an in-place result (measured ~12 % faster at N = 8)
                    np.matmul(np.ascontiguousarray(L), np.ascontiguousarray(R), out=seg.reshape(G, sz, sz))
            for ci, c, delta, off in self._diag:
                fc = f[:, ci]
                v = (A[:, c] * fc[:, None]).sum(axis=0)  # sum_n f_n a^-_n
                blk = np.outer(v, delta) + np.outer(delta, ctx.conj(v)) + fc.sum() * np.outer(delta, delta)
                k2 = len(c) ** 2
                out[off:off + k2] = out[off:off + k2] + blk.reshape(-1)
        # per class: int |integrand| dE <= sum_n |W_n| w_c 2 max_{A in c, alpha} |a_A|^2 (for every entry)
        wcf = np.asarray(ctx.to_float(wc), dtype=float)
        if ctx.is_mp:
            Af = np.maximum(np.asarray(ctx.to_float(ctx.abs(Ap)), dtype=float),
                            np.asarray(ctx.to_float(ctx.abs(Am)), dtype=float))
        else:
            Af = np.maximum(np.abs(Ap), np.abs(Am))
        if len(self._perm):
            mA = np.maximum.reduceat(Af[:, self._perm], self._starts, axis=1)
        else:
            mA = np.zeros((n, 0))
        w0 = np.abs(np.asarray(ctx.to_float(Wn[:, 0]), dtype=float))
        scale = 2 * np.einsum("n,nc,nc->c", w0, wcf, mA * mA)
        return acc, scale

    def panel(self, a, b, t, W, left=True, right=True):
        """Rule ``(t, W)`` mapped onto ``[a, b]``: ``(2, size)`` sums (value, estimate) and scale.

        ``left``/``right``: whether the panel ends are channel thresholds (square-root kinks).
        """
        ctx = self.ctx
        u, Wn = map_rule(a, b, t, W, ctx, left, right)
        acc = None
        scale = 0.0
        nn = len(u)
        if ctx.is_mp:
            chunk = nn
        else:
            nu = len(self.xmembers) if not self.narrow else 0
            per_node = nu * nu * 16 + self.D * 96 + (0 if self.interp is not None else self.d**3 * 32)
            chunk = max(1, min(nn, _CHUNK_BYTES // per_node))
        for s0 in range(0, nn, chunk):
            uu, ww = u[s0:s0 + chunk], Wn[s0:s0 + chunk]
            ap, am, P = self.rows(a, uu)
            k = len(uu)
            Ap, Am, Pf = ap.reshape(k, self.D), am.reshape(k, self.D), P.reshape(k, self.D)
            if self.narrow:
                part, sc = self._acc_narrow(Pf, Ap, Am, ww)
                acc = part if acc is None else acc + part
            else:
                acc, sc = self._acc_exact(Pf, Ap, Am, ww, first=acc is None)
            scale += sc
        return acc, scale


def _max_abs_diff(ctx, x, y):
    """``max |x - y|`` (float), chunked in float64 to avoid a full-size temporary."""
    if ctx.is_mp:
        return float(np.max(ctx.to_float(ctx.abs(x - y))))
    out = 0.0
    step = 1 << 20
    for s in range(0, len(x), step):
        out = max(out, float(np.max(np.abs(x[s:s + step] - y[s:s + step]))))
    return out


PANEL_BUDGET = 64
"""Work limit of :func:`_adaptive`: at most this many accepted panels per initial panel (the
paper's maps need 1.0-1.3).  Beyond it no panel is bisected any more: the pending panels are
accepted with their error estimates, so the reported error grows instead of the run time."""


def _adaptive(engine, panels, tol_q, ctx, max_panels=None):
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

    Returns the accumulated flat integral, the summed error estimate, the summed magnitude
    scale (for the rounding estimate), the number of accepted panels and of panels accepted
    unresolved.
    """
    if max_panels is None:
        max_panels = PANEL_BUDGET * len(panels)
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
            t, W = rule_pair(ctx, level)
            acc, sc = engine.panel(a, b, t, W, sl, sr)
            err = engine.err_factor * _max_abs_diff(ctx, acc[0], acc[1]) if acc.shape[1] else 0.0
            floor = 64 * ctx.eps * float(np.max(sc)) if np.size(sc) else 0.0
            if err <= max(tp, floor):
                break
            if rule_pair(ctx, level + 1) is not None:
                level += 1
                continue
            width = float(ctx.to_float(b - a))
            too_narrow = width < MIN_REL_WIDTH * max(1.0, abs(float(ctx.to_float(a))))
            if too_narrow or n_panels + len(stack) + 2 > max_panels:
                unresolved += 1
                break
            mid = (a + b) / 2
            stack.append((mid, b, False, sr, tp / 2))
            stack.append((a, mid, sl, False, tp / 2))
            acc = None
            break
        if acc is not None:
            if ctx.is_mp:
                total = total + acc[0]
            else:
                total += acc[0]
            est_total += err
            scale_total += sc
            n_panels += 1
    return total, est_total, scale_total, n_panels, unresolved


def _cluster_sorted(values, tol, ctx=None):
    """Group indices of values into clusters whose consecutive sorted gaps are <= tol.

    Sorting uses float64 copies; the gaps are computed in the context's precision (two
    mpmath numbers that agree to 30 digits must not be split by float64 rounding).
    Returns the groups and the array of all consecutive gaps (float).
    """
    vals = np.asarray(values)
    vf = np.array(ctx.to_float(vals), dtype=float) if (ctx is not None and ctx.is_mp) else vals.astype(float)
    order = np.argsort(vf, kind="stable")
    groups, cur = [], [order[0]]
    gaps = np.empty(max(len(order) - 1, 0))
    for i in range(1, len(order)):
        g = vals[order[i]] - vals[order[i - 1]]
        gaps[i - 1] = abs(float(ctx.to_float(g))) if (ctx is not None and ctx.is_mp) else abs(float(g))
        if gaps[i - 1] <= tol:
            cur.append(order[i])
        else:
            groups.append(cur)
            cur = [order[i]]
    groups.append(cur)
    return groups, gaps


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
    delta = (e[:, None] - e[None, :]).reshape(-1)
    groups, gaps = _cluster_sorted(delta, tol, ctx)
    amb = gaps[(gaps > tol) & (gaps <= 1e3 * tol)]
    if amb.size:
        raise ValueError(
            f"cannot decide {what}: two Bohr frequencies differ by {amb.min():.3e}, between the "
            f"equality tolerance {tol:.1e} and 1e3 times it; the narrow-packet selection rule (44) "
            "is ambiguous at this precision (use dps=... or the exact map)"
        )
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
        groups, _ = _cluster_sorted(flat[pos], tol, ctx)
        for g in groups:
            k = pos[g[0]]
            pts.append(flat[k])
            pts_f.append(float(thr_f[k]))
    return pts, pts_f


def _resonances(engine):
    """Near-real poles ``(T_r, gamma)`` of the s-matrix rows of the engine (:func:`resonance_poles`)."""
    ctx = engine.ctx
    e = np.array(ctx.to_float(engine.e), dtype=float) if ctx.is_mp else np.asarray(engine.e, dtype=float)
    iVT = np.array(ctx.to_float(engine.iVT), dtype=complex) if ctx.is_mp else engine.iVT
    return resonance_poles(e, iVT, float(ctx.to_float(engine.m)), float(engine.hbar), engine.snap_tol)


def _poles_in_E(engine, poles, e_max):
    """The poles in the outgoing kinetic energy: row j' is evaluated at ``T = E + eps_j'``, so a
    pole at total energy T_r shows in the integrand at ``E = T_r - eps_j'`` for every outgoing
    level of the rows used; those inside ``(0, e_max)``, one per distinct position."""
    ctx = engine.ctx
    e = np.array(ctx.to_float(engine.e), dtype=float) if ctx.is_mp else np.asarray(engine.e, dtype=float)
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
               interpolate=False):
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
    engine = _Engine(ctx, energies, V_eig, m, to_ctx(ctx, g), beta, sig, narrow, classes, sel)
    bp_e = energies if bp_energies is None else bp_energies
    pts, pts_f = _breakpoints(ctx, bp_e)
    ef = np.array(ctx.to_float(bp_e), dtype=float) if ctx.is_mp else np.asarray(bp_e, dtype=float)
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
        flat, est, scale, n_panels, unresolved = _adaptive(engine, panels, tol_q, ctx)
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
    if engine.interp is not None:
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
    from .interpolation import RowInterpolant

    e = np.asarray(energies, dtype=float)
    d = len(e)
    thr = float(np.ptp(e)) if d else 1.0
    snap = Tolerances(ctx.eps).bohr_equality(thr, d)
    e_max = _truncation(thr, beta, tol)
    R = RowInterpolant(e, np.zeros((d, d)), 1.0, 1.0, snap, e_max + float(e.max()), lambda a, b: b - a, tol)
    return R.table_bytes() + R.workspace_bytes()


def _row_interpolant(engine, energies, e_max, beta, tol_rows, poles=None):
    """:class:`RowInterpolant` for the narrow-packet weight ``beta exp(-beta (T - eps_j))`` of (45).

    In the total energy ``T = E + eps_j'`` the weight of (45) is ``beta exp(-beta (T - eps_j))``
    with ``T - eps_j >= 0`` (incoming kinetic energy), so on a panel [t1, t2] it integrates to at
    most ``int beta exp(-beta max(0, T - eps_max)) dT``.
    """
    from .interpolation import RowInterpolant

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

    storage = "dense"

    def __init__(self, tensor, error_parts, kind, system, bath, coupling, dps, eigensystem, info=None):
        self._tensor = tensor
        self._dim = int(tensor.shape[0]) if tensor is not None else len(eigensystem.energies)
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
        return self._dim

    @property
    def tensor(self):
        """The dense ``(d, d, d, d)`` tensor ``[j', k', j, k]`` (see the class docstring)."""
        return self._tensor

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

    _choi_note = " (dense eigvalsh of the d^2 x d^2 Choi matrix)"
    _storage_note = "dense (d, d, d, d) tensor; all checks on the full tensor"

    def _population_parts(self):
        """Trace defect ``(d, d)``, max Hermiticity defect (39), populations ``P[j', j] = S^{jj}_{j'j'}``."""
        T = self._float_tensor()
        d = self.dim
        idx = np.arange(d)
        tr = np.einsum("aajk->jk", T) - np.eye(d)
        herm = float(np.max(np.abs(T - np.conj(T.transpose(1, 0, 3, 2)))))
        P = T[idx[:, None], idx[:, None], idx[None, :], idx[None, :]].real
        return tr, herm, P

    def _sum_rule_lhs(self, g):
        """``sum_j S^{jj}_{j'k'} g_j`` (left side of (66))."""
        return np.einsum("abjj,j->ab", self._float_tensor(), g)

    def diagnostics(self) -> dict:
        """Structural checks, each ``{"value", "meaning"}`` (float64 numbers).

        * ``trace_preservation``: ``max_{jk} |sum_j' S^{jk}_{j'j'} - delta_jk|``;
        * ``hermiticity``: ``max |S^{jk}_{j'k'} - conj(S^{kj}_{k'j'})|`` (Eq. (39));
        * ``detailed_balance``: ``max |S^{jj}_{j'j'} - e^{-beta Delta_{j'j}} S^{j'j'}_{jj}|`` (Eq. (30));
        * ``sum_rule``: ``max |sum_j S^{jj}_{j'k'} e^{-beta eps^(0)_j} - e^{-beta eps^(0)_j'} delta_j'k'|``
          (Eq. (66), chains only; exact for the local map, an O(eps) statement otherwise);
        * ``min_choi_eigenvalue``: smallest eigenvalue of the Choi matrix (< 0: not CP).
        """
        tr, herm, P = self._population_parts()
        e = np.array(get_context(self.dps).to_float(self.eigensystem.energies), dtype=float)
        beta = float(self.bath.beta)
        h0 = self.kind in ("local", "exact_h0")
        e_db = float(self.system.h) * np.asarray(self.eigensystem.bands, dtype=float) if h0 else e
        db = P - np.exp(-beta * (e_db[:, None] - e_db[None, :])) * P.T
        out = {
            "trace_preservation": {"value": float(np.max(np.abs(tr))),
                                   "meaning": "max_jk |sum_j' S^{jk}_{j'j'} - delta_jk| (0: trace preserving)"},
            "hermiticity": {"value": float(herm),
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
            lhs = self._sum_rule_lhs(g)
            res = lhs - np.diag(g)
            out["sum_rule"] = {
                "value": float(np.max(np.abs(res))),
                "meaning": "max |sum_j S^{jj}_{j'k'} e^{-beta eps0_j} - e^{-beta eps0_j'} delta_j'k'|, Eq. (66) "
                           "(eps0 = h * band; exact for kind='local', O(eps) or O(sigma_p coherence) otherwise)",
                "applies": self.kind == "local",
            }
        lam = self.choi_eigenvalues()
        out["min_choi_eigenvalue"] = {"value": float(lam[0]),
                                      "meaning": "smallest eigenvalue of the Choi matrix; < 0 means not completely positive"
                                                 + self._choi_note}
        out["storage"] = {"value": self.storage, "meaning": self._storage_note}
        out["error_bound"] = {"value": self.error_bound, "meaning": "bound on max abs entry error (sum of error_parts)"}
        return out


def _gib(nbytes):
    return nbytes / 2**30


class _CompactMap(CollisionMap):
    """Common part of the compact (block) storages: no dense ``d^4`` tensor is kept.

    ``.tensor``, :meth:`superoperator`, :meth:`choi` and :meth:`kraus` densify on demand
    when the dense tensor (plus one working copy) fits :data:`MAX_BYTES`; otherwise they raise
    ValueError with the memory the dense tensor would need.  :meth:`apply` and
    :meth:`diagnostics` work blockwise and never form ``d^4`` numbers.
    """

    storage = "compact"
    _storage_note = ("compact block storage: every check computed blockwise from the stored blocks "
                     "(no d^4 tensor formed); Choi spectrum from the block structure")

    def __init__(self, error_parts, kind, system, bath, coupling, dps, eigensystem, info=None):
        super().__init__(None, error_parts, kind, system, bath, coupling, dps, eigensystem, info)
        self._ctx = get_context(dps)

    def dense_bytes(self) -> int:
        """Bytes needed to densify: :func:`estimate_memory` of the dense kind (tensor and working copies)."""
        return estimate_memory(self.dim, self.kind, self.dps)

    @property
    def tensor(self):
        """Dense tensor, built on demand when :meth:`dense_bytes` <= MAX_BYTES (else ValueError)."""
        if self._tensor is None:
            need = self.dense_bytes()
            if need > MAX_BYTES:
                raise ValueError(
                    f"this {self.kind} map is stored compactly (d = {self.dim}); the dense d^4 tensor needs "
                    f"{_gib(need):.1f} GiB (> MAX_BYTES = {_gib(MAX_BYTES):.0f} GiB): use .apply(rho) and "
                    ".diagnostics(), which work blockwise")
            self._tensor = self._densify()
        return self._tensor

    def _check_rho(self, rho):
        r = np.asarray(rho)
        d = self.dim
        if r.shape[-2:] != (d, d):
            raise ValueError(f"rho must have shape ({d}, {d}) (or (..., {d}, {d})) (got {r.shape})")
        if self.dps is not None and r.dtype != object:
            r = self._ctx.array(r, complex=True)
        return r

    def apply(self, rho):
        """``(S rho)_{j'k'} = sum_{jk} S^{jk}_{j'k'} rho_{jk}`` computed blockwise (rho in the eigenbasis of H)."""
        r = self._check_rho(rho)
        if r.ndim == 2:
            return self._apply2(r)
        flat = r.reshape(-1, self.dim, self.dim)
        out = np.stack([self._apply2(x) for x in flat])
        return out.reshape(r.shape[:-2] + (self.dim, self.dim))

    def choi_eigenvalues(self):
        """Choi spectrum from the block structure (exact, no dense Choi matrix; see the subclass)."""
        return self._choi_eigenvalues()


class _GlobalBlocks(_CompactMap):
    """Compact narrow-packet map (45): one matrix per Bohr class.

    Class ``c`` lists pairs ``A = j' d + j`` with a common ``Delta_{j'j}``; its block is
    ``B_c[a, b] = S^{j_a k_b}_{j'_a k'_b}`` for ``A_a = (j'_a, j_a)``, ``A_b = (k'_b, k_b)`` in ``c``;
    every other entry of (45) vanishes.  Up to a permutation the Choi matrix is the direct sum
    of the blocks, so its spectrum is computed blockwise.
    """

    _choi_note = " (union of the spectra of the Bohr-class blocks: the Choi matrix of (45) is their direct sum)"

    def __init__(self, classes, flat, *args, **kw):
        super().__init__(*args, **kw)
        d = self.dim
        self.classes = classes
        self.blocks = []
        pos = 0
        for c in classes:
            k = len(c)
            self.blocks.append(flat[pos:pos + k * k].reshape(k, k))
            pos += k * k
        self._jp = [np.asarray(c) // d for c in classes]
        self._j = [np.asarray(c) % d for c in classes]
        self._flat = flat  # the blocks are views of it, in class order
        self._gather = None

    def stored_numbers(self) -> int:
        return sum(len(c) ** 2 for c in self.classes)

    def _densify(self):
        ctx, d = self._ctx, self.dim
        T2 = ctx.zeros((d * d, d * d), complex=True)
        for c, B in zip(self.classes, self.blocks):
            T2[np.ix_(c, c)] = B
        T = T2.reshape(d, d, d, d).transpose(0, 2, 1, 3)
        return T if ctx.is_mp else np.ascontiguousarray(T)

    def _apply2(self, r):
        d = self.dim
        if r.dtype == object:
            out = self._ctx.zeros((d, d), complex=True)
            for B, jp, j in zip(self.blocks, self._jp, self._j):
                np.add.at(out, (jp[:, None], jp[None, :]), B * r[j[:, None], j[None, :]])
            return out
        if self._gather is None:  # flat (output, input) indices of every stored entry, built once
            outs, ins = [], []
            for jp, j in zip(self._jp, self._j):
                outs.append((jp[:, None] * d + jp[None, :]).ravel())
                ins.append((j[:, None] * d + j[None, :]).ravel())
            self._gather = (np.concatenate(outs), np.concatenate(ins))
        out_idx, in_idx = self._gather
        v = self._flat * r.reshape(-1)[in_idx]
        re = np.bincount(out_idx, weights=v.real, minlength=d * d)
        im = np.bincount(out_idx, weights=v.imag, minlength=d * d)
        return (re + 1j * im).reshape(d, d)

    def _fblocks(self):
        if self._ctx.is_mp:
            ctx = self._ctx
            return [np.asarray(ctx.to_float(ctx.real(B)), dtype=float) + 1j * np.asarray(ctx.to_float(ctx.imag(B)), dtype=float)
                    for B in self.blocks]
        return self.blocks

    def _choi_eigenvalues(self):
        """Union of the block spectra (Hermitian parts) plus the zeros of the empty rows (ascending)."""
        lam = [np.linalg.eigvalsh((B + B.conj().T) / 2) for B in self._fblocks()]
        nz = self.dim**2 - sum(len(c) for c in self.classes)
        return np.sort(np.concatenate(lam + [np.zeros(nz)]))

    def _population_parts(self):
        d = self.dim
        tr = -np.eye(d, dtype=complex)
        P = np.zeros((d, d))
        herm = 0.0
        for B, jp, j in zip(self._fblocks(), self._jp, self._j):
            same = jp[:, None] == jp[None, :]
            a, b = np.nonzero(same)
            np.add.at(tr, (j[a], j[b]), B[a, b])
            P[jp, j] = np.diag(B).real
            herm = max(herm, float(np.max(np.abs(B - B.conj().T))))
        return tr, herm, P

    def _sum_rule_lhs(self, g):
        d = self.dim
        lhs = np.zeros((d, d), dtype=complex)
        for B, jp, j in zip(self._fblocks(), self._jp, self._j):
            a, b = np.nonzero(j[:, None] == j[None, :])
            np.add.at(lhs, (jp[a], jp[b]), B[a, b] * g[j[a]])
        return lhs


class _LocalSite(_CompactMap):
    """Compact local map (54)-(56): ``S = U^dagger [(S_1 (x) id_rest)(U rho U^dagger)] U``.

    In the local basis H(0) = H_loc and V = sigma_x on the site qubit: ``K + i m g V`` splits
    into 2x2 blocks, one per configuration r of the other qubits, and at the outgoing energy
    ``E + eps^(0)_j'`` the block of r has ``K_s = sqrt(2m(E + h s' - h s))``, independent of the
    excitation number of r.  All blocks therefore carry the same s-matrix, and (45) with H(0)
    (the local map) is ``S_1 (x) id_rest``: ``S_1`` is the global map (45) of the site qubit
    alone (energies 0, h), the identity channel acts on the rest (excitation numbers only
    shift energies and drop out).  ``U`` = eigenvectors of H(eps) (columns, local basis).
    """

    _choi_note = (" (2^(N-1) times the spectrum of the 4x4 site Choi matrix, and 0: exact for S_1 (x) id; "
                  "the dense path shows those zeros as +-rounding)")

    def __init__(self, S1, U, site, N, *args, **kw):
        super().__init__(*args, **kw)
        self.S1 = S1  # [a', b', a, b], order (|0>, |1>)
        self.U = U
        self.site = site
        self.N = N

    def stored_numbers(self) -> int:
        return 16 + self.dim**2

    def _split(self, X):
        """(d, d) local-basis matrix -> (L, 2, R, L, 2, R) with the site axes 1 and 4."""
        L = 2 ** (self.site - 1)
        R = 2 ** (self.N - self.site)
        return X.reshape(L, 2, R, L, 2, R)

    def _site_apply(self, X):
        X6 = self._split(X)
        Y = np.tensordot(X6, self.S1, axes=([1, 4], [2, 3]))  # [L, R, L2, R2, a', b']
        Y = Y.transpose(0, 4, 1, 2, 5, 3)
        return Y.reshape(self.dim, self.dim)

    def _mm(self, A, B):
        return self._ctx.matmul(A, B) if self._ctx.is_mp else A @ B

    def _apply2(self, r):
        U = self.U
        Uh = self._ctx.conj(U).T if self._ctx.is_mp else U.conj().T
        loc = self._mm(self._mm(U, r), Uh)
        return self._mm(self._mm(Uh, self._site_apply(loc)), U)

    def _densify(self):
        """``S_1 (x) id`` as a dense local-basis tensor, rotated into the eigenbasis of H(eps)."""
        ctx, d = self._ctx, self.dim
        T0 = ctx.zeros((d, d, d, d), complex=True)
        for j in range(d):
            for k in range(d):
                E = ctx.zeros((d, d), complex=True)
                E[j, k] = 1
                T0[:, :, j, k] = self._site_apply(E)
        T = _rotate(ctx, T0, self.U)
        return T if ctx.is_mp else np.ascontiguousarray(T)

    def _f(self, X):
        if self._ctx.is_mp:
            ctx = self._ctx
            return np.asarray(ctx.to_float(ctx.real(X)), dtype=float) + 1j * np.asarray(ctx.to_float(ctx.imag(X)), dtype=float)
        return np.asarray(X, dtype=complex)

    def _choi_eigenvalues(self):
        """``R lambda(J_1)`` (R = 2^(N-1) copies through the identity channel on the rest) and zeros.

        The Choi matrix of ``S_1 (x) id`` is ``J_1 (x) |Omega><Omega|`` (``<Omega|Omega> = R``) up to a
        permutation, and the change of basis U acts on it unitarily: the spectrum is exactly
        ``R * spec(J_1)`` plus ``d^4 - 4`` zeros (returned as 0.0 once).
        """
        J1 = self._f(self.S1).transpose(2, 0, 3, 1).reshape(4, 4)
        lam = np.linalg.eigvalsh((J1 + J1.conj().T) / 2) * 2 ** (self.N - 1)
        return np.sort(np.concatenate([lam, [0.0]]))

    def _population_parts(self):
        S1 = self._f(self.S1)
        tr1 = np.einsum("aaxy->xy", S1) - np.eye(2)
        # trace preservation in the eigenbasis: Tr S(|j><k|) - delta_jk = sum_ab tr1[a,b] G[j,k,a,b]
        U3 = self._f(self.U)
        L, R = 2 ** (self.site - 1), 2 ** (self.N - self.site)
        U3 = U3.reshape(L, 2, R, self.dim)
        # G[p, q, x, a] = sum_r conj(U[(x, r), p]) U[(a, r), q]
        G = np.einsum("lxrp,larq->pqxa", U3.conj(), U3)
        tr = np.einsum("ab,jkab->jk", tr1, np.einsum("larj,lbrk->jkab", U3, U3.conj()))
        herm = float(np.max(np.abs(S1 - np.conj(S1.transpose(1, 0, 3, 2)))))
        # P[j', j] = S^{jj}_{j'j'} = sum S1[x, y, a, b] G[j', j, x, a] conj(G[j', j, y, b])
        P = np.einsum("xyab,pqxa,pqyb->pq", S1, G, G.conj()).real
        return tr, herm, P

    def _sum_rule_lhs(self, g):
        return self._f(self._apply2(self._ctx.array(np.diag(g), complex=True) if self._ctx.is_mp else np.diag(g) + 0j))


def _setup(system, bath, coupling, kind, dps, tol, check_memory=True, scattering_basis=True):
    """Validate inputs; return context, tol, eigensystems (of H and of the scattering H) and V."""
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
    if check_memory and need > MAX_BYTES:
        raise ValueError(
            f"the {kind} map for d = {d} needs about {need / 2**30:.1f} GiB (dense d^4 = {d**4} entries "
            f"plus workspaces), above the limit of {MAX_BYTES / 2**30:.0f} GiB; use a smaller system"
            + (" or storage='compact'" if kind in ("global", "local") else "")
        )
    if kind in ("exact", "exact_h0") and float(bath.sigma_p) == 0.0:
        raise ValueError("sigma_p = 0 is the narrow-packet limit (44): use kind='global' (or sigma_p > 0)")
    if kind in ("local", "exact_h0") and not isinstance(system, QubitChain):
        raise ValueError(f"kind={kind!r} needs a QubitChain (it uses H(0) = H_loc); got {type(system).__name__}")
    coupling.operator(system)  # validates the shape of V
    es = system.eigensystem(dps)
    if not scattering_basis:
        return ctx, tol, es, None, None
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
    return ctx, tol, es, es_s, V_eig


def exact_entries(system, bath, coupling, pairs, dps=None, tol=1e-12):
    """A block of the exact tensor (38): ``S^{jk}_{j'k'}`` for ``(j', j)`` and ``(k', k)`` in ``pairs``.

    Same algorithm as ``collision_map(kind="exact")`` but only the requested entries are
    accumulated (and only the s-matrix rows of the outgoing channels involved are
    computed): a cheap way to get a few entries at high precision.

    Parameters
    ----------
    pairs : sequence of (j', j)
        Index pairs in the eigenbasis of ``system.eigensystem(dps)``.

    Returns
    -------
    block : (n, n) array
        ``block[a, b] = tensor[j'_a, j'_b, j_a, j_b]`` with ``(j'_a, j_a) = pairs[a]``.
    error_bound : float
    error_parts : dict
    """
    ctx, tol, es, es_s, V_eig = _setup(system, bath, coupling, "exact", dps, tol, check_memory=False)
    d = system.dim
    sel = []
    for pr in pairs:
        jp, j = (int(x) for x in pr)
        if not (0 <= jp < d and 0 <= j < d):
            raise ValueError(f"pairs entries must be in 0..{d - 1} (got {pr!r})")
        sel.append(jp * d + j)
    e = _snap_energies(ctx, es_s)
    flat, parts, info = _integrate(ctx, e, V_eig, bath, coupling.g, tol, False, None, sel)
    n = len(sel)
    return flat.reshape(n, n), float(sum(p["value"] for p in parts.values())), parts


STORAGES = ("auto", "dense", "compact")
"""Storage of the map: dense ``d^4`` tensor, or compact blocks (kinds "global" and "local")."""

DENSE_AUTO_MAX_N = 6
"""``storage="auto"`` keeps the dense tensor only up to this many qubits (d = 64)."""


def estimate_compact_memory(d: int, stored: int, dps=None, interp_bytes: int = 0, interpolate=False) -> int:
    """Bytes for a compact map: ``stored`` numbers (about 4 live copies in the adaptive
    quadrature) and the accumulation chunks, plus either the s-matrix work arrays of one
    node (``(d, d, d)`` solve batch with its LU copy, 48 d^3 bytes) or, with interpolated
    rows, the interpolation tables ``interp_bytes``."""
    per = 16 if dps is None else 240
    rows = int(interp_bytes) if interpolate else 48 * d**3
    return int(4 * stored * per + rows + 4 * _CHUNK_BYTES)


def _resolve_storage(storage, kind, system, coupling, dps):
    """``"dense"`` or ``"compact"`` for ``storage`` in :data:`STORAGES` (see :func:`collision_map`)."""
    if not isinstance(storage, str) or storage not in STORAGES:
        raise ValueError(f"storage must be one of {STORAGES} (got {storage!r})")
    can_compact = kind == "global" or (kind == "local" and isinstance(system, QubitChain)
                                       and getattr(coupling, "_V", None) is None)
    if storage == "compact" and not can_compact:
        why = ("the exact kinds (38) have no block structure to exploit" if kind in ("exact", "exact_h0")
               else "the compact local map needs V = sigma_x on one site of a QubitChain (no user V)")
        raise ValueError(f"storage='compact' is available for kind='global' and kind='local' only: {why}")
    if storage != "auto":
        return storage
    if not can_compact:
        return "dense"
    n = system.N if isinstance(system, QubitChain) else math.log2(max(system.dim, 1))
    fits = estimate_memory(system.dim, kind, dps) <= MAX_BYTES
    return "dense" if (fits and n <= DENSE_AUTO_MAX_N) else "compact"


def _check_compact_memory(d, stored, kind, dps, interp_bytes=0, interpolate=False):
    need = estimate_compact_memory(d, stored, dps, interp_bytes, interpolate)
    if need > MAX_BYTES:
        what = "interpolation tables" if interpolate else "s-matrix workspaces"
        raise ValueError(
            f"the compact {kind} map for d = {d} needs about {need / 2**30:.1f} GiB ({stored} stored numbers "
            f"plus {what}), above the limit of {MAX_BYTES / 2**30:.0f} GiB; use a smaller system")
    return need


SMATRIX = ("auto", "solve", "interpolate")
"""How the s-matrix rows (C1) are obtained at the quadrature nodes (see :func:`collision_map`)."""

INTERPOLATE_AUTO_MIN_DIM = 32
"""``smatrix="auto"`` interpolates (float64, kinds "global"/"local") from this dimension on."""


def _resolve_smatrix(smatrix, kind, d, dps):
    """``True`` to interpolate the s-matrix rows, ``False`` to solve for them at every node."""
    if not isinstance(smatrix, str) or smatrix not in SMATRIX:
        raise ValueError(f"smatrix must be one of {SMATRIX} (got {smatrix!r})")
    if kind not in KINDS:
        return False  # the unknown kind is reported by the input validation
    can = dps is None and kind in ("global", "local")
    if smatrix == "interpolate" and not can:
        why = "float64 only (dps=None)" if dps is not None else "kinds 'global' and 'local' only"
        raise ValueError(f"smatrix='interpolate' is available for {why} (got kind={kind!r}, dps={dps!r})")
    if smatrix == "auto":
        return can and d >= INTERPOLATE_AUTO_MIN_DIM
    return smatrix == "interpolate"


def collision_map(system, bath, coupling, kind="exact", dps=None, tol=1e-12, storage="auto",
                  smatrix="auto") -> CollisionMap:
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
    storage : {"auto", "dense", "compact"}
        ``"dense"``: the ``(d, d, d, d)`` tensor.  ``"compact"`` (kinds "global" and "local"):
        no ``d^4`` array; "global" keeps one matrix per Bohr class (the only nonzero entries of
        (45)), "local" keeps the site-qubit map ``S_1`` (2x2x2x2) and the eigenvectors of H(eps)
        (in the local basis, with V = sigma_x on one site, (54)-(56) is ``S_1 (x) id_rest``).
        ``.apply`` and ``.diagnostics`` then work blockwise; ``.tensor``, ``.superoperator()``,
        ``.choi()``, ``.kraus()`` densify only when the dense tensor fits :data:`MAX_BYTES`
        (else ValueError with the GiB needed).  ``"auto"``: dense when the dense estimate fits
        :data:`MAX_BYTES` and N <= 6, compact otherwise (global/local only).
    smatrix : {"auto", "solve", "interpolate"}
        ``"solve"``: the rows of s^(+-) (C1)-(C2) are solved for at every quadrature node (d
        solves of size d per node).  ``"interpolate"`` (float64, kinds "global" and "local"):
        they are read off piecewise Chebyshev interpolants of ``(K(T) + i m g V)^{-1}`` in the
        total energy T, tabulated once between the levels of H
        (:mod:`symcoll.interpolation`); the interpolation error enters ``error_parts`` as
        ``"interpolation"`` (an estimate checked against direct solves).  ``"auto"``:
        interpolate when allowed and ``d >= INTERPOLATE_AUTO_MIN_DIM`` (32).

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
    st = _resolve_storage(storage, kind, system, coupling, dps)
    interp = _resolve_smatrix(smatrix, kind, getattr(system, "dim", 0), dps)
    if st == "compact":
        cm = _collision_map_compact(system, bath, coupling, kind, dps, tol, interp)
        _warn_above_tol(cm, tol)
        return cm
    ctx, tol, es, es_s, V_eig = _setup(system, bath, coupling, kind, dps, tol)
    d = system.dim
    e = _snap_energies(ctx, es_s)
    narrow = kind in ("global", "local")
    classes = None
    if narrow:
        what = "Delta_{j'j} = Delta_{k'k}" if kind == "global" else "Delta^(0)_{j'j} = Delta^(0)_{k'k}"
        classes, _ = _bohr_classes(ctx, e, what)
    flat, parts, info = _integrate(ctx, e, V_eig, bath, coupling.g, tol, narrow, classes, interpolate=interp)
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
    info["storage"] = "dense"
    cm = CollisionMap(tensor, parts, kind, system, bath, coupling, dps, es, info)
    _warn_above_tol(cm, tol)
    return cm


def _warn_above_tol(cm, tol):
    """RuntimeWarning (for the caller of :func:`collision_map`) when ``error_bound > tol``, naming the cause."""
    if not cm.error_bound > tol:
        return
    why = ""
    n_unres = cm.info.get("unresolved_panels", 0) + cm.info.get("interp_unresolved", 0)
    if n_unres:
        why = (f" ({n_unres} quadrature/interpolation panels accepted unresolved at the work limit or the "
               f"narrowest panel width; their error estimates are included)")
    warnings.warn(f"collision_map: error_bound {cm.error_bound:.2e} exceeds tol {tol:.1e}{why}", RuntimeWarning,
                  stacklevel=3)


def _collision_map_compact(system, bath, coupling, kind, dps, tol, interp=False):
    """Compact (block) global (45) or local (54)-(56) map; see ``storage`` in :func:`collision_map`."""
    if kind == "global":
        ctx, tol, es, es_s, V_eig = _setup(system, bath, coupling, kind, dps, tol, check_memory=False)
        d = system.dim
        e = _snap_energies(ctx, es_s)
        classes, _ = _bohr_classes(ctx, e, "Delta_{j'j} = Delta_{k'k}")
        stored = sum(len(c) ** 2 for c in classes)
        extra = _interp_table_bytes(ctx, e, float(bath.beta), tol) if interp else 0
        need = _check_compact_memory(d, stored, kind, dps, extra, interp)
        flat, parts, info = _integrate(ctx, e, V_eig, bath, coupling.g, tol, True, classes, interpolate=interp)
        info.update(kind=kind, storage="compact", stored_numbers=stored, memory_estimate_bytes=need,
                    bohr_classes=len(classes))
        return _GlobalBlocks(classes, flat, parts, kind, system, bath, coupling, dps, es, info)
    # local: the site qubit alone (energies 0, h; V = sigma_x) on the panels of H(0) of the chain
    ctx, tol, es, _, _ = _setup(system, bath, coupling, kind, dps, tol, check_memory=False, scattering_basis=False)
    d = system.dim
    coupling.operator(system)  # validates site <= N
    per = 16 if dps is None else 240
    need = 64 * per + 4 * per * d * d + _CHUNK_BYTES  # S_1, U and the temporaries of .apply
    if need > MAX_BYTES:
        raise ValueError(f"the compact local map for d = {d} needs about {need / 2**30:.1f} GiB, above the limit "
                         f"of {MAX_BYTES / 2**30:.0f} GiB")
    h = to_ctx(ctx, system.h)
    e1 = np.empty(2, dtype=object) if ctx.is_mp else np.zeros(2)
    e1[0], e1[1] = h * 0, h
    bp = np.empty(system.N + 1, dtype=object) if ctx.is_mp else np.zeros(system.N + 1)
    for n in range(system.N + 1):
        bp[n] = h * n
    V1 = ctx.array(np.array([[0.0, 1.0], [1.0, 0.0]])) if ctx.is_mp else np.array([[0.0, 1.0], [1.0, 0.0]])
    classes, _ = _bohr_classes(ctx, e1, "Delta^(0)_{j'j} = Delta^(0)_{k'k}")
    flat, parts, info = _integrate(ctx, e1, V1, bath, coupling.g, tol, True, classes, bp_energies=bp)
    T2 = ctx.zeros((4, 4), complex=True)
    pos = 0
    for c in classes:
        k = len(c)
        T2[np.ix_(c, c)] = flat[pos:pos + k * k].reshape(k, k)
        pos += k * k
    S1 = T2.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3)
    U = es.vectors
    parts["rotation"] = {"value": float(8 * d * ctx.eps), "kind": "estimate",
                         "note": "rounding of the change of basis local -> eigenbasis of H(eps) (orthogonal, "
                                 "band-preserving) in .apply"}
    info.update(kind=kind, storage="compact", stored_numbers=16 + d * d, memory_estimate_bytes=need)
    return _LocalSite(S1, U, coupling.site, system.N, parts, kind, system, bath, coupling, dps, es, info)
