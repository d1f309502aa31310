"""Number-type contexts: one algorithm, several number types.

Numeric routines in symcoll (scattering (C1)-(C2), the maps (38), (45),
(54)-(56), the propagation of (71)) are written once against a small context
object, in the spirit of mpmath's contexts:

* :class:`FloatContext` -- numpy float64/complex128 arrays, vectorised;
* :class:`MPContext` -- numpy *object* arrays holding mpmath numbers of a private
  mpmath context at ``dps`` decimal digits (global ``mpmath.mp`` precision is never
  touched).

Both expose the same handful of operations (``sqrt``, ``exp``, ``solve``,
``eigh``, ``array``, ``real``, ``conj``, ``snap_small``, ``float_array``, ...) and the
working precision ``eps``; tolerances derived from it live in :class:`Tolerances` (one
place, scaled to the working precision).  Where the two number types need different
algorithms, the difference lives in the context and is named there: ``solve`` is a batched
LAPACK solve in float64 and Gaussian elimination on Python lists (:func:`gauss_solve`) in
mpmath.  A third context (ball arithmetic) has to provide the same methods.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import mpmath
import numpy as np

MIN_DPS = 15

MAP_TOL_FLOOR = 1e-40
"""Tightest default map tolerance (:meth:`Tolerances.map_default`); smaller ``tol`` must be asked for."""

WASTED_DIGITS_WARN = 20
"""A map built with ``dps`` more than this many digits above what its ``tol`` needs warns."""


def _check_dps(dps):
    if isinstance(dps, bool) or not isinstance(dps, (int, np.integer)):
        raise TypeError(f"dps must be an integer number of decimal digits (got {dps!r})")
    if dps < MIN_DPS:
        raise ValueError(
            f"dps must be >= {MIN_DPS} (got {dps}); use dps=None for float64 arithmetic"
        )
    return int(dps)


def gauss_solve(M, B):
    """Solve ``M X = B`` by Gaussian elimination with partial pivoting on Python lists.

    Parameters
    ----------
    M : list of n lists of n numbers
        The matrix (overwritten: rows are swapped and reduced in place).
    B : list of n lists of r numbers
        The right-hand sides, one row per equation (overwritten).

    Returns
    -------
    X : list of n lists of r numbers

    Plain Python lists: numpy object arrays make ``mpc * ndarray`` go through mpmath's slow
    conversion attempt (it formats the whole array) on every row operation.
    """
    n = len(M)
    r_cols = range(len(B[0])) if n else range(0)
    for c in range(n):
        piv = max(range(c, n), key=lambda r: abs(M[r][c]))
        if M[piv][c] == 0:
            raise np.linalg.LinAlgError("singular matrix in the linear solve")
        if piv != c:
            M[c], M[piv] = M[piv], M[c]
            B[c], B[piv] = B[piv], B[c]
        inv = 1 / M[c][c]
        rowc, bc = M[c], B[c]
        for r in range(c + 1, n):
            f = M[r][c] * inv
            if f:
                rowr, br = M[r], B[r]
                for k in range(c + 1, n):
                    rowr[k] = rowr[k] - f * rowc[k]
                for k in r_cols:
                    br[k] = br[k] - f * bc[k]
    X = [None] * n
    for r in range(n - 1, -1, -1):
        rowr = M[r]
        acc = list(B[r])
        for k in range(r + 1, n):
            xk = X[k]
            m = rowr[k]
            for q in r_cols:
                acc[q] = acc[q] - m * xk[q]
        X[r] = [a / rowr[r] for a in acc]
    return X


class _Context:
    """Operations written once for every context (they only use the context's primitives)."""

    def snap_small(self, x, tol):
        """``x`` with the entries of magnitude ``<= tol`` set to an exact zero (same shape)."""
        return np.where(self.abs(x) <= tol, self.mpf(0), x)

    def float_array(self, x):
        """float64 copy of a real array of the context's numbers (real part for complex ones)."""
        return np.asarray(self.to_float(x), dtype=float)

    def abs_float(self, x):
        """``|x|`` as a float64 array."""
        return np.asarray(self.to_float(self.abs(x)), dtype=float)


class FloatContext(_Context):
    """float64 / complex128 numpy arithmetic (vectorised)."""

    name = "float64"
    dps = 15
    is_mp = False
    eps = float(np.finfo(float).eps)
    real_dtype = np.float64
    complex_dtype = np.complex128

    def __repr__(self):
        return "FloatContext()"

    # scalars -------------------------------------------------------------
    def mpf(self, x):
        return float(x)

    def mpc(self, x, y=0.0):
        return complex(x, y)

    def to_float(self, x):
        return np.asarray(x, dtype=float) if np.ndim(x) else float(x)

    # arrays --------------------------------------------------------------
    def array(self, x, complex=False):
        return np.array(x, dtype=self.complex_dtype if complex else self.real_dtype)

    def zeros(self, shape, complex=True):
        return np.zeros(shape, dtype=self.complex_dtype if complex else self.real_dtype)

    def eye(self, n, complex=False):
        return np.eye(n, dtype=self.complex_dtype if complex else self.real_dtype)

    sqrt = staticmethod(np.sqrt)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    cos = staticmethod(np.cos)
    sin = staticmethod(np.sin)
    conj = staticmethod(np.conj)
    real = staticmethod(np.real)
    imag = staticmethod(np.imag)
    abs = staticmethod(np.abs)

    @property
    def pi(self):
        return math.pi

    def csqrt(self, x):
        """Principal complex square root of real ``x`` (``+i sqrt(|x|)`` for ``x < 0``).

        Builds the result from the real number so that no stray ``-0j`` can flip
        the branch (see DESIGN.md, branch pitfall).
        """
        x = np.asarray(x, dtype=float)
        r = np.sqrt(np.abs(x))
        return np.where(x >= 0, r + 0j, 1j * r)

    def solve(self, A, B):
        """Solve ``A X = B``, ``B`` of shape ``(..., n, r)`` (batched LAPACK ``gesv`` over leading axes)."""
        return np.linalg.solve(A, B)

    def empty(self, shape, complex=True):
        """Uninitialised array of ``shape`` for the context's numbers."""
        return np.empty(shape, dtype=self.complex_dtype if complex else self.real_dtype)

    def to_complex128(self, x):
        """``x`` as a complex128 array (no copy when it already is one)."""
        return np.asarray(x, dtype=complex)

    def eigh(self, H):
        """Eigen-decomposition of a Hermitian matrix, ascending eigenvalues."""
        w, U = np.linalg.eigh(np.asarray(H))
        return w, U

    def matmul(self, A, B):
        return np.matmul(A, B)


class MPContext(_Context):
    """mpmath arithmetic at ``dps`` digits on numpy object arrays (private mpmath context)."""

    is_mp = True

    def __init__(self, dps: int):
        self.dps = _check_dps(dps)
        self.mp = mpmath.MPContext()
        self.mp.dps = self.dps
        self.name = f"mpmath[{self.dps}]"
        self.eps = float(self.mp.eps)  # 2**(1 - prec)
        self._sqrt = np.frompyfunc(self.mp.sqrt, 1, 1)
        self._exp = np.frompyfunc(self.mp.exp, 1, 1)
        self._log = np.frompyfunc(self.mp.log, 1, 1)
        self._cos = np.frompyfunc(self.mp.cos, 1, 1)
        self._sin = np.frompyfunc(self.mp.sin, 1, 1)
        self._conj = np.frompyfunc(self.mp.conj, 1, 1)
        self._re = np.frompyfunc(self.mp.re, 1, 1)
        self._im = np.frompyfunc(self.mp.im, 1, 1)
        self._abs = np.frompyfunc(abs, 1, 1)
        self._mpf = np.frompyfunc(self.mp.mpf, 1, 1)
        self._mpc = np.frompyfunc(self.mp.mpc, 1, 1)

    def __repr__(self):
        return f"MPContext(dps={self.dps})"

    def mpf(self, x):
        return self.mp.mpf(x)

    def mpc(self, x, y=0):
        return self.mp.mpc(x, y)

    def to_float(self, x):
        if np.ndim(x):
            return np.array(np.frompyfunc(float, 1, 1)(self._re(x)), dtype=float)
        return float(self.mp.re(x))

    def array(self, x, complex=False):
        a = np.asarray(x, dtype=object) if not isinstance(x, np.ndarray) else x
        if a.dtype != object and np.iscomplexobj(a):
            out = np.empty(a.shape, dtype=object)
            flat = out.reshape(-1)
            for i, v in enumerate(a.reshape(-1)):
                flat[i] = self.mp.mpc(float(v.real), float(v.imag))
            return out
        conv = self._mpc if complex else self._mpf
        out = conv(a)
        return np.asarray(out, dtype=object)

    def zeros(self, shape, complex=True):
        z = self.mp.mpc(0) if complex else self.mp.mpf(0)
        out = np.empty(shape, dtype=object)
        out.fill(z)
        return out

    def eye(self, n, complex=False):
        out = self.zeros((n, n), complex=complex)
        for i in range(n):
            out[i, i] = self.mp.mpf(1)
        return out

    def sqrt(self, x):
        return self._sqrt(x) if np.ndim(x) else self.mp.sqrt(x)

    def exp(self, x):
        return self._exp(x) if np.ndim(x) else self.mp.exp(x)

    def log(self, x):
        return self._log(x) if np.ndim(x) else self.mp.log(x)

    def cos(self, x):
        return self._cos(x) if np.ndim(x) else self.mp.cos(x)

    def sin(self, x):
        return self._sin(x) if np.ndim(x) else self.mp.sin(x)

    def conj(self, x):
        return self._conj(x) if np.ndim(x) else self.mp.conj(x)

    def real(self, x):
        return self._re(x) if np.ndim(x) else self.mp.re(x)

    def imag(self, x):
        return self._im(x) if np.ndim(x) else self.mp.im(x)

    def abs(self, x):
        return self._abs(x) if np.ndim(x) else abs(x)

    @property
    def pi(self):
        return +self.mp.pi

    def csqrt(self, x):
        """Principal complex square root of real ``x`` (``+i sqrt(|x|)`` for ``x < 0``)."""
        def one(v):
            v = self.mp.re(v)
            return self.mp.mpc(self.mp.sqrt(v), 0) if v >= 0 else self.mp.mpc(0, self.mp.sqrt(-v))

        if np.ndim(x):
            return np.frompyfunc(one, 1, 1)(x)
        return one(x)

    def solve(self, A, B):
        """Solve ``A X = B`` (``B`` of shape ``(..., n, r)`` or ``(n,)``), batched over leading axes.

        Gaussian elimination with partial pivoting on Python lists (:func:`gauss_solve`), one
        elimination per matrix for all ``r`` right-hand sides.
        """
        A = np.asarray(A, dtype=object)
        B = np.asarray(B, dtype=object)
        if B.ndim == 1:
            return self.solve(A, B[:, None])[..., 0]
        lead = np.broadcast_shapes(A.shape[:-2], B.shape[:-2])
        A = np.broadcast_to(A, lead + A.shape[-2:])
        B = np.broadcast_to(B, lead + B.shape[-2:])
        out = np.empty(B.shape, dtype=object)
        for idx in np.ndindex(*lead):
            out[idx] = gauss_solve(A[idx].tolist(), B[idx].tolist())
        return out

    def empty(self, shape, complex=True):
        """Uninitialised object array of ``shape`` (every entry must be assigned before use)."""
        return np.empty(shape, dtype=object)

    def to_complex128(self, x):
        """complex128 copy of an array of mpmath numbers (rounded to double precision)."""
        return self.float_array(self.real(x)) + 1j * self.float_array(self.imag(x))

    def eigh(self, H):
        """Eigen-decomposition of a Hermitian matrix at ``dps`` digits, ascending eigenvalues."""
        H = np.asarray(H, dtype=object)
        n = H.shape[0]
        M = self.mp.matrix(n, n)
        is_real = all(self.mp.im(self.mp.mpc(H[i, j])) == 0 for i in range(n) for j in range(n))
        for i in range(n):
            for j in range(n):
                M[i, j] = self.mp.re(H[i, j]) if is_real else self.mp.mpc(H[i, j])
        if is_real:
            E, Q = self.mp.eigsy(M)
        else:
            E, Q = self.mp.eighe(M)
        w = [E[i] for i in range(n)]
        order = sorted(range(n), key=lambda i: w[i])
        wv = np.array([w[i] for i in order], dtype=object)
        U = np.empty((n, n), dtype=object)
        for a, i in enumerate(order):
            for r in range(n):
                U[r, a] = Q[r, i]
        return wv, U

    def matmul(self, A, B):
        return np.matmul(np.asarray(A, dtype=object), np.asarray(B, dtype=object))


def get_context(dps=None):
    """Context for ``dps`` decimal digits: float64 for ``None``, mpmath otherwise (``dps >= 15``)."""
    if dps is None:
        return FloatContext()
    return MPContext(dps)


@dataclass(frozen=True)
class Tolerances:
    """Every tolerance symcoll uses, scaled to the working precision ``eps``.

    Parameters
    ----------
    eps : float
        Unit round-off of the working precision (``ctx.eps``).
    """

    eps: float = float(np.finfo(float).eps)

    def degeneracy(self, scale: float, dim: int) -> float:
        """Two eigenvalues of a matrix of norm ``scale`` closer than this are treated as equal.

        ``eigh`` is backward stable: computed eigenvalues are exact for a matrix within
        ``~dim * eps * scale``; we allow a factor 16 above that.
        """
        return 16.0 * max(dim, 1) * self.eps * max(scale, 1.0)

    def bohr_equality(self, scale: float, dim: int) -> float:
        """Tolerance to decide ``Delta_{j'j} == Delta_{k'k}`` (two eigenvalue differences)."""
        return 4.0 * self.degeneracy(scale, dim)

    def hermitian(self, scale: float) -> float:
        """Largest ``|H - H^dagger|`` accepted as Hermitian."""
        return 100.0 * self.eps * max(scale, 1.0)

    @staticmethod
    def map_default(dps=None) -> float:
        """Default ``tol`` of :func:`symcoll.collision_map`, tied to the working precision.

        float64: ``1e-12``.  mpmath at ``dps`` digits: ``10**-(dps - 8)`` (8 digits of headroom for
        the rounding of the accumulation, ``16 d eps``, and the quadrature's acceptance floor),
        never looser than ``1e-12`` and never tighter than :data:`MAP_TOL_FLOOR` (``1e-40``; the
        quadrature's cost grows with the digits asked for: pass ``tol`` explicitly to go further).
        """
        if dps is None:
            return 1e-12
        return min(1e-12, max(10.0 ** (-(int(dps) - 8)), MAP_TOL_FLOOR))

    @staticmethod
    def map_dps_needed(tol: float) -> int:
        """Digits that a map of tolerance ``tol`` needs: ``ceil(-log10 tol) + 8`` (see :meth:`map_default`)."""
        return int(math.ceil(-math.log10(tol))) + 8

    def state_validation(self) -> float:
        """Slack accepted on Hermiticity, trace 1 and positivity of a user-given density matrix.

        Inputs are typically float64 even on the mpmath path, so this uses float64 eps
        (``1e5 * 2.2e-16 = 2.2e-11``) unless a smaller ``eps`` context asks for more.
        """
        return 1e5 * max(self.eps, float(np.finfo(float).eps))
