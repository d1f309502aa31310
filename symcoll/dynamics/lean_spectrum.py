"""Eigen-decomposition of a large dense generator (71) in the real Hermitian basis, kept real (issue 16: the
exact map at N = 6 and 7, ``n = d^2 = 4096, 16384``).

The dense :class:`~symcoll.dynamics.spectrum.FloatSpectrum` holds the complex ``V`` and ``V^-1`` (two complex
``n x n`` arrays, besides the dense L and the temporaries of its construction: 6 arrays of 4.3 GB at N = 7).  L
preserves Hermiticity, so in the orthonormal Hermitian basis ``B`` (:func:`~symcoll.dynamics.spectrum.hermitian_pairs`)
it is the real matrix ``R = B^H L B``, and LAPACK ``dgeev`` gives its eigenvectors in real form ``Y``: a real
eigenvalue's vector is a column of ``Y``; a complex pair ``lambda, conj(lambda)`` (positive imaginary part first)
has the vectors ``y1 +- i y2`` in two adjacent columns.  With ``P`` the 2 x 2 blocks ``[[1, 1], [i, -i]]`` (1 for a
real eigenvalue), the complex eigenvectors of L are ``V = B Y P`` and ``V^-1 = P^-1 Y^-1 B^H``.  This module keeps
only ``Y`` and ``Y^-1`` (two *real* arrays, one complex one in all: 4.3 GB at N = 7) and never forms ``V``:

* propagation: ``x_r = B^H x``, ``c = Y^-1 x_r``, mode coefficients ``gamma = P^-1 c`` (``gamma_c = (c_c - i
  c_{c+1})/2``, ``gamma_{c+1} = (c_c + i c_{c+1})/2``), ``gamma_i exp(lambda_i t)`` back to real form by ``P``, one
  ``(T, n) x (n, n)`` product with ``Y^T``, then ``B``;
* the rounding estimate of :func:`~symcoll.dynamics.propagate.eig_rounding_estimate`, with ``kappa_i`` the row norms
  of ``V^-1`` (for a pair ``kappa_c = kappa_{c+1} = sqrt(||Y^-1_c||^2 + ||Y^-1_{c+1}||^2) / 2``; B is unitary and
  the columns of V have unit norm, as LAPACK normalises ``y1 + i y2``);
* the first-order response of the trajectory to the map's and the energies' errors: the mode-wise bound of
  :func:`~symcoll.dynamics.error_budget._modewise_response` (the one the dense path uses for blocks this large) and
  the trace-defect term of :func:`~symcoll.dynamics.error_budget.first_order_response`, with the rows of ``|V|``
  and of ``|V^-1|`` formed a chunk at a time from ``Y`` and ``Y^-1``;
* ``cond_2(V) = cond_2(Y D)`` (``P = D U`` with U unitary and D = sqrt 2 on the columns of a pair, 1 elsewhere;
  B is unitary), ``||Y D||_2`` and ``||D^-1 Y^-1||_2`` by Lanczos as on the dense path: an estimate.

Memory: R (which dgeev overwrites; its buffer then holds ``Y^-1``) and ``Y``: one complex ``n x n`` array, checked up
front.  Time: building R, one ``dgeev`` with right vectors (no progress can be shown inside it) and one real
inversion (``dgetrf`` + ``dgetri``); measured 64 s at N = 6 (one BLAS thread), ~33 min at N = 7 (two).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import scipy.linalg.lapack as lapack

from .lean_gap import NotRealForm, checked_real_generator
from .spectrum import _norm2, hermitian_pairs
from .tolerances import FLOAT64_EPS, DynamicsTolerances

__all__ = ["LeanSpectrum", "LEAN_SPECTRUM_MIN_N", "NO_DENSE_L_N", "NotRealForm", "applies", "lean_or_none"]

LEAN_SPECTRUM_MIN_N = 1024
"""Float64 generators of one invariant block with more than this many entries of ``vec rho`` (the exact map from
N = 6) get :class:`LeanSpectrum` instead of :class:`~symcoll.dynamics.spectrum.FloatSpectrum`: at N = 6 (one thread)
64 s and 0.7 GiB instead of 74 s and 2.7 GiB, the same states to 1.3e-15 and the same error budget."""

NO_DENSE_L_N = 8192
"""Above this (the exact map from N = 7) the dense L is never formed (6 arrays of 4.3 GB), so its invariant blocks
are not looked for: every float64 generator gets :class:`LeanSpectrum`."""


def lean_or_none(g):
    """:class:`LeanSpectrum` of ``g`` where it :func:`applies`, else None (the dense path).  A generator without a real
    form (:class:`NotRealForm`, e.g. a user's map that is not Hermiticity preserving) also gets None where its dense
    L may be formed (``d^2 <= NO_DENSE_L_N``), and the error beyond."""
    if not applies(g):
        return None
    try:
        return LeanSpectrum.of(g)
    except NotRealForm:
        if g.d * g.d > NO_DENSE_L_N:
            raise
        return None


def applies(g) -> bool:
    """Whether the float64 generator ``g`` gets :class:`LeanSpectrum` (:data:`LEAN_SPECTRUM_MIN_N`,
    :data:`NO_DENSE_L_N`)."""
    n = g.d * g.d
    return not g.ctx.is_mp and (n > NO_DENSE_L_N or (n > LEAN_SPECTRUM_MIN_N and len(g.blocks()) == 1))


CHUNK = 512
"""Rows of ``|V|`` or ``|V^-1|`` formed at once (complex ``(CHUNK, n)`` temporaries: 134 MB at N = 7)."""

R2 = 1 / math.sqrt(2)


@dataclass
class LeanSpectrum:
    """``L = B Y diag-blocks(lambda) Y^-1 B^H`` in float64 (module doc); the interface of
    :class:`~symcoll.dynamics.spectrum.FloatSpectrum` that the propagator, the error budget and the gap use.

    Attributes
    ----------
    lam : (n,) complex
        Eigenvalues (LAPACK order: a complex pair adjacent, positive imaginary part first).
    Y, Yinv : (n, n) float (Fortran order)
        Real-form eigenvectors of R (complex vectors of unit 2-norm) and their inverse (None if Y is singular).
    pairs : (dg, p, q)
        The Hermitian basis (:func:`~symcoll.dynamics.spectrum.hermitian_pairs`).
    cplx : int array
        First index of every complex pair.
    i0 : int
        Position of the stationary mode (smallest modulus).
    condV, normL : float
        ``cond_2(V)`` estimate (module doc) and ``||L||_F``.
    kappa : (n,) float
        ``||row i of V^-1||`` (``||v_i|| = 1``): the eigenvalue condition numbers.
    """

    lam: np.ndarray
    Y: np.ndarray
    Yinv: np.ndarray | None
    pairs: tuple
    cplx: np.ndarray
    i0: int
    condV: float
    normL: float
    kappa: np.ndarray

    # ---------------------------------------------------------------- construction
    @classmethod
    def of(cls, g) -> "LeanSpectrum":
        """Diagonalise the float64 generator ``g`` (a :class:`~symcoll.dynamics.Lindbladian` with a dense map)."""
        d = g.d
        n = d * d
        R, normL, _ = checked_real_generator(g, 1.1, "the real eigenvectors Y and Y^-1 of B^H L B")
        lwork = int(lapack.dgeev_lwork(n, compute_vl=0, compute_vr=1)[0])  # the blocked algorithms need it
        wr, wi, _, Y, info = lapack.dgeev(R, compute_vl=0, compute_vr=1, lwork=lwork, overwrite_a=1)
        if info != 0:
            raise np.linalg.LinAlgError(f"dgeev did not converge (info = {info})")
        lam = wr + 1j * wi
        cplx = np.flatnonzero(wi > 0)
        if (np.any(cplx + 1 >= n) or np.any(wi[np.minimum(cplx + 1, n - 1)] != -wi[cplx])
                or np.count_nonzero(wi) != 2 * len(cplx)):
            raise NotRealForm("dgeev returned complex eigenvalues that are not in adjacent conjugate pairs")
        Y = np.asfortranarray(Y)
        nrm = np.sqrt(np.einsum("ij,ij->j", Y, Y))  # unit complex vectors y1 + i y2: one norm per pair (no n x n temp)
        nrm[cplx] = nrm[cplx + 1] = np.hypot(nrm[cplx], nrm[cplx + 1])
        Y /= nrm
        R[...] = Y  # dgeev has destroyed R: its buffer holds Y^-1
        Yinv = _invert_in_place(R)
        del R
        kappa = np.full(n, math.inf)
        condV = math.inf
        if Yinv is not None:
            with np.errstate(over="ignore", invalid="ignore"):
                rn = np.sqrt(np.einsum("ij,ij->i", Yinv, Yinv))
            kappa = rn.copy()
            kappa[cplx] = kappa[cplx + 1] = np.hypot(rn[cplx], rn[cplx + 1]) / 2
            if np.all(np.isfinite(kappa)):  # else (an exactly defective L: Y^-1 ~ 1e292) cond(V) stays inf
                dcol = np.ones(n)  # W = Y P = (Y D) U, U unitary, D = sqrt 2 on the columns of a pair
                dcol[cplx] = dcol[cplx + 1] = math.sqrt(2)
                condV = _norm2_scaled(Y, dcol, None) * _norm2_scaled(Yinv, None, 1 / dcol)
        i0 = int(np.argmin(np.abs(lam)))
        return cls(lam, Y, Yinv, hermitian_pairs(np.arange(n), d), cplx, i0, condV, normL, kappa)

    # ---------------------------------------------------------------- FloatSpectrum interface
    @property
    def invertible(self) -> bool:
        return self.Yinv is not None

    @property
    def n(self) -> int:
        return len(self.lam)

    def relaxation_gap(self) -> float:
        """``min -Re lambda`` over every eigenvalue but the stationary one."""
        return float(np.min(-np.delete(self.lam, self.i0).real))

    def diagnostics(self) -> dict:
        return {"cond_V": self.condV, "norm_L": self.normL, "n": self.n, "blocks": 1, "max_block": self.n,
                "spectrum": "real form (LeanSpectrum)"}

    # ---------------------------------------------------------------- basis changes
    def to_real(self, x):
        """``B^H x`` (complex ``(n,)`` or ``(T, n)``; real for Hermitian rho)."""
        dg, p, q = self.pairs
        nd = len(dg)
        out = np.empty(np.shape(x), dtype=complex)
        out[..., :nd] = x[..., dg]
        out[..., nd::2] = (x[..., p] + x[..., q]) * R2
        out[..., nd + 1::2] = (x[..., p] - x[..., q]) * (-1j * R2)
        return out

    def from_real(self, xr):
        """``B x_r`` (the inverse of :meth:`to_real`)."""
        dg, p, q = self.pairs
        nd = len(dg)
        out = np.empty(np.shape(xr), dtype=complex)
        out[..., dg] = xr[..., :nd]
        out[..., p] = (xr[..., nd::2] + 1j * xr[..., nd + 1::2]) * R2
        out[..., q] = (xr[..., nd::2] - 1j * xr[..., nd + 1::2]) * R2
        return out

    def modes(self, x):
        """Mode coefficients ``gamma = V^-1 x`` of ``x = vec rho`` (complex ``(n,)``)."""
        c = _real_times(self.Yinv, self.to_real(x))
        g = c.copy()
        a, b = c[self.cplx], c[self.cplx + 1]
        g[self.cplx] = (a - 1j * b) / 2
        g[self.cplx + 1] = (a + 1j * b) / 2
        return g

    def combine(self, z):
        """``V z`` for mode amplitudes ``z`` (complex ``(T, n)``): ``B Y P z``."""
        zr = z.copy()
        a, b = z[:, self.cplx], z[:, self.cplx + 1]
        zr[:, self.cplx] = a + b
        zr[:, self.cplx + 1] = 1j * (a - b)
        return self.from_real(_real_times(self.Y, zr.T).T)

    # ---------------------------------------------------------------- propagation
    def propagate(self, x, times):
        """``(vecs (T, n), rounding (T,), diagnostics)``: :class:`~symcoll.dynamics.propagate.EigPropagator` on the
        real form (stationary eigenvalue snapped to 0 as there)."""
        from .propagate import eig_rounding_estimate

        if not self.invertible:
            raise np.linalg.LinAlgError("L is numerically defective (Y is singular)")
        u = FLOAT64_EPS
        lam = self.lam.copy()
        tol0 = DynamicsTolerances(u).zero_mode(self.normL, self.n, self.kappa[self.i0])
        diag = self.diagnostics()
        diag["zero_mode_snapped"] = bool(abs(lam[self.i0]) <= tol0)
        if diag["zero_mode_snapped"]:
            lam[self.i0] = 0.0
        gam = self.modes(x)
        vecs = self.combine(np.exp(np.outer(times, lam)) * gam[None, :])
        rnd = eig_rounding_estimate(lam, gam, self.kappa, self.condV, self.normL, times, float(np.linalg.norm(x)),
                                    u, self.i0)
        diag["kappa_max"] = float(self.kappa.max())
        return vecs, rnd, diag

    # ---------------------------------------------------------------- |V| and |V^-1| by chunks
    def _abs_v_rows(self):
        """Yield ``(positions in vec rho, |V[those rows]|)``, CHUNK rows at a time."""
        dg, p, q = self.pairs
        nd = len(dg)
        for a0 in range(0, nd, CHUNK):
            k = np.arange(a0, min(a0 + CHUNK, nd))
            yield dg[k], np.abs(self._w_rows(k))
        step = max(1, CHUNK // 2)
        for m0 in range(0, len(p), step):
            m = np.arange(m0, min(m0 + step, len(p)))
            ws, wa = self._w_rows(nd + 2 * m), self._w_rows(nd + 2 * m + 1)
            yield p[m], np.abs(ws + 1j * wa) * R2
            yield q[m], np.abs(ws - 1j * wa) * R2

    def _w_rows(self, k):
        """Rows ``k`` of ``W = Y P`` (complex)."""
        Yk = self.Y[k]
        W = Yk.astype(complex)
        W[:, self.cplx] = Yk[:, self.cplx] + 1j * Yk[:, self.cplx + 1]
        W[:, self.cplx + 1] = Yk[:, self.cplx] - 1j * Yk[:, self.cplx + 1]
        return W

    def _abs_vinv_rows(self):
        """Yield ``(modes i, |V^-1[i]|)`` (whole complex pairs per chunk)."""
        dg, p, q = self.pairs
        nd = len(dg)
        first = np.zeros(self.n + 1, dtype=bool)
        first[self.cplx] = True
        a0 = 0
        while a0 < self.n:
            a1 = min(a0 + CHUNK, self.n)
            if first[a1 - 1]:
                a1 += 1
            i = np.arange(a0, a1)
            Yi = self.Yinv[i]
            Wi = Yi.astype(complex)  # rows of W^-1 = P^-1 Y^-1
            c = self.cplx[(self.cplx >= a0) & (self.cplx < a1)] - a0
            Wi[c] = (Yi[c] - 1j * Yi[c + 1]) / 2
            Wi[c + 1] = (Yi[c] + 1j * Yi[c + 1]) / 2
            out = np.empty((len(i), self.n))  # columns of V^-1 = W^-1 B^H, in vec order
            out[:, dg] = np.abs(Wi[:, :nd])
            out[:, p] = np.abs(Wi[:, nd::2] - 1j * Wi[:, nd + 1::2]) * R2
            out[:, q] = np.abs(Wi[:, nd::2] + 1j * Wi[:, nd + 1::2]) * R2
            yield i, out
            a0 = a1

    def first_order_response(self, x, times, map_weight, energy_weight, tau, snapped, offdiag):
        """:func:`~symcoll.dynamics.error_budget.first_order_response` for the single block, by the mode-wise
        bound (``_modewise_response``: ``O(T n^2)``) and the trace-defect term, from chunks of ``|V|`` and ``|V^-1|``."""
        from .error_budget import _abs_integral, _min_kernel_sums

        T = np.asarray(times, dtype=float)
        lam = self.lam.copy()
        j0 = self.i0
        if snapped:
            lam[j0] = 0.0
        c = self.modes(np.asarray(x, dtype=complex))
        use_tau = tau is not None
        r = np.empty(self.n)  # sum_a |Wg_ia|
        e = np.empty(self.n)  # sum_a |W_ia| od_a
        w0max = 0.0
        for i, aW in self._abs_vinv_rows():
            r[i] = aW.sum(axis=1)
            e[i] = aW @ offdiag
            if use_tau and i[0] <= j0 <= i[-1]:
                w0max = float(aW[j0 - i[0]].max())
        if use_tau:
            r[j0] = 0.0
        s = np.zeros(self.n)  # column sums, maxima and tau-weighted sums of |V|
        mx = np.zeros(self.n)
        st = np.zeros(self.n)
        for xi, aV in self._abs_v_rows():
            s += aV.sum(axis=0)
            np.maximum(mx, aV.max(axis=0), out=mx)
            if use_tau:
                st += tau[xi] @ aV
        I = _abs_integral(lam, T)
        order = np.argsort(np.minimum(lam.real, 0.0), kind="stable")
        um = _min_kernel_sums(I, np.abs(c) * s, order) * r[None, :]
        uh = _min_kernel_sums(I, np.abs(c) * mx, order) * e[None, :]
        tau_t = 0.0
        if use_tau:
            ac = np.abs(c)
            if snapped:
                ac[j0] = 0.0
            tau_t = I @ (ac * st)  # (T,): sum_x tau_x int_0^t |y_x(s) (- y_x(inf))| ds
        fm = np.zeros(len(T))
        fh = np.zeros(len(T))
        for xi, aV in self._abs_v_rows():
            rm = map_weight * (um @ aV.T)
            if use_tau:
                rm += np.outer(tau_t, aV[:, j0] * w0max)
            np.maximum(fm, rm.max(axis=1), out=fm)
            np.maximum(fh, energy_weight * (uh @ aV.T).max(axis=1), out=fh)
        return fm, fh


def _norm2_scaled(A, dcol, drow):
    """``||diag(drow) A diag(dcol)||_2`` (None: no scaling) by Lanczos, as :func:`~symcoll.dynamics.spectrum._norm2`."""
    from scipy.sparse.linalg import LinearOperator

    dc = np.ones(A.shape[1]) if dcol is None else dcol
    dr = np.ones(A.shape[0]) if drow is None else drow
    op = LinearOperator(A.shape, dtype=A.dtype, matvec=lambda v: dr * (A @ (dc * np.ravel(v))),
                        rmatvec=lambda v: dc * (A.T @ (dr * np.ravel(v))))
    return _norm2(op)


def _real_times(A, z):
    """``A z`` for a real array A and a complex vector or matrix z (two real products)."""
    return A @ z.real + 1j * (A @ z.imag)


def _invert_in_place(A):
    """``A^-1`` written over A (LAPACK dgetrf + dgetri); None if A is singular."""
    lu, piv, info = lapack.dgetrf(A, overwrite_a=1)
    if info != 0:
        return None
    lwork = int(lapack.dgetri_lwork(A.shape[0])[0])
    inv, info = lapack.dgetri(lu, piv, lwork=lwork, overwrite_lu=1)
    return inv if info == 0 else None
