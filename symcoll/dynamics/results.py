"""Results of the dynamics: :class:`Evolution` (rho(t) of Eq. (71)) and :class:`SteadyState`.

Both carry their error as an :class:`~symcoll.budget.ErrorBudget` (``.error``), with
``.error_estimate`` (the total) and ``.error_bound`` (the total only when every part is a
proven bound, else ``None``).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..budget import ErrorBudget, HasErrorBudget
from ._arrays import to_complex

__all__ = ["Evolution", "SteadyState"]


@dataclass
class Evolution(HasErrorBudget):
    """Result of :meth:`Lindbladian.evolve`.

    Attributes
    ----------
    times : (T,) float array
    states : (T, d, d) array
        ``rho(t)`` in the eigenbasis of H(eps) (complex128, or mpmath numbers for ``dps``).
    error : ErrorBudget
        Per time (arrays of shape (T,)), the error of ``max_{jk} |rho_jk(t) - rho_jk^exact(t)|``
        in parts: ``"map"`` (propagated map error: a bound when the map's error is a bound,
        else an estimate), ``"energies"`` and ``"rounding"`` (estimates).
    error_estimate : (T,) float array
        ``error.total``.
    error_bound : (T,) float array or None
        ``error.total`` only when every part is a proven bound (never for float64 runs).
    basis : str
        Basis in which ``rho0`` was given (``states`` are always in the eigenbasis).
    method : str
    diagnostics : dict
        ``cond_V`` (2-norm condition number of the eigenvector matrix), ``norm_L``, ...
    metadata : dict
        System description (ladder convention), map kind, Gamma, dps.
    """

    times: np.ndarray
    states: np.ndarray
    error: ErrorBudget
    basis: str
    method: str
    diagnostics: dict
    metadata: dict
    eigenvectors: np.ndarray = None

    @property
    def error_kinds(self) -> dict:
        """``name -> "kind (note)"`` of each error part."""
        return {k: f"{p.kind} ({p.note})" for k, p in self.error.parts.items()}

    def states_float(self) -> np.ndarray:
        """``states`` as complex128."""
        return to_complex(self.states)

    def to_local(self) -> np.ndarray:
        """States in the local basis, ``U rho U^dagger`` (complex128)."""
        U = to_complex(self.eigenvectors)
        return np.einsum("ij,tjk,lk->til", U, self.states_float(), U.conj())


@dataclass
class SteadyState(HasErrorBudget):
    """Stationary state of L (the kernel, normalised to trace 1), eigenbasis.

    Attributes
    ----------
    state : (d, d) array
        Hermitian (projected, which never increases the error).
    residual : float
        ``||L rho_ss||_2`` (Frobenius of the matrix ``L rho_ss``) evaluated at working precision.
    error : ErrorBudget
        Error of the Frobenius norm of ``rho_ss`` (hence of the largest entry, and ``sqrt(d)``
        times it for the trace norm): ``"rounding"`` and ``"map"``, both estimates, computed
        componentwise through the inverse of the bordered generator (``|A^{-1}| (|r| + ...)``,
        ``|A^{-1}| |dA| |x|``; :func:`symcoll.dynamics.steady._componentwise_errors`), or
        norm-wise with ``1/sigma_min`` for n > 1024.  ``error_estimate`` is the total;
        ``error_bound`` is None unless every part is a bound.
    sigma_min : float
        Smallest singular value of the bordered generator (L with the (0,0) row replaced by
        the trace); ``sigma_min / ||L||`` is the relative gap that certifies a unique kernel.
    """

    state: np.ndarray
    residual: float
    error: ErrorBudget
    sigma_min: float
    metadata: dict

    def __array__(self, dtype=None, copy=None):
        s = to_complex(self.state)
        return s if dtype is None else s.astype(dtype)
