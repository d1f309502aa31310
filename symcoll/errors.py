"""Warnings symcoll emits (one base class, so that users can filter them together).

* :class:`SymcollWarning` -- base class of every warning symcoll emits;
  ``warnings.simplefilter("error", symcoll.SymcollWarning)`` turns them all into exceptions,
  ``"ignore"`` silences them.
* :class:`NotCompletelyPositiveWarning` -- an exact map (38) is not completely positive by
  far more than its numerical noise (:mod:`symcoll.maps`).
* :class:`KernelCacheWarning` -- an on-disk kernel cache entry was rejected (corrupt,
  truncated, tampered with, or belonging to another kernel) and rebuilt, or could not be
  written (:mod:`symcoll.kernels`).

Errors are the builtin ``ValueError``/``TypeError`` with a message naming the parameter and
its allowed range.
"""
from __future__ import annotations

__all__ = ["SymcollWarning", "NotCompletelyPositiveWarning", "KernelCacheWarning"]


class SymcollWarning(UserWarning):
    """Base class of every warning symcoll emits."""


class NotCompletelyPositiveWarning(SymcollWarning, RuntimeWarning):
    """A collision map is not completely positive by more than its numerical error.

    The exact map (38) with the Gaussian incident state (41) is not completely positive
    when ``sigma_p`` is not small against the thermal momentum ``sqrt(m / beta)``: the
    kernel ``rho_U(p, q) = mu_eff((p + q)/2) exp(-(p - q)^2 / (2 sigma_p^2))`` restricted
    to ``p, q > 0`` is not a positive operator.  This is a property of the model (41), not
    a numerical error (README.md, "Where the model applies").
    """


class KernelCacheWarning(SymcollWarning):
    """An on-disk kernel cache entry was rejected and rebuilt, or could not be written.

    The computed numbers are never affected: a rejected entry is never executed, the
    kernel is regenerated from its symbolic expression instead.
    """
