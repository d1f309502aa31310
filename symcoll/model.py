"""Validated physical inputs: the system, the bath of units, the coupling.

* :class:`System` -- any Hermitian system Hamiltonian H with its eigenbasis (Eq. (9)).
* :class:`QubitChain` -- the qubit chain of Eqs. (47) and (64), eigenbasis built band
  by band from ``[H_loc, H_int] = 0`` so that it is exact to rounding for every eps
  (including eps -> 0, where the plain eigen-solver loses the intra-band vectors).
* :class:`EffusionBath` -- the incident units: effusion distribution (40) and the
  Gaussian momentum coherence (41) of width ``sigma_p``.
* :class:`DeltaCoupling` -- the delta interaction ``g V delta(x)`` of Eq. (65) with
  ``V = sigma_x`` on ``site`` (or a user-supplied V).

Every bad value raises ``ValueError`` (``TypeError`` for the wrong kind) naming the
parameter and its allowed range.
"""
from __future__ import annotations

import hashlib
import math
import numbers
import sys
from dataclasses import dataclass, field
from fractions import Fraction

import mpmath
import numpy as np

from . import conventions as cv
from .numeric import Tolerances, get_context

# ----------------------------------------------------------------------------- helpers
def _real_param(name, value, *, positive=False, nonneg=False, nonzero=False, rng=None):
    """Validate a real finite scalar parameter and return it unchanged (exact types kept)."""
    if isinstance(value, bool):
        raise TypeError(f"{name} must be a real number (got bool {value!r})")
    if isinstance(value, str):
        try:
            x = float(mpmath.mpf(value))
        except (ValueError, TypeError) as exc:
            raise TypeError(f"{name} must be a real number (got {value!r})") from exc
    elif isinstance(value, (numbers.Real, mpmath.mpf, np.floating, np.integer)):
        x = float(value)
    elif _is_sympy_real(value):
        x = float(value)
    else:
        raise TypeError(f"{name} must be a real number (got {type(value).__name__})")
    allowed = rng or (
        "(0, inf)" if positive else "[0, inf)" if nonneg else "nonzero finite reals" if nonzero else "finite reals"
    )
    if not math.isfinite(x):
        raise ValueError(f"{name} must be finite, allowed range {allowed} (got {value!r})")
    if positive and not x > 0:
        raise ValueError(f"{name} must be > 0, allowed range {allowed} (got {value!r})")
    if nonneg and not x >= 0:
        raise ValueError(f"{name} must be >= 0, allowed range {allowed} (got {value!r})")
    if nonzero and x == 0:
        raise ValueError(f"{name} must be nonzero, allowed range {allowed} (got {value!r})")
    return value


def _is_sympy_real(value) -> bool:
    """True for a real numeric SymPy number; never imports SymPy (a SymPy object implies it is loaded)."""
    sympy = sys.modules.get("sympy")
    return sympy is not None and isinstance(value, sympy.Basic) and bool(value.is_real and value.is_number)


def to_ctx(ctx, value):
    """Convert a validated parameter to the context's number type (exactly where possible)."""
    if not ctx.is_mp:
        return float(value)
    if isinstance(value, Fraction):
        return ctx.mp.mpf(value.numerator) / value.denominator
    sympy = sys.modules.get("sympy")
    if sympy is not None and isinstance(value, sympy.Basic):
        if isinstance(value, sympy.Rational):
            return ctx.mp.mpf(int(value.p)) / int(value.q)
        return ctx.mp.mpf(sympy.N(value, ctx.dps + 10).__str__())
    if isinstance(value, (np.floating, np.integer)):
        value = value.item()
    return ctx.mp.mpf(value)


def _check_matrix(name, M, *, square=True, hermitian=True, real=False, dim=None):
    try:
        A = np.asarray(M)
    except Exception as exc:  # pragma: no cover - numpy raises many kinds
        raise TypeError(f"{name} must be a 2-D array of numbers") from exc
    if A.dtype == object:
        A = np.array(A.tolist(), dtype=complex)
    if A.ndim != 2 or (square and A.shape[0] != A.shape[1]):
        raise ValueError(f"{name} must be a square 2-D matrix (got shape {A.shape})")
    if dim is not None and A.shape[0] != dim:
        raise ValueError(f"{name} must have shape ({dim}, {dim}) to match the system (got {A.shape})")
    if not np.issubdtype(A.dtype, np.number):
        raise TypeError(f"{name} must hold numbers (got dtype {A.dtype})")
    if not np.all(np.isfinite(A)):
        raise ValueError(f"{name} must have finite entries")
    scale = float(np.max(np.abs(A))) if A.size else 0.0
    if hermitian:
        tol = Tolerances().hermitian(scale)
        if np.max(np.abs(A - A.conj().T)) > tol:
            raise ValueError(f"{name} must be Hermitian (max |{name} - {name}^dagger| > {tol:.1e})")
    if real and np.iscomplexobj(A) and np.max(np.abs(A.imag)) > Tolerances().hermitian(scale):
        raise ValueError(
            f"{name} must be real symmetric (time-reversal invariant, needed for the symmetry "
            "s_{j'j} = s_{jj'} behind detailed balance (42)-(43))"
        )
    return A


def check_density_matrix(rho, d=None, name="rho", tol=None):
    """Validate a density matrix; return it as complex128 (mpmath object arrays converted).

    Parameters
    ----------
    rho : (d, d) array_like
        Candidate state (float, complex or mpmath numbers).
    d : int, optional
        Required dimension.
    tol : float, optional
        Tolerance for Hermiticity, unit trace and positivity; default
        ``Tolerances().state_validation()``.

    Raises
    ------
    TypeError
        Not an array of numbers.
    ValueError
        Wrong shape, non-finite, not Hermitian, trace != 1 or not positive semidefinite.
    """
    try:
        a = np.asarray(rho)
    except Exception as exc:  # pragma: no cover - numpy raises many kinds
        raise TypeError(f"{name} must be a (d, d) array of numbers") from exc
    if a.dtype != object and not np.issubdtype(a.dtype, np.number):
        raise TypeError(f"{name} must hold numbers (got dtype {a.dtype})")
    if a.ndim != 2 or a.shape[0] != a.shape[1] or (d is not None and a.shape != (d, d)):
        want = f"({d}, {d})" if d is not None else "(d, d)"
        raise ValueError(f"{name} must be a square {want} density matrix (got shape {a.shape})")
    if a.dtype == object:
        c = np.array([complex(x) for x in a.reshape(-1)], dtype=complex).reshape(a.shape)
    else:
        c = a.astype(complex)
    if not np.all(np.isfinite(c)):
        raise ValueError(f"{name} must have finite entries")
    tol = Tolerances().state_validation() if tol is None else float(tol)
    herm = float(np.max(np.abs(c - c.conj().T)))
    if herm > tol:
        raise ValueError(f"{name} must be Hermitian (max |{name} - {name}^dagger| = {herm:.2e} > {tol:.1e})")
    tr = complex(np.trace(c))
    if abs(tr - 1) > tol:
        raise ValueError(f"{name} must have trace 1 (got {tr.real:.12g}; tolerance {tol:.1e})")
    wmin = float(np.linalg.eigvalsh((c + c.conj().T) / 2).min())
    if wmin < -tol:
        raise ValueError(f"{name} must be positive semidefinite (smallest eigenvalue {wmin:.2e} < -{tol:.1e})")
    return c


# ----------------------------------------------------------------------------- eigenbasis
@dataclass
class Eigensystem:
    """Eigenbasis of H (Eq. (9)) following :mod:`symcoll.conventions`.

    Attributes
    ----------
    energies : array (d,)
        Ascending eigenvalues ``eps_j`` (float64 or mpmath numbers).
    vectors : array (d, d)
        Column ``j`` is ``|j>`` in the local basis.
    degenerate_groups : list of tuple of int
        Sets of eigen-indices whose energies coincide (to the context's tolerance, or
        exactly by symmetry for the chain).  Observables that resolve single eigenstates
        inside such a group depend on the (deterministic) basis choice.
    bands : array of int or None
        Excitation number ``n_j`` of every eigenstate (chains only).
    context : str
        Number type used.
    """

    energies: np.ndarray
    vectors: np.ndarray
    degenerate_groups: list = field(default_factory=list)
    bands: np.ndarray | None = None
    context: str = "float64"

    @property
    def dim(self):
        return len(self.energies)

    @property
    def is_degenerate(self):
        return bool(self.degenerate_groups)

    def bohr(self):
        """Matrix ``Delta[j, k] = eps_j - eps_k`` (Eq. (22) notation ``Delta_{jk}``)."""
        e = self.energies
        return e[:, None] - e[None, :]


def _group_close(values, tol):
    """Consecutive groups of sorted values that lie within ``tol`` of their neighbour."""
    groups, cur = [], [0]
    for i in range(1, len(values)):
        if abs(values[i] - values[i - 1]) <= tol:
            cur.append(i)
        else:
            groups.append(cur)
            cur = [i]
    groups.append(cur)
    return [tuple(g) for g in groups if len(g) > 1]


def _canonical_degenerate_basis(ctx, U, cols):
    """Replace the columns ``cols`` of U (a degenerate eigenspace) by the canonical basis.

    Gram-Schmidt on the projections of the local basis vectors, in local-basis order.
    """
    B = U[:, list(cols)]
    g = len(cols)
    accepted = []
    # A row of B that is exactly zero projects e_i to the zero vector, which is never
    # accepted: skipping those rows changes nothing (and saves O(d) work per row for
    # chain eigenvectors, which vanish outside their band).
    for i in np.flatnonzero(np.any(B != 0, axis=1)):
        # projection of e_i onto the eigenspace: B B^dagger e_i
        v = B @ ctx.conj(B[i, :])
        for a in accepted:
            ov = (ctx.conj(a) * v).sum()
            v = v - ov * a
        nrm2 = float(ctx.to_float(ctx.real((ctx.conj(v) * v).sum())))
        if nrm2 > 1e-6:
            accepted.append(v / ctx.sqrt((ctx.conj(v) * v).sum()))
        if len(accepted) == g:
            break
    for c, a in zip(cols, accepted):
        U[:, c] = a
    return U


class System:
    """A system with Hermitian Hamiltonian H (Eq. (9)), given in some fixed basis.

    Parameters
    ----------
    H : (d, d) array_like
        Hermitian Hamiltonian in the basis the user works in (called "local" below).
    name : str
        Label used in outputs.

    Raises
    ------
    ValueError
        If H is not square, not finite or not Hermitian.
    """

    ladder = None

    def __init__(self, H, name: str = "system"):
        self._H = _check_matrix("H", H)
        self.name = str(name)
        self._eig_cache = {}

    @property
    def dim(self) -> int:
        return self._H.shape[0]

    def hamiltonian(self, dps=None):
        """H in the user's basis, as float64 (``dps=None``) or mpmath numbers."""
        ctx = get_context(dps)
        return ctx.array(self._H, complex=np.iscomplexobj(self._H))

    def describe(self) -> dict:
        return {"system": self.name, "dim": self.dim}

    def fingerprint(self) -> tuple:
        """Identity of the physical system: ``("System", d, sha256 of H as complex128)``.

        Two systems with equal fingerprints have the same Hamiltonian bit for bit, hence the
        same energies and eigenbasis (:meth:`eigensystem` is deterministic).  Collision maps
        record the fingerprint of the system they were built for, and every consumer
        (:class:`symcoll.Lindbladian`, ...) refuses a map of another system
        (:func:`check_map_system`).
        """
        H = np.ascontiguousarray(self._H, dtype=np.complex128)
        return ("System", self.dim, hashlib.sha256(H.tobytes()).hexdigest())

    def is_real_symmetric(self) -> bool:
        """True when H is real (symmetric) to the Hermiticity tolerance (time-reversal invariant)."""
        if not np.iscomplexobj(self._H):
            return True
        scale = float(np.max(np.abs(self._H))) if self._H.size else 0.0
        return bool(np.max(np.abs(self._H.imag)) <= Tolerances().hermitian(scale))

    def eigensystem(self, dps=None) -> Eigensystem:
        """Eigenbasis of H: ascending energies, canonical degenerate bases, phase rule."""
        key = dps
        if key not in self._eig_cache:
            self._eig_cache[key] = self._compute_eigensystem(get_context(dps))
        return self._eig_cache[key]

    def _compute_eigensystem(self, ctx) -> Eigensystem:
        H = self.hamiltonian(ctx.dps if ctx.is_mp else None)
        w, U = ctx.eigh(H)
        wf = ctx.to_float(w)
        scale = float(np.max(np.abs(self._H))) * self.dim if self.dim else 1.0
        tol = Tolerances(ctx.eps).degeneracy(scale, self.dim)
        groups = _group_close(wf, tol)
        if not ctx.is_mp:
            U = np.array(U, dtype=complex if np.iscomplexobj(U) else float)
        for grp in groups:
            U = _canonical_degenerate_basis(ctx, U, grp)
        U = cv.fix_phases(U)
        return Eigensystem(w, U, groups, None, ctx.name)


def check_map_system(system, collision_map, what="collision_map"):
    """Refuse a collision map that was built for another system than ``system``.

    A map's entries ``S^{jk}_{j'k'}`` refer to the energies and eigenbasis of the system it
    was built for (Eqs. (17), (38)); used with another Hamiltonian, even one with the same
    eigenvectors (another h, eps > 0 or ladder convention), it gives wrong dynamics with a
    small reported error.  The map must record its system: ``system_fingerprint`` (set by
    :func:`symcoll.collision_map`) or a ``system`` attribute with a ``fingerprint()``.

    Raises
    ------
    TypeError
        The map records no system.
    ValueError
        The map was built for another system (the message names both).
    """
    fp = getattr(collision_map, "system_fingerprint", None)
    msys = getattr(collision_map, "system", None)
    if fp is None and msys is not None and hasattr(msys, "fingerprint"):
        fp = msys.fingerprint()
    if fp is None:
        raise TypeError(
            f"{what} must record the system it was built for (a .system with fingerprint(), "
            "as CollisionMap and TensorMap do)")
    if fp != system.fingerprint():
        built = getattr(msys, "name", None) or str(fp)
        raise ValueError(
            f"{what} was built for {built}, not for {system.name}: its entries refer to the other "
            "system's energies and eigenbasis; build the map for this system")


@dataclass(frozen=True)
class EffusionBath:
    """Thermal units: effusion distribution (40) and Gaussian coherence (41).

    ``mu_eff(p) = (beta p / m) exp(-beta p^2 / (2m))`` for ``p > 0`` (Eq. (40)) and
    ``rho_U(p, p') = mu_eff((p + p')/2) exp(-(p - p')^2 / (2 sigma_p^2))`` (Eq. (41)).
    ``sigma_p = 0`` is the narrow-packet limit (44) behind the global map (45).

    Parameters
    ----------
    beta : float
        Inverse temperature, ``beta > 0``.
    m : float
        Mass of the units, ``m > 0``.
    sigma_p : float
        Effective momentum dispersion, ``sigma_p >= 0``.
    """

    beta: float
    m: float
    sigma_p: float = 0.0

    def __post_init__(self):
        _real_param("beta", self.beta, positive=True)
        _real_param("m", self.m, positive=True)
        _real_param("sigma_p", self.sigma_p, nonneg=True)

    def mu_eff(self, p, dps=None):
        """Effusion distribution ``mu_eff(p)`` of Eq. (40) (zero for ``p <= 0``)."""
        ctx = get_context(dps)
        b, m = to_ctx(ctx, self.beta), to_ctx(ctx, self.m)
        if ctx.is_mp:
            f = lambda x: (b * x / m) * ctx.mp.exp(-b * x * x / (2 * m)) if x > 0 else ctx.mp.mpf(0)
            return np.frompyfunc(f, 1, 1)(ctx.array(p)) if np.ndim(p) else f(ctx.mpf(p))
        p = np.asarray(p, dtype=float)
        out = np.where(p > 0, (b * p / m) * np.exp(-b * p * p / (2 * m)), 0.0)
        return out if out.ndim else float(out)

    def rho_U(self, p, q, dps=None):
        """Momentum density matrix ``rho_U(p, q)`` of Eq. (41)."""
        ctx = get_context(dps)
        s = to_ctx(ctx, self.sigma_p)
        mu = self.mu_eff((np.asarray(p, dtype=object if ctx.is_mp else float) + q) / 2, dps)
        if float(self.sigma_p) == 0.0:
            same = np.asarray(p == q) if not ctx.is_mp else np.frompyfunc(lambda a, c: a == c, 2, 1)(p, q)
            return mu * same
        diff = np.asarray(p, dtype=object if ctx.is_mp else float) - q
        return mu * ctx.exp(-(diff * diff) / (2 * s * s))

    @property
    def thermal_momentum(self) -> float:
        """``sqrt(m / beta)``, the momentum scale of (40)."""
        return math.sqrt(float(self.m) / float(self.beta))

    def describe(self) -> dict:
        return {"beta": float(self.beta), "m": float(self.m), "sigma_p": float(self.sigma_p)}


class DeltaCoupling:
    """Delta interaction ``g V delta(x)`` between unit and system (Eq. (65)).

    Parameters
    ----------
    g : float
        Coupling strength, any nonzero finite real.
    site : int
        Qubit (1-based) on which ``V = sigma_x`` acts for a :class:`QubitChain`.
    V : (d, d) array_like, optional
        Explicit real-symmetric coupling operator in the system's basis; overrides
        ``site`` (needed for a generic :class:`System`).
    """

    def __init__(self, g, site: int = 1, V=None):
        self.g = _real_param("g", g, nonzero=True)
        if isinstance(site, bool) or not isinstance(site, (int, np.integer)):
            raise TypeError(f"site must be an integer qubit index (1-based) (got {site!r})")
        if site < 1:
            raise ValueError(f"site must be in 1..N (1-based qubit index) (got {site})")
        self.site = int(site)
        self._V = None if V is None else _check_matrix("V", V, real=True)

    def __repr__(self):
        return f"DeltaCoupling(g={self.g}, site={self.site}{', V=<matrix>' if self._V is not None else ''})"

    def operator(self, system) -> np.ndarray:
        """The operator V in the system's (local) basis."""
        if self._V is not None:
            if self._V.shape != (system.dim, system.dim):
                raise ValueError(
                    f"V must have shape ({system.dim}, {system.dim}) to match the system (got {self._V.shape})"
                )
            return self._V
        from .chain import QubitChain  # at call time: chain builds on this module

        if isinstance(system, QubitChain):
            if self.site > system.N:
                raise ValueError(f"site must be in 1..N = 1..{system.N} (got {self.site})")
            return cv.site_operator(cv.SIGMA_X.real, self.site, system.N)
        raise ValueError("a generic System needs an explicit V: DeltaCoupling(g, V=matrix)")

    def describe(self) -> dict:
        return {"g": float(self.g), "site": self.site, "V": "sigma_x" if self._V is None else "user"}


# The qubit chain (64) lives in symcoll.chain (it builds on System) and is re-exported here on first use (PEP 562):
# an import at the end of this module made ``import symcoll.chain`` as a process's first import fail (circular), and
# with it the unpickling of a QubitChain or a map in a fresh process (e.g. a Dask worker).
_CHAIN_NAMES = ("DENSE_MEMORY_LIMIT", "MAX_CHAIN_QUBITS", "MP_ENTRY_BYTES", "QubitChain")


def __getattr__(name):
    if name in _CHAIN_NAMES:
        from . import chain

        return getattr(chain, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
