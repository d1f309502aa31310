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

Modules, one idea each

:mod:`~symcoll.dynamics.generator`
    :class:`Lindbladian`: validation, the superoperator (71), ``evolve`` and ``steady_state``.
:mod:`~symcoll.dynamics.reservoirs`
    Several reservoirs: ``Lindbladian(system, [S_1, ...], [Gamma_1, ...])`` gives
    ``sum_i Gamma_i (S_i - I)`` through one effective map ``S_eff = sum_i (Gamma_i/Gamma) S_i``
    (:class:`~symcoll.dynamics.reservoirs.CombinedMap`); heat flows in :mod:`symcoll.transport`.
:mod:`~symcoll.dynamics.spectrum`
    Invariant blocks of L (the global map (45) and the local map (54)-(56) only couple
    entries with equal (band) Bohr frequencies: N = 3 gives 23 and 7 blocks, N = 6 global
    425 blocks of at most 88) and their float64 eigen-decomposition.
:mod:`~symcoll.dynamics.lean_spectrum`, :mod:`~symcoll.dynamics.lean_gap`
    The exact map from N = 6 (one block of 4096, 16384 at N = 7): the spectrum of the real matrix ``B^H L B``
    (Hermitian basis) kept in real form, built from the map's tensor, never the dense L (propagation, error budget and
    gap from it); the gap alone from its eigenvalues.
:mod:`~symcoll.dynamics.propagate`
    One contract, ``Propagator.propagate(x, times) -> (states, rounding, diagnostics)``, and
    the methods (``method=`` of :meth:`Lindbladian.evolve`): ``"eig"`` (float64
    ``V diag(lambda) V^{-1}``, stationary eigenvalue set to exactly 0), ``"expm"`` (float64
    scaling and squaring, insensitive to eigenvector conditioning), ``"auto"`` (``"eig"``
    unless ``cond(V) > COND_V_MAX``, then ``"expm"``) and ``"refined"`` (mpmath, any ``dps``).
:mod:`~symcoll.dynamics.refine`
    The eigen-decomposition refined from float64 to ``dps`` digits by similarity steps.
:mod:`~symcoll.dynamics.steady`
    The stationary state (bordered system: float64 LU, or mixed-precision iterative refinement
    on the mpmath path) and its first order in Gamma, Eq. (35).
:mod:`~symcoll.dynamics.error_budget`
    The propagated map error (a **bound** when the map's entry error is a bound, else an
    **estimate**: ``||dS||_{1->1} <= sqrt(d) d^2 e``, Duhamel + Gronwall) and the energies'
    rounding (**estimate**); the propagators add their rounding **estimate**.
:mod:`~symcoll.dynamics.sectors`, :mod:`~symcoll.dynamics.sector_solve`, :mod:`~symcoll.dynamics.sector_generator`
    Issue 16: ``Lindbladian(system, compact_map, Gamma)`` (``storage="compact"``, global (45) or local
    (54)-(56)) is a :class:`~symcoll.dynamics.sector_generator.SectorLindbladian`: L built sector by
    sector (Bohr-frequency sectors of (45) in the eigenbasis; excitation-difference sectors of (67) in
    the local basis), never densified; steady state, gap and propagation per sector (slow modes for
    large sectors), with error estimates.
:mod:`~symcoll.dynamics.gap`
    ``Lindbladian.spectral_gap()``: the smallest ``|Re lambda|`` over the nonzero eigenvalues of (71),
    :class:`~symcoll.dynamics.gap.SpectralGap` (value, eigenvalue, ``relaxation_time``, error estimate).
:mod:`~symcoll.dynamics.results`, :mod:`~symcoll.dynamics.user_maps`, :mod:`~symcoll.dynamics.tolerances`
    :class:`Evolution`, :class:`SteadyState`; :class:`TensorMap`, :func:`kraus_map`; the decision
    thresholds (:class:`~symcoll.dynamics.tolerances.DynamicsTolerances`, :data:`COND_V_MAX`).

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
from .generator import Lindbladian, _check_gamma, _check_times  # noqa: F401  (validators used by symcoll.paper)
from .results import Evolution, SteadyState
from .steady import perturbative_coherences
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
