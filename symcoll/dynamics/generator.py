"""The generator of the Poissonian Lindblad equation (7)/(71), in the eigenbasis of H(eps).

:class:`Lindbladian` validates its inputs, builds the superoperator (71) and its invariant
blocks, and hands propagation to a :class:`~symcoll.dynamics.propagate.Propagator` and the
stationary state to :func:`~symcoll.dynamics.steady.steady_state`.
"""
from __future__ import annotations

import numpy as np

from .. import conventions as cv
from ..model import _real_param, check_density_matrix, check_map_system, to_ctx
from ..maps import memory
from ..numeric import get_context
from . import error_budget, lean_spectrum
from ._arrays import hermitian_part, in_context, to_complex
from .gap import GapMixin
from .propagate import PROPAGATORS, check_method, method_for
from .refine import refine
from .reservoirs import combine_reservoirs
from .results import Evolution
from .spectrum import FloatSpectrum, invariant_blocks
from .steady import apply_generator, steady_state

__all__ = ["Lindbladian"]


def _check_gamma(Gamma):
    """Validate the collision rate: a finite real ``Gamma >= 0`` (returned unchanged)."""
    _real_param("Gamma", Gamma, nonneg=True, rng="[0, inf)")
    return Gamma


def _check_times(times):
    """Validate times: finite, ``>= 0``, a scalar or a non-empty 1-D array; returns a float array."""
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


def _generator_class(cls, collision_map, dps=None):
    """A certified map (Arb balls) gets the certified generator (:mod:`symcoll.certified.dynamics`);
    a compact float64 map the sector generator (:mod:`symcoll.dynamics.sector_generator`)."""
    if getattr(collision_map, "certified", False) is True and cls is Lindbladian:
        from ..certified.dynamics import CertifiedLindbladian

        return CertifiedLindbladian
    if cls is Lindbladian and getattr(collision_map, "storage", None) == "compact" and dps is None \
            and getattr(collision_map, "dps", None) is None:  # issue 16: float64 sectors; mpmath stays dense
        from .sector_generator import SectorLindbladian

        return SectorLindbladian
    return cls


class Lindbladian(GapMixin):
    """Generator of the Poissonian Lindblad equation (7)/(71) in the eigenbasis of H(eps).

    ``L rho = -i [H(eps), rho] + Gamma (S - I) rho`` with ``hbar = 1``.

    Parameters
    ----------
    system : System or QubitChain
        Provides H(eps) and its eigenbasis (:mod:`symcoll.conventions`).
    collision_map : CollisionMap-like, or a list of them (several reservoirs)
        A list ``[S_1, ...]`` with rates ``Gamma = [Gamma_1, ...]`` gives
        ``sum_i Gamma_i (S_i - I)`` (:mod:`~symcoll.dynamics.reservoirs`; ``.maps``, ``.rates``). Object with ``tensor`` (d, d, d, d) ``[j', k', j, k] = S^{jk}_{j'k'}`` in the
        eigenbasis of ``system``, ``error`` (an ErrorBudget; or a float ``error_bound``), the
        ``system`` it was built for, and optionally ``kind``, ``dps``, ``eigensystem``.
    Gamma : float or list of floats
        Collision rate(s), each ``>= 0`` (finite).
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

    def __new__(cls, system=None, collision_map=None, *args, **kwargs):
        dps = kwargs.get("dps", args[1] if len(args) > 1 else None)
        return super().__new__(_generator_class(cls, collision_map, dps))

    def __init__(self, system, collision_map, Gamma, dps=None):
        collision_map, Gamma, self.maps, self.rates = combine_reservoirs(system, collision_map, Gamma, dps)
        self.system = system
        self.map = collision_map
        self.Gamma_param = _check_gamma(Gamma)
        if not hasattr(collision_map, "tensor"):
            raise TypeError("collision_map must have a .tensor attribute (a CollisionMap or TensorMap)")
        if dps is None:
            dps = getattr(collision_map, "dps", None)
        self.ctx = get_context(dps)
        self.dps = dps
        self.d = d = system.dim
        memory.check_generator_memory(d, dps, copies=1, what="the generator (its bordered LU)")  # L, eig: when formed
        T = np.asarray(collision_map.tensor)
        if T.shape != (d, d, d, d):
            raise ValueError(f"collision_map.tensor must have shape {(d,) * 4} for this system (got {T.shape})")
        check_map_system(system, collision_map)
        es = system.eigensystem(dps)
        self.eigensystem = es
        self.energies = es.energies
        self.map_error, self.map_error_rigorous = error_budget.map_entry_error(collision_map)
        self.Gamma = to_ctx(self.ctx, Gamma)
        self.tensor = T if T.dtype == complex and not self.ctx.is_mp else in_context(self.ctx, T)  # no d^4 copy
        self.energy_error = error_budget.energy_rounding(self.ctx, es.energies)
        self._L = None
        self._blocks = None
        self._spectrum = None
        self._refined = None
        self._ss = None

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
        complex128, or mpmath numbers on the mpmath path; memory checked (6 arrays) when first formed.
        """
        if self._L is None:
            memory.check_generator_memory(self.d, self.dps)
            e = np.asarray(self.energies)
            bohr = cv.vec(e[:, None] - e[None, :])  # eps_j - eps_k at j + d k
            L = self.Gamma * cv.tensor_to_superoperator(self.tensor)
            L[np.diag_indices(len(bohr))] += self.ctx.mpc(0, -1) * bohr - self.Gamma
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
        """``L rho`` for a (d, d) matrix in the eigenbasis (Eq. (71)); float64 straight from the map's tensor."""
        rho = np.asarray(rho)
        if rho.shape != (self.d, self.d):
            raise ValueError(f"rho must have shape ({self.d}, {self.d}) (got {rho.shape})")
        x = cv.vec(in_context(self.ctx, rho))
        return cv.unvec(self.superoperator() @ x if self.ctx.is_mp else apply_generator(self, x), self.d)

    def blocks(self):
        """Invariant blocks of L: connected components of its exact non-zero pattern (the global map (45) and the
        local map (54)-(56) couple only equal (band) Bohr frequencies: 23 and 7 blocks at N = 3; the exact map (38):
        one block); each is propagated on its own."""
        if self._blocks is None:
            self._blocks = invariant_blocks(self.superoperator_float())
        return self._blocks

    def spectrum(self) -> FloatSpectrum:
        """float64 eigen-decomposition of every block (:class:`~symcoll.dynamics.spectrum.FloatSpectrum`); for a
        large single block (the exact map from N = 6) in real form, from the tensor
        (:class:`~symcoll.dynamics.lean_spectrum.LeanSpectrum`, :func:`~symcoll.dynamics.lean_spectrum.lean_or_none`)."""
        if self._spectrum is None:
            lean = lean_spectrum.lean_or_none(self)
            self._spectrum = lean if lean is not None else FloatSpectrum.of(self.superoperator_float(), self.blocks())
        return self._spectrum

    def refined_blocks(self) -> list:
        """Every block near-diagonalised at ``dps`` digits from :meth:`spectrum` (mpmath path;
        :class:`~symcoll.dynamics.refine.RefinedBlock`, cached)."""
        if self._refined is None:
            self._refined = refine(self.ctx, self.superoperator(), self.spectrum())
        return self._refined

    # --------------------------------------------------------------- error parts
    def map_norm_11(self) -> float:
        """Bound on ``||dS||_{1->1}`` from the map's entry error: ``sqrt(d) d^2 e``
        (:func:`~symcoll.dynamics.error_budget.map_norm_11`)."""
        return error_budget.map_norm_11(self.d, self.map_error)

    def map_error_propagated(self, times, split=False, x0=None, snapped=False):
        """Part of the per-time error from the map's error and the energies' rounding.

        Without ``x0``: the state-independent norm chain
        (:func:`~symcoll.dynamics.error_budget.propagated_errors`, ``Gamma t sqrt(d) d^2 e``).
        With ``x0 = vec rho(0)`` (eigenbasis): the first-order response of the actual trajectory
        (:func:`~symcoll.dynamics.error_budget.first_order_response`) plus Gronwall's higher orders
        (:func:`~symcoll.dynamics.error_budget.gronwall_higher_orders`, ``x`` of the norm chain).
        ``snapped``: the propagator set the stationary eigenvalue to 0.  ``split=True``: the two shares.
        """
        if x0 is None:
            return error_budget.propagated_errors(times, self.Gamma_param, self.map_norm_11(), self.energy_error,
                                                  self.spectrum(), split)
        return error_budget.first_order_errors(self, times, x0, snapped, split)

    # --------------------------------------------------------------- propagation
    def propagator(self, method="auto"):
        """The :class:`~symcoll.dynamics.propagate.Propagator` for ``method``.

        See :func:`~symcoll.dynamics.propagate.method_for` for how ``"auto"`` is resolved.
        """
        return PROPAGATORS[method_for(self, method)](self)

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
        x = cv.vec(self._eigenbasis_state(rho0, basis))
        propagator = self.propagator(method)
        states, rounding, diagnostics = propagator.propagate(x, t)
        states = hermitian_part(self.ctx, states) if hermitize else states
        # expm propagates rho(0) - rho_ss: like a snapped stationary eigenvalue, no drift of the trace
        snapped = bool(diagnostics.get("zero_mode_snapped")) or propagator.method == "expm"
        mapb, enb = self.map_error_propagated(t, split=True, x0=to_complex(x), snapped=snapped)
        fo = error_budget.first_order_applies(self.spectrum())  # else the norm chain was used
        return Evolution(
            times=t,
            states=states,
            error=error_budget.evolution_budget(mapb, enb, rounding, self.map_error_rigorous, first_order=fo),
            basis=basis,
            method=propagator.method,
            diagnostics=diagnostics,
            metadata=self.describe(),
            eigenvectors=self.eigensystem.vectors,
        )

    def _eigenbasis_state(self, rho0, basis):
        """Validated ``rho0`` (:func:`symcoll.model.check_density_matrix`) in the eigenbasis, at
        working precision (mpmath input kept as given on the mpmath path)."""
        check_density_matrix(rho0, self.d, "rho0")
        rho = in_context(self.ctx, rho0)
        if basis == "local":
            U = in_context(self.ctx, self.eigensystem.vectors)
            rho = self.ctx.conj(U).T @ rho @ U
        return rho

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
