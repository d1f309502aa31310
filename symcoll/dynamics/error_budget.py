"""Error budget of an evolution under Eq. (71): what the map's error and the energies' rounding do.

Per time, on the largest absolute entry of rho(t) (eigenbasis):

* ``map`` (**bound** when the map's entry error is a proven bound, else an **estimate**): with
  ``e`` the map's entry error, the computed map ``S' = S + dS`` has
  ``||dS||_{1->1} <= sqrt(d) d^2 e`` (trace norm ``<= sqrt(d)`` Frobenius, Frobenius of the
  (d^2, d^2) matrix ``<= d^2 e``).  Duhamel's formula with the true CPTP semigroup
  (contractive in trace norm) and Gronwall give ``||rho'(t) - rho(t)||_1 <= x/(1 - x)``,
  ``x = Gamma t ||dS||_{1->1}`` (infinite when x >= 1), and ``max |entry| <= ||.||_1``.
* ``energies`` (**estimate**): the eigenvalues of H carry rounding ``delta_eps`` (estimated
  ``4 d u max|eps_j|``); ``||[dH, .]||_{1->1} <= 2 delta_eps`` adds ``2 t delta_eps`` to x
  above.  This is what limits float64 at t = 1e7 when coherences live that long.
* ``rounding`` (**estimate**): first-order perturbation theory of the propagation method
  (:meth:`symcoll.dynamics.propagate.Propagator.propagate`), checked against the
  ``dps = 50`` path in the tests.
"""
from __future__ import annotations

import math

import numpy as np

from ..budget import ErrorBudget
from .tolerances import DynamicsTolerances

__all__ = ["map_entry_error", "energy_rounding", "map_norm_11", "propagated_errors", "evolution_budget"]


def map_entry_error(cmap):
    """``(e, rigorous)``: the map's entry error and whether it is a proven bound.

    Reads ``cmap.error`` (an :class:`ErrorBudget`); a duck-typed map with only a float
    ``error_bound`` is taken at its word (a bound).

    Raises
    ------
    ValueError
        The error is not a float >= 0.
    """
    budget = getattr(cmap, "error", None)
    if isinstance(budget, ErrorBudget):
        e, rigorous = budget.total, budget.rigorous
    else:
        e, rigorous = getattr(cmap, "error_bound", 0.0), True
        e = 0.0 if e is None else e
    try:
        e = float(e)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"collision_map's entry error must be a float >= 0 (got {e!r})") from exc
    if not e >= 0:
        raise ValueError(f"collision_map's entry error must be a float >= 0 (got {e!r})")
    return e, bool(rigorous)


def energy_rounding(ctx, energies) -> float:
    """Rounding **estimate** ``delta_eps = 4 d u max(max_j |eps_j|, 1)`` of the eigenvalues of H
    (band-by-band ``eigh`` is backward stable), ``u = ctx.eps``."""
    ef = np.asarray(ctx.to_float(energies), dtype=float)
    return 4.0 * len(ef) * ctx.eps * max(float(np.max(np.abs(ef))), 1.0)


def map_norm_11(d, e) -> float:
    """``||dS||_{1->1} <= sqrt(d) d^2 e`` from the map's entry error ``e`` (see the module doc)."""
    return math.sqrt(d) * d * d * e


def propagated_errors(times, Gamma, norm_11, energy_error, spectrum, split=False):
    """Part of the per-time error from the map's error and the energies' rounding.

    ``x = x_map + x_H`` with ``x_map = Gamma t ||dS||_{1->1}`` (a bound when the map's entry
    error is a bound, else an estimate) and ``x_H = 2 t delta_eps``
    (``||[dH, .]||_{1->1} <= 2 delta_eps``, with ``delta_eps`` a rounding estimate of the
    eigenvalues of H; t is replaced by ``min(t, cond(V) (1 - exp(-gap t)) / gap)`` since
    ``[dH, rho]`` is traceless and decays with the spectral gap of L); the total is
    ``x / (1 - x)`` (Duhamel + Gronwall, ``inf`` for x >= 1).

    Parameters
    ----------
    times : (T,) float array
    Gamma : float
    norm_11 : float
        :func:`map_norm_11`.
    energy_error : float
        :func:`energy_rounding`.
    spectrum : FloatSpectrum
        Gives the relaxation gap and ``cond(V)``.
    split : bool
        Return the two shares ``(x_map / (1 - x), x_H / (1 - x))`` instead of their sum.
    """
    t = np.asarray(times, dtype=float)
    xm = t * float(Gamma) * norm_11
    # [dH, rho] is traceless: beyond the relaxation time its effect saturates
    # (||exp(L s) X|| <= cond(V) exp(-gap s) ||X|| for traceless X)
    gap = spectrum.relaxation_gap()
    if gap > DynamicsTolerances().relaxation_gap_floor(spectrum.normL):
        teff = np.minimum(t, spectrum.condV * -np.expm1(-gap * t) / gap)
    else:
        teff = t
    xh = teff * 2.0 * energy_error
    x = xm + xh
    ok = x < 1
    den = np.where(ok, 1 - x, 1.0)
    fm = np.where(ok, xm / den, np.inf)
    fh = np.where(ok, xh / den, np.inf)
    return (fm, fh) if split else fm + fh


def evolution_budget(map_share, energies_share, rounding, map_rigorous) -> ErrorBudget:
    """The :class:`ErrorBudget` of an :class:`~symcoll.dynamics.Evolution`: ``map``, ``energies``
    (the two shares of :func:`propagated_errors`) and the propagator's ``rounding`` estimate."""
    return ErrorBudget({
        "map": (map_share, "bound" if map_rigorous else "estimate",
                "map entries via ||dS||_1->1 <= sqrt(d) d^2 e, Duhamel + Gronwall; "
                + ("e is the map's proven bound" if map_rigorous
                   else "e is the map's error estimate, so this is an estimate")),
        "energies": (energies_share, "estimate",
                     "eigenvalues of H to ~4 d u max|eps_j|, dephasing 2 delta_eps min(t, cond(V)/gap)"),
        "rounding": (np.asarray(rounding, dtype=float), "estimate",
                     "first-order perturbation theory of the propagation method"),
    })
