"""Poissonian Lindblad dynamics of the chain, Eqs. (7)/(71), exact in time, with error budgets.

The generator (hbar = 1, eigenbasis of ``H(eps)``, Eq. (9))

    L rho = -i [H(eps), rho] + Gamma (S - I) rho                         (7), (71)

is constant in time, so ``rho(t) = exp(L t) rho(0)`` exactly; no time stepper is
used.  ``S`` is any collision map with the attributes of
:class:`symcoll.maps.CollisionMap` (``tensor[j', k', j, k] = S^{jk}_{j'k'}`` in the
eigenbasis, ``error`` (an :class:`~symcoll.budget.ErrorBudget`), ``system``, ``kind``, ``dps``):
the exact map (38),
the narrow-packet/global map (45), the local map (54)-(56) (which gives the local
equation (67)), or a user-made CPTP tensor.

Propagation methods (``method=`` of :meth:`Lindbladian.evolve`)

``"eig"`` (float64)
    ``L = V diag(lambda) V^{-1}`` once (LAPACK ``geev``), then
    ``vec rho(t) = sum_i c_i exp(lambda_i t) v_i`` for all times at once.  The
    eigenvalue of the stationary mode is set to exactly 0 (trace preservation makes
    0 an exact eigenvalue; without this a rounding-size ``lambda_0 ~ 1e-16`` would
    drift the stationary state by ``lambda_0 t`` at t = 1e7).  The conditioning
    ``cond(V)`` and the eigenvalue condition numbers ``kappa_i`` are measured and
    enter the rounding estimate.
``"expm"`` (float64)
    ``rho(t) = rho_ss + expm(L t) (rho(0) - rho_ss)`` with scipy's scaling-and-squaring
    Pade ``expm`` per time: slower, but insensitive to eigenvector conditioning.
``"auto"`` (default)
    ``"eig"`` unless ``cond(V) > COND_V_MAX`` (near-defective L, which happens when
    Gamma (S - I) couples Bohr frequencies split by ~eps), then ``"expm"``.
``"refined"`` (mpmath, any ``dps``)
    Start from the float64 eigenvectors V, form ``B = V^{-1} L V`` at ``dps`` digits
    (exact similarity; ``V^{-1} = W0 (I - E)^{-1}`` from the float64 inverse W0 and
    ``E = I - V W0`` by a Neumann series), then remove the off-diagonal part by Jacobi-like
    similarity steps ``B <- (I + G)^{-1} B (I + G)``, ``G_ij = B_ij / (lambda_j - lambda_i)``
    (quadratically convergent, Neumann inverses); eigenvalues closer than the float
    perturbation are kept together as a block and exponentiated with ``mp.expm``.  This
    costs about ten dense mpmath matrix products instead of ``mp.eig`` (~1 min for the
    64 x 64 generator of N = 3 at 50 digits).

Blocks
    L is first split into the connected components of its exact non-zero pattern
    (:meth:`Lindbladian.blocks`): the global map (45) and the local map (54)-(56) only couple
    entries with equal (band) Bohr frequencies, so their generators fall into many small
    blocks (N = 3: 23 and 7; N = 6 global: 425 blocks of at most 88), each propagated alone.

Steady state
    Bordered system (the (0,0) row of L replaced by the trace), float64 LU; on the mpmath
    path mixed-precision iterative refinement (float64 LU, residuals at ``dps`` digits).

Error bounds (per time, on the largest absolute entry of rho(t), eigenbasis)

* ``map`` (rigorous **bound**): with ``e`` the map's entry bound, the computed map
  ``S' = S + dS`` has ``||dS||_{1->1} <= sqrt(d) d^2 e`` (trace norm ``<= sqrt(d)``
  Frobenius, Frobenius of the (d^2, d^2) matrix ``<= d^2 e``).  Duhamel's formula with
  the true CPTP semigroup (contractive in trace norm) and Gronwall give
  ``||rho'(t) - rho(t)||_1 <= x/(1 - x)``, ``x = Gamma t ||dS||_{1->1}`` (infinite when
  x >= 1), and ``max |entry| <= ||.||_1``.
* ``energies`` (**estimate**): the eigenvalues of H carry rounding ``delta_eps``
  (estimated ``4 d u max|eps_j|``); ``||[dH, .]||_{1->1} <= 2 delta_eps`` adds ``2 t delta_eps``
  to x above.  This is what limits float64 at t = 1e7 when coherences live that long.
* ``rounding`` (heuristic **estimate**): first-order perturbation theory of the method
  used (see :func:`symcoll.dynamics.propagate.eig_rounding_estimate`), checked against the ``dps = 50`` path in
  the tests.

Examples
--------
>>> import numpy as np
>>> from symcoll import QubitChain
>>> from symcoll.dynamics import Lindbladian, kraus_map
>>> chain = QubitChain(1, h=1.0, eps=0.0)
>>> p = 0.3                       # amplitude-damping-like CPTP map on one qubit
>>> K0 = np.array([[1, 0], [0, np.sqrt(1 - p)]]); K1 = np.array([[0, np.sqrt(p)], [0, 0]])
>>> L = Lindbladian(chain, kraus_map(chain, [K0, K1]), Gamma=1.0)
>>> ev = L.evolve(np.diag([0.0, 1.0]), [0.0, 1e3])
>>> round(float(ev.states[-1][0, 0].real), 6)
1.0
"""
from __future__ import annotations

import numpy as np

from .. import conventions as cv
from ..model import _real_param, check_map_system, to_ctx
from ..model import check_density_matrix as _check_dm
from ..numeric import get_context
from . import error_budget
from ._arrays import hermitian_part, to_complex
from .propagate import PROPAGATORS, check_method, method_for
from .results import Evolution, SteadyState
from .spectrum import FloatSpectrum, invariant_blocks
from .steady import perturbative_coherences, steady_state
from .tolerances import COND_V_MAX
from .user_maps import TensorMap, kraus_map

__all__ = [
    "Lindbladian",
    "Evolution",
    "SteadyState",
    "kraus_map",
    "TensorMap",
    "perturbative_coherences",
    "COND_V_MAX",
]


def _mp_from_complex(ctx, a):
    """complex128 (or object) array -> object array of ``ctx.mp.mpc`` (exact conversion)."""
    a = np.asarray(a)
    out = np.empty(a.shape, dtype=object)
    flat, src = out.reshape(-1), a.reshape(-1)
    mpc = ctx.mp.mpc
    for i, v in enumerate(src):
        if a.dtype == object:
            flat[i] = mpc(v)
        else:
            flat[i] = mpc(float(v.real), float(v.imag))
    return out


def _check_gamma(Gamma):
    _real_param("Gamma", Gamma, nonneg=True, rng="[0, inf)")
    return Gamma


def _check_times(times):
    try:
        t = np.asarray(times, dtype=float)
    except (TypeError, ValueError) as exc:
        raise TypeError("times must be a real number or a 1-D array of real numbers") from exc
    if t.ndim == 0:
        t = t.reshape(1)
    if t.ndim != 1:
        raise ValueError(f"times must be 1-D (got shape {t.shape})")
    if t.size == 0:
        raise ValueError("times must contain at least one time")
    if not np.all(np.isfinite(t)):
        raise ValueError("times must be finite, allowed range [0, inf)")
    if np.any(t < 0):
        raise ValueError(f"times must be >= 0, allowed range [0, inf) (got min {float(t.min())!r})")
    return t


def check_density_matrix(rho, d, name="rho0"):
    """Validate a density matrix of dimension d (:func:`symcoll.model.check_density_matrix`).

    Returns it unchanged if it holds mpmath numbers, else as complex128.
    """
    c = _check_dm(rho, d, name)
    a = np.asarray(rho)
    return a if a.dtype == object else c


# ----------------------------------------------------------------------------- Lindbladian
class Lindbladian:
    """Generator of the Poissonian Lindblad equation (7)/(71) in the eigenbasis of H(eps).

    ``L rho = -i [H(eps), rho] + Gamma (S - I) rho`` with ``hbar = 1``.

    Parameters
    ----------
    system : System or QubitChain
        Provides H(eps) and its eigenbasis (:mod:`symcoll.conventions`).
    collision_map : CollisionMap-like
        Object with ``tensor`` (d, d, d, d) ``[j', k', j, k] = S^{jk}_{j'k'}`` in the
        eigenbasis of ``system``, ``error`` (an ErrorBudget; or a float ``error_bound``), the
        ``system`` it was built for, and optionally ``kind``, ``dps``, ``eigensystem``.
    Gamma : float
        Collision rate, ``Gamma >= 0`` (finite).
    dps : int or None
        Working precision: ``None`` uses the map's (float64 for a float map); an integer
        >= 15 runs the mpmath path (a float map is converted exactly).

    Raises
    ------
    ValueError
        Bad Gamma, wrong tensor shape, or a map built for another system (another H, even
        one with the same eigenvectors: see :func:`symcoll.model.check_map_system`).
    TypeError
        A map that does not record the system it was built for.

    References
    ----------
    Eqs. (7), (67), (69), (71) of the paper.
    """

    def __init__(self, system, collision_map, Gamma, dps=None):
        self.system = system
        self.map = collision_map
        self.Gamma_param = _check_gamma(Gamma)
        if not hasattr(collision_map, "tensor"):
            raise TypeError("collision_map must have a .tensor attribute (a CollisionMap or TensorMap)")
        map_dps = getattr(collision_map, "dps", None)
        if dps is None:
            dps = map_dps
        self.ctx = get_context(dps)
        self.dps = dps
        d = system.dim
        self.d = d
        T = np.asarray(collision_map.tensor)
        if T.shape != (d, d, d, d):
            raise ValueError(f"collision_map.tensor must have shape {(d,) * 4} for this system (got {T.shape})")
        check_map_system(system, collision_map)
        es = system.eigensystem(dps)
        self.eigensystem = es
        self.energies = es.energies
        self.map_error, self.map_error_rigorous = error_budget.map_entry_error(collision_map)
        ctx = self.ctx
        self.Gamma = to_ctx(ctx, Gamma)
        if ctx.is_mp:
            self.tensor = T if T.dtype == object else _mp_from_complex(ctx, T)
        else:
            self.tensor = to_complex(T)
        self._L = None
        self._blocks = None
        self._spectrum = None
        self._propagators = {}
        self._ss = None
        self.energy_error = error_budget.energy_rounding(ctx, es.energies)

    # --------------------------------------------------------------- construction
    def describe(self) -> dict:
        """Metadata stated with every output (ladder convention, map kind, Gamma, precision)."""
        desc = dict(self.system.describe()) if hasattr(self.system, "describe") else {}
        desc.update(
            {
                "map_kind": getattr(self.map, "kind", "unknown"),
                "Gamma": float(self.Gamma_param),
                "precision": self.ctx.name,
                "map_error_estimate": self.map_error,
                "map_error_rigorous": self.map_error_rigorous,
                "equation": "(71): drho/dt = -i[H(eps), rho] + Gamma (S - I) rho, hbar = 1, eigenbasis of H(eps)",
            }
        )
        if "ladder" not in desc:
            desc["ladder"] = getattr(self.system, "ladder", None)
        return desc

    def superoperator(self):
        """Column-stacking matrix of L, shape (d^2, d^2), eigenbasis (Eq. (71)).

        ``L[j + d k, j' + d k'] = -i (eps_j - eps_k) delta + Gamma (S^{j'k'}_{jk} - delta)``;
        complex128, or an object array of mpmath numbers on the mpmath path.
        """
        if self._L is None:
            ctx, d = self.ctx, self.d
            S = cv.tensor_to_superoperator(self.tensor)
            e = self.energies
            n = d * d
            if ctx.is_mp:
                L = S * self.Gamma
                one = ctx.mp.mpf(1)
                for k in range(d):
                    for j in range(d):
                        p = j + d * k
                        L[p, p] = L[p, p] - self.Gamma * one + ctx.mp.mpc(0, -1) * (e[j] - e[k])
            else:
                e = np.asarray(e, dtype=float)
                bohr = e[:, None] - e[None, :]  # [j, k]
                diag = -1j * cv.vec(bohr) - self.Gamma
                L = self.Gamma * S
                L[np.diag_indices(n)] += diag
            self._L = L
        return self._L.copy()

    def superoperator_float(self) -> np.ndarray:
        """:meth:`superoperator` as complex128."""
        return to_complex(self.superoperator()) if self.ctx.is_mp else self.superoperator()

    def to_qutip(self):
        """The generator as a ``qutip.Qobj`` superoperator (column stacking, dims [[[d],[d]],[[d],[d]]])."""
        try:
            import qutip
        except ImportError as exc:
            raise ImportError(
                "to_qutip() needs QuTiP (pip install qutip); the generator itself is "
                "available as Lindbladian.superoperator()"
            ) from exc
        d = self.d
        return qutip.Qobj(self.superoperator_float(), dims=[[[d], [d]], [[d], [d]]], superrep="super")

    def apply(self, rho):
        """``L rho`` for a (d, d) matrix in the eigenbasis (Eq. (71))."""
        rho = np.asarray(rho)
        if rho.shape != (self.d, self.d):
            raise ValueError(f"rho must have shape ({self.d}, {self.d}) (got {rho.shape})")
        if self.ctx.is_mp:
            r = rho if rho.dtype == object else _mp_from_complex(self.ctx, rho)
        else:
            r = to_complex(rho)
        v = self.superoperator() @ cv.vec(r)
        return cv.unvec(v, self.d)

    # --------------------------------------------------------------- error parts
    def map_norm_11(self) -> float:
        """Bound on ``||dS||_{1->1}`` from the map's entry error: ``sqrt(d) d^2 e``
        (:func:`~symcoll.dynamics.error_budget.map_norm_11`)."""
        return error_budget.map_norm_11(self.d, self.map_error)

    def map_error_propagated(self, times, split=False):
        """Part of the per-time error from the map's error and the energies' rounding
        (:func:`~symcoll.dynamics.error_budget.propagated_errors`); ``split=True`` returns
        the map and energies shares."""
        return error_budget.propagated_errors(times, self.Gamma_param, self.map_norm_11(), self.energy_error,
                                              self.spectrum(), split)

    # --------------------------------------------------------------- propagation
    def propagator(self, method="auto"):
        """The :class:`~symcoll.dynamics.propagate.Propagator` for ``method`` (kept for reuse).

        See :func:`~symcoll.dynamics.propagate.method_for` for how ``"auto"`` is resolved.
        """
        name = method_for(self, method)
        if name not in self._propagators:
            self._propagators[name] = PROPAGATORS[name](self)
        return self._propagators[name]

    def evolve(self, rho0, times, basis="eigen", method="auto", hermitize=True):
        """Propagate ``rho(t) = exp(L t) rho0`` exactly in t (Eq. (71)).

        Parameters
        ----------
        rho0 : (d, d) array
            Initial density matrix, by default in the **eigenbasis** of H(eps) (the basis of
            ``states``); ``basis="local"`` converts ``U^dagger rho0 U`` with the eigenvectors.
        times : float or 1-D array
            Times ``t >= 0`` (finite, any order).
        basis : {"eigen", "local"}
        method : {"auto", "eig", "expm", "refined"}
            See :mod:`symcoll.dynamics.propagate`; the mpmath path always uses ``"refined"``.
        hermitize : bool
            Return ``(rho + rho^dagger)/2`` (default).  The exact rho(t) is Hermitian, so this
            never increases the error of any entry (``|(a + conj(b))/2 - x| <= max(|a - x|, |b - conj(x)|)``);
            ``False`` returns the raw propagation, whose anti-Hermitian part is a diagnostic.

        Returns
        -------
        Evolution
        """
        if basis not in ("eigen", "local"):
            raise ValueError(f"basis must be 'eigen' or 'local' (got {basis!r})")
        check_method(method)
        t = _check_times(times)
        rho = check_density_matrix(rho0, self.d)
        ctx = self.ctx
        if basis == "local":
            U = self.eigensystem.vectors
            if ctx.is_mp:
                r = rho if rho.dtype == object else _mp_from_complex(ctx, rho)
                Um = np.asarray(U, dtype=object)
                rho = ctx.conj(Um).T @ r @ Um
            else:
                U = np.asarray(U)
                rho = U.conj().T @ rho @ U
        elif ctx.is_mp and rho.dtype != object:
            rho = _mp_from_complex(ctx, rho)
        x = cv.vec(rho)
        propagator = self.propagator(method)
        states, rnd, diag = propagator.propagate(x, t)
        if hermitize:
            states = hermitian_part(states)
        mapb, enb = self.map_error_propagated(t, split=True)
        error = error_budget.evolution_budget(mapb, enb, rnd, self.map_error_rigorous)
        meta = self.describe()
        return Evolution(
            times=t,
            states=states,
            error=error,
            basis=basis,
            method=propagator.method,
            diagnostics=diag,
            metadata=meta,
            eigenvectors=self.eigensystem.vectors,
        )

    # blocks ------------------------------------------------------------------
    def blocks(self):
        """Invariant blocks of L: connected components of its exact non-zero pattern.

        The global map (45) and the local map (54)-(56) connect only entries with equal
        (band) Bohr frequencies, so L splits into many small blocks (23 and 7 for N = 3);
        each is propagated on its own.  The exact map (38) gives a single block.
        """
        if self._blocks is None:
            self._blocks = invariant_blocks(self.superoperator_float())
        return self._blocks

    def spectrum(self) -> FloatSpectrum:
        """float64 eigen-decomposition of every block (:class:`~symcoll.dynamics.spectrum.FloatSpectrum`)."""
        if self._spectrum is None:
            self._spectrum = FloatSpectrum.of(self.superoperator_float(), self.blocks())
        return self._spectrum

    # --------------------------------------------------------------- steady state
    def steady_state(self):
        """Unique stationary state ``L rho_ss = 0``, ``Tr rho_ss = 1`` (eigenbasis).

        Solves the bordered system (row of the population (0,0) replaced by the trace
        functional); its smallest singular value ``sigma_min`` certifies a unique kernel
        (ValueError if ``sigma_min <= tol * ||L||``, see
        :meth:`~symcoll.dynamics.tolerances.DynamicsTolerances.bordered_singular`).  Error
        budget: see :class:`~symcoll.dynamics.SteadyState`.

        Returns
        -------
        SteadyState
        """
        if self._ss is None:
            self._ss = steady_state(self)
        return self._ss
