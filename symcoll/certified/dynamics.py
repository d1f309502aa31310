"""Certified Lindblad dynamics (7)/(71) in Arb ball arithmetic: enclosures of rho(t) and rho_ss.

``Lindbladian(system, cmap, Gamma)`` with a certified map (``cmap.certified is True``)
returns a :class:`CertifiedLindbladian`.  Its generator (Eq. (71), eigenbasis of H(eps),
``hbar = 1``, column stacking ``vec(rho)[j + d k] = rho[j, k]``)

    L = -i [H, .] + Gamma (S - I),    L[j + d k, j + d k] += -i (eps_j - eps_k) - Gamma

is an Arb ball matrix that contains the generator of every map in the balls of
``cmap.balls()`` with energies in ``cmap.energy_balls()``, in particular the true one.  Every
result is an enclosure of the true value; the proofs are in ``README_derivations.md, 'Certified dynamics'``
(to be merged into README_derivations.md) and summarised in the docstrings below.

* :meth:`CertifiedLindbladian.evolve` -> :class:`CertifiedEvolution`: ``rho(t) = exp(L t) rho0``
  blockwise (invariant blocks of L: connected components of its structural non-zeros, i.e.
  entries that are the exact ball 0), each block by a verified eigendecomposition
  ``L_B = R diag(lambda) R^{-1}`` (``acb_mat.eig(right=True)``, ``acb_mat.inv``), with the
  stationary eigenvalue set to exactly 0 (proof in :func:`_zero_eigenvalue`); fallback when the
  eigenvalues do not isolate after raising the precision: ``acb_mat.exp`` (scaling and squaring).
* :meth:`CertifiedLindbladian.steady_state` -> :class:`CertifiedSteadyState`: the bordered
  system ``A x = e_0`` (row (0,0) of L replaced by the trace functional) by ``acb_mat.solve``,
  raising the working precision and rebuilding the map (``cmap.rebuild``) until the radius is
  below ``target``.

Working precision: Arb's global ``flint.ctx.prec`` is set for the duration of each call and
restored afterwards (not thread safe: python-flint has one global context).
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

import numpy as np
from flint import acb, acb_mat, arb, ctx

from ..budget import ErrorBudget
from ..dynamics.generator import Lindbladian, _check_gamma, _check_times
from ..dynamics.results import Evolution, SteadyState
from ..dynamics.spectrum import invariant_blocks
from ..model import check_density_matrix, check_map_system

__all__ = [
    "CertifiedLindbladian",
    "CertifiedEvolution",
    "CertifiedSteadyState",
    "DEFAULT_PREC",
    "MAX_PREC",
    "workprec",
    "acb_mid_rad",
    "ball_radius",
    "matrices_enclosure",
]

DEFAULT_PREC = 128
"""Default working precision in bits (at least the map's ``prec``)."""

MAX_PREC = 2048
"""Largest working precision the automatic precision raise goes to (``max_prec=`` overrides)."""

EIG_PREC_STEPS = 3
"""How many times :meth:`CertifiedLindbladian.evolve` doubles the precision before the fallback."""

EXPM_MAX_NORM = 1e3
"""(Unused since the binary-powers propagation of :meth:`CertifiedLindbladian._expm_block`; kept for callers.)"""


MAP_LIMITED_FACTOR = 1e-8
"""Radius factor of a map rebuild when a block's eigenvalues isolate for the midpoint matrix but not for the
balls (at small eps the eigenvalues of (71) cluster within ~Gamma eps^2: N = 3, eps = 5e-5 needs ~1e-28)."""

CP_KINDS = ("global", "local")
"""Map kinds that are completely positive by construction (Kraus forms (46), (57)-(59)): their generators
are trace-norm contractions, which :meth:`CertifiedLindbladian._evolve_cp` uses."""


class _MapLimited(Exception):
    """A block's eigenvalues do not isolate because of the map's radius (internal signal)."""


# ----------------------------------------------------------------------------- helpers
@contextmanager
def workprec(bits):
    """Set ``flint.ctx.prec`` to ``bits`` inside the block (restored on exit)."""
    old = ctx.prec
    ctx.prec = int(bits)
    try:
        yield
    finally:
        ctx.prec = old


def _float_up(x: arb) -> float:
    """A float64 ``>= x`` for an exact non-negative arb ``x``.

    ``float(x)`` rounds by less than one ulp of its result (to nearest or towards zero), so the
    next float up is ``>= x``; an ``x`` below the smallest subnormal that rounds to 0 is below
    ``nextafter(0, inf)``.  Overflow gives ``inf`` (still an upper bound)."""
    return float(np.nextafter(float(x), np.inf))


def acb_mid_rad(z: acb):
    """``(m, r)``: complex128 ``m`` and float64 ``r`` with ``|w - m| <= r`` for every ``w`` in the ball ``z``.

    ``m`` rounds the ball's midpoint to float64; ``r`` is an upper bound of
    ``|Re w - Re m| + |Im w - Im m| >= |w - m|``, computed in ball arithmetic from the exact float
    ``m`` (``abs(z.real - Re m).upper()`` encloses the worst case over the ball including the
    midpoint's rounding), then rounded up to float64 (:func:`_float_up`)."""
    re, im = float(z.real.mid()), float(z.imag.mid())
    e = (abs(z.real - re) + abs(z.imag - im)).upper()
    return complex(re, im), _float_up(e)


def matrices_enclosure(mats):
    """``(mid, rad)`` numpy arrays ``[T, d, d]`` of a list of ``d x d`` acb_mat (see :func:`acb_mid_rad`)."""
    T = len(mats)
    d = mats[0].nrows() if T else 0
    mid = np.zeros((T, d, d), dtype=complex)
    rad = np.zeros((T, d, d))
    for t, M in enumerate(mats):
        for j in range(d):
            for k in range(d):
                mid[t, j, k], rad[t, j, k] = acb_mid_rad(M[j, k])
    return mid, rad


def _map_radius(cmap) -> float:
    """Largest radius of the map's balls (``cmap.ball_radius`` when it has one, else its ``error_bound``)."""
    r = getattr(cmap, "ball_radius", None)
    return float(cmap.error_bound if r is None else r)


def ball_radius(mats) -> float:
    """Largest ``rad(Re) + rad(Im)`` over the entries of the acb_mat(s): the radius of the Arb balls
    themselves (without the float64 rounding of the midpoint that :func:`acb_mid_rad` adds)."""
    r = 0.0
    for M in mats:
        for j in range(M.nrows()):
            for k in range(M.ncols()):
                z = M[j, k]
                r = max(r, _float_up((z.real.rad() + z.imag.rad()).upper()))
    return r


def _hermitian_part(M: acb_mat) -> acb_mat:
    """``(M + M^dagger) / 2`` in balls: contains the true value when the true matrix is Hermitian."""
    d = M.nrows()
    out = acb_mat(d, d)
    for j in range(d):
        for k in range(d):
            out[j, k] = (M[j, k] + M[k, j].conjugate()) / 2
    return out


def _check_certified(cmap, name="collision_map"):
    if not getattr(cmap, "certified", False):
        raise TypeError(
            f"{name} must be a certified map (certified=True, e.g. collision_map(..., certified=True)); "
            f"got {type(cmap).__name__} without certified=True: use symcoll.dynamics.Lindbladian for float64/mpmath maps")
    for attr in ("balls", "energy_balls", "prec", "dim"):
        if not hasattr(cmap, attr):
            raise TypeError(f"{name} claims certified=True but has no .{attr} (not a certified map)")


def _unvec_balls(x: acb_mat, col: int, d: int) -> acb_mat:
    """``rho[j, k] = x[j + d k, col]`` (column stacking, :func:`symcoll.conventions.vec`)."""
    M = acb_mat(d, d)
    for j in range(d):
        for k in range(d):
            M[j, k] = x[j + d * k, col]
    return M


def _state_to_balls(rho0, d):
    """``rho0`` (float/complex array, exact; or an acb_mat) as a ``d x d`` acb_mat, and whether it
    is exactly Hermitian."""
    if isinstance(rho0, acb_mat):
        if (rho0.nrows(), rho0.ncols()) != (d, d):
            raise ValueError(f"rho0 must have shape ({d}, {d}) (got {rho0.nrows()} x {rho0.ncols()})")
        M = rho0
        herm = all(M[j, k] == M[k, j].conjugate() and M[j, k].is_exact() for j in range(d) for k in range(d))
        return M, herm
    a = check_density_matrix(rho0, d, "rho0")  # complex128, validated (Hermitian, trace 1, PSD within tol)
    M = acb_mat(d, d)
    for j in range(d):
        for k in range(d):
            M[j, k] = acb(float(a[j, k].real), float(a[j, k].imag))  # floats are exact in arb
    herm = bool(np.all(a == a.conj().T))
    return M, herm


# ----------------------------------------------------------------------------- results
@dataclass
class CertifiedEvolution(Evolution):
    """Result of :meth:`CertifiedLindbladian.evolve` (an :class:`~symcoll.dynamics.Evolution`).

    ``states`` are the complex128 midpoints; ``balls`` the Arb enclosures (one ``d x d`` acb_mat
    per time); :meth:`enclosure` gives ``(mid, rad)`` with ``|rho_jk(t) - mid| <= rad`` entrywise
    (a bound: it includes the rounding of the midpoint to float64).  ``error`` has one part,
    ``"enclosure"`` (kind ``"bound"``): per time the largest entry radius.
    """

    balls: list = field(default_factory=list)
    rad: np.ndarray = None
    energies: list = None
    prec: int = None

    def enclosure(self):
        """``(mid, rad)``, shape ``[T, d, d]``: complex128 midpoints, float64 radii (rounded up)."""
        return self.states.copy(), self.rad.copy()

    def to_local(self):
        raise ValueError("the certified path has no certified eigenvectors of H(eps) to rotate to the local basis; "
                         "use the eigenbasis states (the basis of the certified map)")


@dataclass
class CertifiedSteadyState(SteadyState):
    """Result of :meth:`CertifiedLindbladian.steady_state` (a :class:`~symcoll.dynamics.SteadyState`).

    ``state`` is the complex128 midpoint, ``balls`` the Arb enclosure, ``rad`` the float64 radii
    (``|rho_ss,jk - state_jk| <= rad_jk``, a bound including the float64 rounding of the
    midpoint).  ``error`` has one part ``"enclosure"`` (kind ``"bound"``): the largest radius.
    ``map`` is the certified map finally used (rebuilt if its radius limited the result),
    ``prec`` the working precision in bits, ``history`` the attempts ``(prec, map radius, radius)``.
    ``residual`` and ``sigma_min`` are not computed on this path (NaN): the enclosure replaces them.
    """

    balls: acb_mat = None
    rad: np.ndarray = None
    energies: list = None
    prec: int = None
    map: object = None
    history: list = field(default_factory=list)

    def enclosure(self):
        """``(mid, rad)``, shape ``[d, d]``."""
        return np.array(self.state, dtype=complex), self.rad.copy()


# ----------------------------------------------------------------------------- the generator
class CertifiedLindbladian(Lindbladian):
    """Generator (7)/(71) of a certified map in Arb balls; results are enclosures.

    Made by :class:`symcoll.dynamics.Lindbladian` when its map has ``certified=True``.

    Parameters
    ----------
    system : System or QubitChain
        Must be the system the map was built for (:func:`symcoll.model.check_map_system`).
    collision_map : certified map
        ``certified``, ``dim``, ``prec``, ``balls()`` (the ``d^2 x d^2`` superoperator in balls),
        ``energy_balls()``, ``error``, ``rebuild(tol, dps)``.
    Gamma : float
        Collision rate ``>= 0``; the float is taken as exact.
    dps : int or None
        Working precision in digits for the ball arithmetic (``None``: ``max(DEFAULT_PREC, cmap.prec)`` bits).
    prec : int or None
        Working precision in bits (overrides ``dps``).
    """

    def __init__(self, system, collision_map, Gamma, dps=None, prec=None):
        _check_certified(collision_map)
        self.system = system
        self.map = collision_map
        self.Gamma_param = _check_gamma(Gamma)
        self.d = d = system.dim
        if int(collision_map.dim) != d:
            raise ValueError(f"collision_map.dim must equal the system's dimension {d} (got {collision_map.dim})")
        check_map_system(system, collision_map)
        if prec is None:
            prec = DEFAULT_PREC if dps is None else int(math.ceil(int(dps) * math.log2(10))) + 10
        if isinstance(prec, bool) or not isinstance(prec, (int, np.integer)) or not 53 <= prec <= 1 << 20:
            raise ValueError(f"prec must be an integer number of bits in [53, 2**20] (got {prec!r})")
        self.prec = max(int(prec), int(collision_map.prec))
        self.dps = dps
        self._blocks = None
        self._Lcache = {}
        self._ss = {}

    # --------------------------------------------------------------- construction
    def describe(self) -> dict:
        desc = dict(self.system.describe()) if hasattr(self.system, "describe") else {}
        desc.update({
            "map_kind": getattr(self.map, "kind", "unknown"),
            "Gamma": float(self.Gamma_param),
            "precision": f"arb {self.prec} bits",
            "map_error_bound": getattr(self.map, "error_bound", None),
            "map_error_rigorous": True,
            "equation": "(71): drho/dt = -i[H(eps), rho] + Gamma (S - I) rho, hbar = 1, eigenbasis of H(eps)",
        })
        return desc

    def generator_balls(self, cmap=None, prec=None, midpoint=False) -> acb_mat:
        """The ball matrix of L (Eq. (71)), ``d^2 x d^2``, column stacking.

        Contains ``-i(eps_j - eps_k) delta + Gamma (S - I)`` for every S in ``cmap.balls()`` and
        energies in ``cmap.energy_balls()`` (ball arithmetic); the Bohr frequency of a population
        (j = k) is the exact 0.  ``midpoint=True`` uses the exact midpoints of the map's and the
        energies' balls (a point matrix: used to tell precision-limited from map-limited radii).
        """
        cmap = self.map if cmap is None else cmap
        prec = self.prec if prec is None else prec
        key = (id(cmap), prec, midpoint)
        if key in self._Lcache:
            return self._Lcache[key]
        d, n = self.d, self.d * self.d
        with workprec(prec):
            S = cmap.balls()
            if (S.nrows(), S.ncols()) != (n, n):
                raise ValueError(f"collision_map.balls() must be {n} x {n} (got {S.nrows()} x {S.ncols()})")
            E = list(cmap.energy_balls())
            if len(E) != d:
                raise ValueError(f"collision_map.energy_balls() must have {d} entries (got {len(E)})")
            if midpoint:
                S = S.mid()
                E = [e.mid() for e in E]
            G = arb(float(self.Gamma_param))
            L = S * acb(G)
            for a in range(n):
                j, k = a % d, a // d
                v = L[a, a] - G
                if j != k:
                    v = v - acb(0, 1) * (E[j] - E[k])
                L[a, a] = v
        if len(self._Lcache) >= 4:
            self._Lcache.pop(next(iter(self._Lcache)))
        self._Lcache[key] = L
        return L

    def superoperator(self):
        """complex128 midpoints of :meth:`generator_balls` (for inspection; not an enclosure)."""
        L = self.generator_balls()
        n = L.nrows()
        return np.array([[complex(float(L[a, b].real.mid()), float(L[a, b].imag.mid())) for b in range(n)]
                         for a in range(n)])

    superoperator_float = superoperator

    def blocks(self):
        """Invariant blocks of L: connected components of the entries that are not the exact ball 0.

        An exact-zero ball is zero for every matrix in the family, so every member (the true
        generator included) is block diagonal on these index sets.
        """
        if self._blocks is None:
            L = self.generator_balls()
            n = L.nrows()
            pat = np.array([[0.0 if L[a, b].is_zero() else 1.0 for b in range(n)] for a in range(n)])
            self._blocks = invariant_blocks(pat)
        return self._blocks

    def _not_here(self, *args, **kwargs):
        raise TypeError("not available on the certified path (ball arithmetic): use evolve() / steady_state(), "
                        "or symcoll.dynamics.Lindbladian with a float64/mpmath map")

    spectrum = refined_blocks = map_norm_11 = map_error_propagated = propagator = to_qutip = _not_here

    def apply(self, rho):
        """``L rho`` in balls (a ``d x d`` acb_mat) for a ``(d, d)`` array or acb_mat."""
        d = self.d
        M, _ = _state_to_balls(rho, d) if not isinstance(rho, acb_mat) else (rho, None)
        with workprec(self.prec):
            x = acb_mat(d * d, 1)
            for j in range(d):
                for k in range(d):
                    x[j + d * k, 0] = M[j, k]
            return _unvec_balls(self.generator_balls() * x, 0, d)

    # --------------------------------------------------------------- propagation
    @staticmethod
    def _population_positions(idx, d):
        return [p for p, a in enumerate(idx) if a % d == a // d]

    def _eig_block(self, LB, has_population, prec):
        """Verified eigendecomposition of one block: ``(lam, R, Rinv)`` or None if it does not isolate.

        Proof (README_derivations.md, 'Certified dynamics', "Eigendecomposition enclosure"): on success
        ``acb_mat.eig`` returns balls each containing an eigenvalue of every matrix in the
        family, and eigenvector balls (columns of R) containing a corresponding eigenvector; we
        check that the n balls are pairwise disjoint, so each contains exactly one eigenvalue
        (n balls, n eigenvalues) and every member is diagonalisable with R_A in R.
        ``acb_mat.inv(R)`` encloses ``R_A^{-1}`` for every ``R_A`` in R (it fails unless all are
        invertible).
        """
        n = LB.nrows()
        with workprec(prec):
            try:
                lam, R = LB.eig(right=True)
            except (ValueError, ZeroDivisionError, ArithmeticError):
                return None
            if not all(x.is_finite() for x in lam):
                return None
            for i in range(n):
                for j in range(i + 1, n):
                    if lam[i].overlaps(lam[j]):
                        return None
            lam = list(lam)
            if has_population:
                lam = _zero_eigenvalue(lam)
            try:
                Rinv = R.inv()
            except (ValueError, ZeroDivisionError, ArithmeticError):
                return None
        return lam, R, Rinv

    def evolve(self, rho0, times, basis="eigen", method="auto", hermitize=True, target=None, max_prec=None,
               max_rebuilds=4):
        """Enclosures of ``rho(t) = exp(L t) rho0`` (Eq. (71)) at ``times``.

        Parameters
        ----------
        rho0 : (d, d) array or acb_mat
            Initial state in the **eigenbasis** of H(eps) (its float entries are taken as exact).
        times : float or 1-D array, ``t >= 0``
        basis : {"eigen"}
            ``"local"`` needs certified eigenvectors of H(eps) (``cmap.eigenvector_balls()``); without
            them it raises ValueError.
        method : {"auto", "eig", "expm"}
            ``"auto"``: verified eigendecomposition per block; when a block's eigenvalues do not
            isolate, the precision is doubled (up to ``EIG_PREC_STEPS`` times) if the point matrix
            of midpoints does not isolate either, else the map is rebuilt with a 1e4 times smaller
            radius (up to ``max_rebuilds`` times); then ``acb_mat.exp`` (scaling and squaring) if
            ``||L_B||_inf t <= EXPM_MAX_NORM``, else ValueError.  ``"eig"`` never uses
            ``acb_mat.exp``; ``"expm"`` always does (same norm limit).
        hermitize : bool
            Return ``(X + X^dagger)/2`` of the enclosure ``X`` (contains the true, Hermitian
            rho(t) when rho0 is exactly Hermitian; skipped otherwise).
        target : float or None
            If given, the largest radius of the Arb balls (:func:`ball_radius`; the float64
            enclosure adds the midpoint's rounding, <= 1.2e-16 for entries <= 1) must end ``<= target``: the map is rebuilt (radius times
            ``0.1 target / radius``) up to ``max_rebuilds`` times, else ValueError.
        max_prec : int or None
            Precision limit of the automatic raise (bits, default :data:`MAX_PREC`).
        max_rebuilds : int >= 0

        Returns
        -------
        CertifiedEvolution
        """
        if method not in ("auto", "eig", "expm"):
            raise ValueError(f"method must be 'auto', 'eig' or 'expm' on the certified path (got {method!r})")
        if target is not None and (isinstance(target, bool) or not isinstance(target, (int, float, np.floating))
                                   or not 0 < target < 1):
            raise ValueError(f"target must be None or a float in (0, 1) (got {target!r})")
        t = _check_times(times)
        M0, herm = self._initial_state(rho0, basis)
        max_prec = MAX_PREC if max_prec is None else int(max_prec)
        t0 = time.perf_counter()
        cmap, rebuilds, history = self.map, 0, []
        while True:
            if method == "auto" and getattr(cmap, "kind", None) in CP_KINDS and herm:
                try:
                    mats, mid, rad, info, wprec = self._evolve_cp(cmap, M0, t, max_prec, hermitize)
                except _MapLimited:
                    mats = None
                if mats is not None:
                    cmap, rebuilds, done = self._accept(cmap, mats, target, rebuilds, max_rebuilds, history)
                    if done:
                        break
                    continue
            try:
                Y, info = self._propagate(cmap, M0, t, method, max_prec, allow_expm=rebuilds >= max_rebuilds)
            except _MapLimited as exc:
                if rebuilds >= max_rebuilds:
                    raise ValueError(f"{exc} after {rebuilds} map rebuilds: raise max_rebuilds, rebuild the map with a "
                                     "smaller tol, or use method='auto'") from None
                history.append((_map_radius(cmap), math.inf))
                cmap, rebuilds = self._rebuilt(cmap, MAP_LIMITED_FACTOR), rebuilds + 1
                continue
            wprec = max(p for _, _, p in info) if info else self.prec
            mats, mid, rad = self._states(Y, len(t), wprec, hermitize and herm)
            cmap, rebuilds, done = self._accept(cmap, mats, target, rebuilds, max_rebuilds, history)
            if done:
                break
        maxrad = rad.reshape(len(t), -1).max(axis=1)
        error = ErrorBudget({"enclosure": (maxrad, "bound",
                                           "largest entry radius of the Arb enclosure of rho(t), incl. float64 "
                                           "rounding of the midpoint (README_derivations.md, 'Certified dynamics')")})
        methods = sorted({m for _, m, _ in info})
        meta = self.describe()
        meta.update({"map_rebuilds": rebuilds, "map_error_bound": float(cmap.error_bound)})
        return CertifiedEvolution(
            times=t, states=mid, error=error, basis=basis, method="certified-" + "+".join(methods or ["zero"]),
            diagnostics={"blocks": len(info), "block_methods": info, "prec": wprec,
                         "hermitized": bool(hermitize and herm), "history": history,
                         "seconds": time.perf_counter() - t0},
            metadata=meta, eigenvectors=None,
            balls=mats, rad=rad, energies=self._energies(cmap), prec=wprec)

    def _accept(self, cmap, mats, target, rebuilds, max_rebuilds, history):
        """``(cmap, rebuilds, done)``: done when the states' ball radius meets ``target`` (or there is none),
        else the map rebuilt with its radius scaled by the missing factor (ValueError past ``max_rebuilds``)."""
        r = ball_radius(mats)
        history.append((_map_radius(cmap), r))
        if target is None or r <= target:
            return cmap, rebuilds, True
        if rebuilds >= max_rebuilds:
            raise ValueError(f"evolve: radius {r:.2e} > target {target:.2e} after {rebuilds} map rebuilds: raise "
                             "max_rebuilds or the target")
        return self._rebuilt(cmap, max(min(0.1 * target / r, 0.1), 1e-12)), rebuilds + 1, False

    def _evolve_cp(self, cmap, M0, t, max_prec, hermitize):
        """Enclosure for completely positive maps (global (45), local (54)-(56)): midpoint trajectory + Duhamel.

        Proof (README_derivations.md, "Certified dynamics"): the true generator
        ``L = -i[H, .] + Gamma (S - I)`` with S CPTP (Kraus forms (46), (57)-(59); trace preservation by flux
        conservation) generates a CPTP semigroup, a contraction in the trace norm.  With ``L_m`` the point
        generator of the midpoints and ``rho_m(t) = e^{L_m t} rho0`` (enclosed in balls at high precision),
        Duhamel gives ``delta(t) = rho(t) - rho_m(t) = int_0^t e^{L (t-s)} (L - L_m) rho_m(s) ds``, so
        ``E(t) = ||delta(t)||_1 <= int_0^t ||(L - L_m) rho_m(s)||_1 ds``.  Entrywise
        ``|((L - L_m) X)_{j'k'}| <= Gamma r_S sum_{jk} |X_jk| + 2 r_E |X_{j'k'}|`` (r_S, r_E: largest radii of the
        map's and the energies' balls), ``||Y||_1 <= sum |Y_jk|``, and ``sum |rho_m,jk| <= d (1 + E)`` (Cauchy-Schwarz,
        ``||rho||_F <= ||rho||_1 = 1``), so ``E(t) <= c d int_0^t (1 + E) ds`` with ``c = Gamma d^2 r_S + 2 r_E``, and by
        Gronwall ``E(t) <= e^{c d t} - 1``; every entry of delta is at most ``||delta||_F <= E(t)``.
        Returns None-equivalent by raising :class:`_MapLimited` when the midpoint propagation fails.
        """
        d, n = self.d, self.d * self.d
        try:
            Y, info = self._propagate(cmap, M0, t, "auto", max_prec, allow_expm=True, midpoint=True)
        except (_MapLimited, ValueError) as exc:
            raise _MapLimited(str(exc)) from None
        wprec = max(p for _, _, p in info) if info else self.prec
        with workprec(wprec):
            S = cmap.balls()
            rS = max(_float_up(S[i, j].real.rad() + S[i, j].imag.rad()) for i in range(n) for j in range(n))
            rE = max(_float_up(e.rad()) for e in cmap.energy_balls())
            c = arb(float(self.Gamma_param)) * d * d * arb(rS) + 2 * arb(rE)
            mats = []
            for i, tv in enumerate(t):
                M = _unvec_balls(Y, i, d)
                if t[i] != 0:
                    E = ((c * d * arb(float(tv))).exp() - 1)
                    e = arb(0, _float_up(E))
                    for a in range(d):
                        for b in range(d):
                            M[a, b] = M[a, b] + acb(e, e)
                mats.append(_hermitian_part(M) if hermitize else M)
        mid, rad = matrices_enclosure(mats)
        info = [(nb, m + "+duhamel", p) for nb, m, p in info]
        return mats, mid, rad, info, wprec

    def _rebuilt(self, cmap, factor):
        """``cmap.rebuild`` with ``tol = factor * radius`` (checked: certified, same system, smaller radius).

        The radius is that of the map's balls (:func:`_map_radius`), not of its float64 export, which
        cannot fall below the midpoint rounding (~1e-17) and is not what the propagation uses.
        """
        mrad = _map_radius(cmap)
        tol = mrad * factor
        dps = int(math.ceil(-math.log10(tol))) + 6 if tol > 0 else None
        new = cmap.rebuild(tol=tol, dps=dps)
        _check_certified(new, "the rebuilt map")
        check_map_system(self.system, new)
        if not _map_radius(new) < mrad:
            raise ValueError(f"rebuilding the map with tol = {tol:.2e} does not shrink its radius ({mrad:.2e} -> "
                             f"{_map_radius(new):.2e}; the map's maximum precision is reached): raise the target")
        return new

    def _states(self, Y, T, prec, hermitize):
        d = self.d
        with workprec(prec):
            mats = [_unvec_balls(Y, i, d) for i in range(T)]
            if hermitize:
                mats = [_hermitian_part(M) for M in mats]
        mid, rad = matrices_enclosure(mats)
        return mats, mid, rad

    def _propagate(self, cmap, M0, t, method, max_prec, allow_expm, midpoint=False):
        """``Y[:, i]`` encloses ``vec(rho(t_i))``; ``info`` lists ``(block size, method, prec)``.

        ``midpoint=True``: propagate with the point generator of the balls' midpoints (no stationary
        eigenvalue is set to 0 then: the midpoint map need not be exactly trace preserving).
        """
        d, n = self.d, self.d * self.d
        base = max(self.prec, int(cmap.prec))
        Y = acb_mat(n, len(t))
        info = []
        for idx in self.blocks():
            idx = [int(a) for a in idx]
            nb = len(idx)
            has_pop = bool(self._population_positions(idx, d))
            x0 = acb_mat(nb, 1)
            for p, a in enumerate(idx):
                x0[p, 0] = M0[a % d, a // d]
            if all(x0[p, 0].is_zero() for p in range(nb)):
                info.append((nb, "zero", base))
                continue  # exp(L_B t) 0 = 0 exactly
            res, prec, map_limited = None, base, False
            if method != "expm":
                for step in range(EIG_PREC_STEPS + 1):
                    prec = base << step
                    if prec > max(max_prec, base):
                        break
                    res = self._eig_block(self._sub(self.generator_balls(cmap, prec, midpoint), idx),
                                          has_pop and not midpoint, prec)
                    if res is not None:
                        break
                    # does the point matrix of midpoints isolate? then the map's radius limits, not prec
                    if self._eig_block(self._sub(self.generator_balls(cmap, prec, True), idx), False, prec) is not None:
                        map_limited = True
                        break
                if res is None and (method == "eig" or (map_limited and not allow_expm)):
                    raise _MapLimited(
                        f"the eigenvalues of a block of size {nb} of L do not isolate at {prec} bits"
                        + (" (the midpoint matrix does: the map's radius limits)" if map_limited else ""))
            if res is not None:
                lam, R, Rinv = res
                with workprec(prec):
                    c = Rinv * x0
                    C = acb_mat(nb, len(t))
                    for i, tv in enumerate(t):
                        tb = arb(float(tv))
                        for p in range(nb):
                            e = acb(1) if lam[p].is_zero() else (lam[p] * tb).exp()
                            C[p, i] = e * c[p, 0]
                    YB = R * C
                info.append((nb, "eig", prec))
            else:
                prec = base
                LB = self._sub(self.generator_balls(cmap, prec, midpoint), idx)
                YB = self._expm_block(LB, x0, t, prec)
                info.append((nb, "expm", prec))
            for p, a in enumerate(idx):
                for i in range(len(t)):
                    Y[a, i] = x0[p, 0] if t[i] == 0 else YB[p, i]  # exp(L 0) = I exactly
        return Y, info

    @staticmethod
    def _expm_block(LB, x0, t, prec):
        """``exp(L_B t) x0`` for every t by binary powers of ``E = exp(L_B tau)`` and a Taylor remainder step.

        Proof (README_derivations.md, "Certified dynamics"): ``tau = 2^-k`` (exact) with ``||L_B tau||_inf <= 1/2``;
        ``E = acb_mat.exp(L_B tau)`` encloses ``exp(A tau)`` for every A in the ball (Arb: scaling and squaring
        with a rigorous Taylor remainder), and its repeated squares enclose ``exp(A 2^j tau)``.  For
        ``t = m tau + r`` (``0 <= r < tau``, exact in Arb) the products over the binary digits of m enclose
        ``exp(A m tau) x0`` (the factors commute), and ``exp(A r) v = sum_{k <= K} (A r)^k v / k! + R`` with
        ``||R||_inf <= ||A r||^{K+1} / (K+1)! e^{||A r||} ||v||_inf`` (the tail of the exponential series in the
        induced inf-norm), added to every radius.  Radii grow roughly linearly in t with the squarings
        (measured: 2e-34 -> 6e-26 from t = 0.04 to 8e4 at N = 3, eps = 0), not like ``e^{||L|| t}``.
        """
        nb = LB.nrows()
        with workprec(prec):
            norm = max(sum(abs(LB[p, q]).upper() for q in range(nb)) for p in range(nb))
            nf = float(norm.upper()) * (1 + 1e-12) + 1e-300
            k = max(0, math.ceil(math.log2(2 * nf)))
            tau = arb(2) ** (-k)  # exact dyadic
            tau_f = 2.0 ** (-k)
            E = (LB * acb(tau)).exp()
            m_max = max(int(math.floor(float(tv) / tau_f)) for tv in t) if len(t) else 0
            powers = [E]
            for _ in range(max(0, m_max.bit_length() - 1)):
                powers.append(powers[-1] * powers[-1])
            K = 40
            tail_coef = (arb(nf) * tau) ** (K + 1) / arb(math.factorial(K + 1)) * (arb(nf) * tau).exp()
            YB = acb_mat(nb, len(t))
            for i, tv in enumerate(t):
                m = int(math.floor(float(tv) / tau_f))
                r = arb(float(tv)) - arb(m) * tau
                v = acb_mat(x0)
                j = 0
                while m:
                    if m & 1:
                        v = powers[j] * v
                    m >>= 1
                    j += 1
                term, acc = acb_mat(v), acb_mat(v)
                for kk in range(1, K + 1):
                    term = (LB * term) * acb(r / kk)
                    acc = acc + term
                vmax = max(abs(v[p, 0]).upper() for p in range(nb))
                e = arb(0, float((tail_coef * vmax).upper()) * (1 + 1e-12) + 1e-300)
                for p in range(nb):
                    y = acc[p, 0] + acb(e, e)
                    if not y.is_finite():
                        raise ValueError(f"the binary-powers propagation lost all accuracy for a block of size {nb} at "
                                         f"t = {tv:g}: raise the precision (prec=...) or rebuild the map with a smaller tol")
                    YB[p, i] = y
        return YB

    def _energies(self, cmap=None):
        with workprec(self.prec):
            return list((self.map if cmap is None else cmap).energy_balls())

    @staticmethod
    def _sub(L, idx):
        nb = len(idx)
        LB = acb_mat(nb, nb)
        for p, a in enumerate(idx):
            for q, b in enumerate(idx):
                LB[p, q] = L[a, b]
        return LB

    def _initial_state(self, rho0, basis):
        if basis == "eigen":
            return _state_to_balls(rho0, self.d)
        if basis == "local":
            if not hasattr(self.map, "eigenvector_balls"):
                raise ValueError("basis='local' needs certified eigenvectors of H(eps) (the map has no "
                                 "eigenvector_balls()); give rho0 in the eigenbasis (basis='eigen')")
            M, herm = _state_to_balls(rho0, self.d)
            with workprec(self.prec):
                U = self.map.eigenvector_balls()
                return U.conjugate().transpose() * M * U, herm
        raise ValueError(f"basis must be 'eigen' or 'local' (got {basis!r})")

    # --------------------------------------------------------------- steady state
    def _bordered(self, cmap, prec, midpoint):
        """``A``: L with row 0 (the population (0,0)) replaced by the trace functional ``vec(I)^T``."""
        d, n = self.d, self.d * self.d
        L = self.generator_balls(cmap, prec, midpoint)
        with workprec(prec):
            A = acb_mat(L)
            for b in range(n):
                A[0, b] = acb(1) if b % d == b // d else acb(0)
        return A

    def _solve_ss(self, cmap, prec, midpoint=False):
        """Ball enclosure of the solution of ``A x = e_0`` as a Hermitian ``d x d`` acb_mat, or None
        if ``acb_mat.solve`` cannot prove ``A`` invertible at ``prec``."""
        d, n = self.d, self.d * self.d
        A = self._bordered(cmap, prec, midpoint)
        with workprec(prec):
            b = acb_mat(n, 1)
            b[0, 0] = acb(1)
            try:
                x = A.solve(b)
            except (ValueError, ZeroDivisionError, ArithmeticError):
                return None
            if not all(x[a, 0].is_finite() for a in range(n)):
                return None
            return _hermitian_part(_unvec_balls(x, 0, d))

    def steady_state(self, target=1e-10, max_prec=None, max_rebuilds=4):
        """Enclosure of the unique stationary state ``L rho_ss = 0``, ``Tr rho_ss = 1`` (Eq. (71)).

        Solves the bordered system ``A x = e_0`` (row (0,0) of L replaced by the trace) with
        ``acb_mat.solve``.  Proof (README_derivations.md, 'Certified dynamics', "Steady state"): the true
        map is trace preserving, so ``vec(I)^T L = 0`` and row (0,0) of ``L`` is minus the sum of
        the other population rows; a solution of ``A x = e_0`` therefore solves ``L x = 0``,
        ``Tr x = 1``; ``acb_mat.solve`` succeeds only if every matrix in the ball ``A`` is
        invertible, which makes this stationary state unique, and its output encloses it.

        Until the largest ball radius is ``<= target``:
        if the same solve with the exact midpoints of the map (a point matrix) is above
        ``target / 4``, the working precision limits and is doubled (up to ``max_prec``); else the
        map's radius limits and the map is rebuilt (``cmap.rebuild(tol, dps)``, at most
        ``max_rebuilds`` times) with ``tol`` scaled by the missing factor.

        Parameters
        ----------
        target : float in (0, 1)
            Largest allowed radius of the Arb balls (:func:`ball_radius`; the float64 enclosure
            adds the midpoint's rounding, <= 1.2e-16 for entries <= 1).
        max_prec : int or None
            Precision limit in bits (default :data:`MAX_PREC`).
        max_rebuilds : int >= 0

        Raises
        ------
        ValueError
            Bad ``target``; or the target cannot be reached within ``max_prec`` / ``max_rebuilds``
            (the message says which to raise), or the map's rebuild no longer shrinks its radius.
        """
        if isinstance(target, bool) or not isinstance(target, (int, float, np.floating)) or not 0 < target < 1:
            raise ValueError(f"target must be a float in (0, 1) (got {target!r})")
        max_prec = MAX_PREC if max_prec is None else int(max_prec)
        if isinstance(max_rebuilds, bool) or not isinstance(max_rebuilds, (int, np.integer)) or max_rebuilds < 0:
            raise ValueError(f"max_rebuilds must be an integer >= 0 (got {max_rebuilds!r})")
        key = (float(target), max_prec, int(max_rebuilds))
        if key in self._ss:
            return self._ss[key]
        t0 = time.perf_counter()
        cmap, prec, rebuilds, history = self.map, self.prec, 0, []
        X = self._solve_ss(cmap, prec)
        if X is None:
            # a ball solve can only fail for a singular member; a numerically 2-dimensional null space of the
            # midpoint generator means the stationary state is not unique (e.g. eps = 0: levels the
            # collisions never connect), which no rebuild cures
            sv = np.linalg.svd(self.superoperator(), compute_uv=False)
            if sv[-2] <= 1e-9 * sv[0]:
                raise ValueError(
                    "steady_state: no unique stationary state (the generator (71) has a null space of dimension >= 2: "
                    f"second smallest singular value {sv[-2]:.1e} against {sv[0]:.1e}); e.g. at eps = 0 the collisions "
                    "on one site never connect the configurations of the other qubits")
        while True:
            if X is None or history:
                X = self._solve_ss(cmap, prec)
            r = math.inf if X is None else ball_radius([X])
            history.append((prec, _map_radius(cmap), float(r)))
            if r <= target:
                break
            Xp = self._solve_ss(cmap, prec, midpoint=True)
            rp = math.inf if Xp is None else ball_radius([Xp])
            if rp > target / 4:
                if 2 * prec > max_prec:
                    raise ValueError(
                        f"steady_state: radius {r:.2e} > target {target:.2e} at the precision limit max_prec = "
                        f"{max_prec} bits (the point solve alone gives {rp:.2e}): raise max_prec or the target")
                prec *= 2
                continue
            if rebuilds >= max_rebuilds:
                raise ValueError(
                    f"steady_state: radius {r:.2e} > target {target:.2e} after {rebuilds} map rebuilds (the "
                    f"map's radius {history[-1][1]:.2e} limits): raise max_rebuilds or the target")
            mrad = _map_radius(cmap)
            factor = (target / 4) / max(r - rp, 1e-300) if math.isfinite(r) else 1e-6
            tol = mrad * min(factor, 0.1)
            dps = int(math.ceil(-math.log10(tol))) + 6 if tol > 0 else None
            new = cmap.rebuild(tol=tol, dps=dps)
            _check_certified(new, "the rebuilt map")
            check_map_system(self.system, new)
            if not _map_radius(new) < mrad:
                raise ValueError(
                    f"steady_state: radius {r:.2e} > target {target:.2e} and rebuilding the map with tol = {tol:.2e} "
                    f"does not shrink its radius ({mrad:.2e} -> {_map_radius(new):.2e}; max precision of the map "
                    "reached): raise the target")
            cmap, rebuilds = new, rebuilds + 1
            prec = max(prec, int(new.prec))
        mid, rad = matrices_enclosure([X])
        with workprec(prec):
            E = list(cmap.energy_balls())
        error = ErrorBudget({"enclosure": (float(rad.max()), "bound",
                                           "largest entry radius of the Arb enclosure of rho_ss (bordered solve, "
                                           "README_derivations.md, 'Certified dynamics'), incl. float64 rounding of the midpoint")})
        meta = self.describe()
        meta.update({"prec": prec, "map_rebuilds": rebuilds, "seconds": time.perf_counter() - t0})
        ss = CertifiedSteadyState(state=mid[0], residual=math.nan, error=error, sigma_min=math.nan, metadata=meta,
                                  balls=X, rad=rad[0], energies=E, prec=prec, map=cmap, history=history)
        self._ss[key] = ss
        return ss


def _zero_eigenvalue(lam):
    """Replace the ball containing 0 by the exact 0 (block with populations of a trace-preserving map).

    Proof: the true map is trace preserving, ``sum_{j'} S^{jk}_{j'j'} = delta_jk``, so
    ``vec(I)^T L = 0``; restricted to an invariant block B that contains population indices,
    ``vec(I)|_B`` is a non-zero left null vector of ``L_BB`` (the rows outside B vanish on the
    columns of B), so the true ``L_BB`` has the eigenvalue 0.  The balls are pairwise disjoint
    and each contains exactly one eigenvalue of every member of the family
    (:meth:`CertifiedLindbladian._eig_block`), so exactly one ball contains 0 and the true
    eigenvalue in it is 0.  If no ball contains 0 the map's balls cannot contain a
    trace-preserving map: ValueError.
    """
    hits = [i for i, x in enumerate(lam) if x.contains(0)]
    if len(hits) != 1:
        raise ValueError(
            f"{len(hits)} eigenvalue balls of a population block of L contain 0 (exactly one must, for a "
            "trace-preserving map in the balls): the certified map's enclosure is inconsistent with trace "
            "preservation")
    lam = list(lam)
    lam[hits[0]] = acb(0)
    return lam
