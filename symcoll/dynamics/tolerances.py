"""Decision thresholds of the dynamics (7)/(71), in one documented place.

Every threshold at which the dynamics changes what it does (snap an eigenvalue to 0, switch
from ``"eig"`` to ``"expm"``, declare the steady state not unique, keep eigenvalues together
in one block, stop an iteration) is a method or field of :class:`DynamicsTolerances`, scaled to
the unit round-off ``eps`` of the arithmetic whose output it judges.  The rest of symcoll keeps
its tolerances in :class:`symcoll.numeric.Tolerances`; these are meant to join it.

Not here: the coefficients of the rounding *estimates* (``4 d u max|eps_j|``,
``4 sqrt(n) u ||L||``, ...), which are part of the error models documented where they are
computed.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["COND_V_MAX", "FLOAT64_EPS", "DynamicsTolerances"]

COND_V_MAX = 1e8
"""``method="auto"`` switches from ``"eig"`` to ``"expm"`` above this ``cond_2(V)``."""

FLOAT64_EPS = float(np.finfo(float).eps)
"""Unit round-off of float64 (``2**-52``)."""


@dataclass(frozen=True)
class DynamicsTolerances:
    """Thresholds of the propagation and of the steady state, scaled to ``eps``.

    Parameters
    ----------
    eps : float
        Unit round-off of the arithmetic whose output is judged: float64 (the default) for the
        float64 eigen-decomposition, SVD and LU, which both paths use; ``ctx.eps`` for the
        mpmath refinement.

    Attributes
    ----------
    cluster_factor : float
        Eigenvalues of a block closer than ``cluster_factor`` times the largest off-diagonal
        entry left by the float64 eigenvectors are not separated by the refinement (their
        difference would divide it) but exponentiated together.
    refine_max_steps : int
        Most similarity steps of the refinement (each squares the off-diagonal part).
    neumann_radius : float
        A Neumann series ``(I + G)^{-1} = sum_k (-G)^k`` is summed only when
        ``n max|G_ij| < neumann_radius``; otherwise a direct inverse (or
        ``neumann_fallback_terms`` terms) is used.
    neumann_fallback_terms : int
        Terms of the Neumann series of a refinement step when ``G`` is not small.
    lu_refine_max_iter : int
        Most steps of the mixed-precision iterative refinement of the steady state.
    lu_refine_stagnation : float
        That refinement stops (and falls back to an mpmath elimination) when a correction is
        not smaller than this fraction of the previous one.
    """

    eps: float = FLOAT64_EPS
    cluster_factor: float = 1e4
    refine_max_steps: int = 8
    neumann_radius: float = 0.5
    neumann_fallback_terms: int = 40
    lu_refine_max_iter: int = 60
    lu_refine_stagnation: float = 0.5

    @staticmethod
    def eig_is_safe(cond_v: float) -> bool:
        """``method="auto"`` uses ``"eig"`` when ``cond_2(V) <= COND_V_MAX`` (read at call time)."""
        return cond_v <= COND_V_MAX

    def zero_mode(self, norm_L: float, n: int, kappa0: float) -> float:
        """Largest ``|lambda_0|`` of the float64 stationary eigenvalue that is set to exactly 0.

        First-order perturbation size ``kappa_0 ||E||`` of the eigenvalue under the backward
        error ``||E|| ~ n u ||L||`` of ``geev`` (with a factor 64), never below ``1e3 u ||L||``.
        """
        return max(64 * n * self.eps * norm_L * kappa0, 1e3 * self.eps * norm_L)

    def zero_mode_refined(self, norm_L: float) -> float:
        """Largest ``|lambda_0|`` set to 0 on the mpmath path (``eps`` = float64: the trace
        defect of a float64 map converted exactly to mpmath is a float64 rounding)."""
        return 1e3 * 64 * self.eps * max(norm_L, 1.0)

    def relaxation_gap_floor(self, norm_L: float) -> float:
        """A spectral gap of L at or below this is treated as no gap (no saturation of the
        energy-rounding error, see :func:`symcoll.dynamics.error_budget.propagated_errors`)."""
        return 1e3 * self.eps * max(norm_L, 1.0)

    def bordered_singular(self, n: int, norm_A: float) -> float:
        """``sigma_min`` of the bordered generator (n x n) at or below this: no unique steady state."""
        return 1e3 * n * self.eps * max(norm_A, 1.0)

    def eigen_cluster(self, off0: float) -> float:
        """Eigenvalues closer than this stay in one block (``cluster_factor`` times ``off0``)."""
        return max(self.cluster_factor * float(off0), 1e-300)

    def refine_target(self, norm_L: float) -> float:
        """The refinement stops when the off-diagonal part is at or below ``eps max(||L||, 1)``."""
        return self.eps * max(norm_L, 1.0)
