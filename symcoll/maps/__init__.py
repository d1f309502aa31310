"""Collision maps with error budgets: exact (38), global (45), local (54)-(56).

All maps are computed in the variable of Appendix B, the outgoing kinetic energy
``E`` (``E_out`` of Eq. (B3)).  Writing ``Delta_{ab} = eps_a - eps_b``,
``P_{j'j}(E) = sqrt(2 m (E + Delta_{j'j}))`` and changing variables in (38)
(``p = P_{j'j}(E)``, ``pi(p) = P_{k'k}(E)``, ``dp = m dE / p``)::

    S^{jk}_{j'k'} = sum_alpha int_0^inf dE  w(p, q)  a^alpha_{j'j}(E) [a^alpha_{k'k}(E)]^*,
    w(p, q) = m rho_U(p, q) / sqrt(p q)
            = beta (p + q) / (2 sqrt(p q)) exp(-beta (p + q)^2 / (8 m)) exp(-(p - q)^2 / (2 sigma_p^2)),
    a^alpha_{j'j}(E) = s^(alpha)_{j'j}(E + eps_j'),     p = P_{j'j}(E),  q = P_{k'k}(E),

where ``a`` vanishes when channel j (or k) is closed, so the integrand starts at
``E_min = max(0, -Delta_{j'j}, -Delta_{k'k})`` (the ``p_inf`` of (38)).  Both factors
share the outgoing energy E, so one quadrature node needs the s-matrices only at
the d energies ``E + eps_j'`` (one row of each).

The narrow-packet limit (44) turns the weight into ``beta exp(-beta (E + Delta_{j'j}))``
on the entries with ``Delta_{j'j} = Delta_{k'k}`` and zero elsewhere: the global map (45).

Quadrature: panels between all channel thresholds ``eps_l - eps_j' > 0`` (and 0), graded
toward clusters of thresholds, the square-root endpoint substitution of
:mod:`symcoll.quadrature` (the ``(E - E_min)^{-1/4}`` singularity of w cancels against the
flux factors ``K^{1/2}`` of (C1)), Gauss-Kronrod (G10, K21) per panel in float64 and
Gauss-Legendre pairs (n, 2n) in mpmath (difference = error *estimate*), bisection where
that estimate is too large, and an analytic (rigorous) bound on the truncated Gaussian tail.

Storage (``collision_map(..., storage=...)``): the exact kinds keep the dense ``d^4`` tensor;
the global and local kinds can be kept compactly (default for N >= 7): (45) as one matrix
per Bohr class (its only nonzero entries), (54)-(56) as the site-qubit map ``S_1`` with
``S = U^dagger [(S_1 (x) id_rest)(U rho U^dagger)] U`` (U = eigenvectors of H(eps) in the
local basis).  ``apply`` and ``diagnostics`` then work blockwise.

s-matrix rows (``collision_map(..., smatrix=...)``): solved at every node, or (float64, kinds
"global" and "local") read off Chebyshev tables of ``(K(T) + i m g V)^{-1}`` in the total energy
(:mod:`symcoll.interpolation`), with the interpolation error as its own part of the bound.

Modules (one idea each):

* :mod:`~symcoll.maps.build` -- :func:`collision_map`, :func:`exact_entries` (the public constructors);
* :mod:`~symcoll.maps.tensor` -- :class:`CollisionMap`, the tensor with its error budget;
* :mod:`~symcoll.maps.compact` -- compact storages (Bohr-class blocks, site-qubit map);
* :mod:`~symcoll.maps.engine` -- what the engines share: s-matrix rows (C1)-(C2), panels;
* :mod:`~symcoll.maps.exact` / :mod:`~symcoll.maps.narrow` -- the engines of (38) and (45)/(54)-(56);
* :mod:`~symcoll.maps.integrate` -- adaptive quadrature, breakpoints, truncation, error parts;
* :mod:`~symcoll.maps.spectrum` -- degenerate levels and Bohr classes;
* :mod:`~symcoll.maps.memory` -- memory estimates and :data:`MAX_BYTES`;
* :mod:`~symcoll.maps.options` -- kinds, options and input validation;
* :mod:`~symcoll.maps.diagnostics` -- structural checks and the complete-positivity check.
"""
from .build import collision_map, exact_entries
from .diagnostics import CP_WARN_FACTOR
from .integrate import _Engine  # noqa: F401  (private: used by tests)
from .memory import MAX_BYTES, estimate_compact_memory, estimate_memory
from .options import DENSE_AUTO_MAX_N, INTERPOLATE_AUTO_MIN_DIM, KINDS, SMATRIX, STORAGES
from .spectrum import _bohr_classes, _cluster_sorted, _snap_energies  # noqa: F401  (private: used by tests)
from .tensor import CollisionMap

__all__ = ["collision_map", "CollisionMap", "exact_entries", "KINDS", "MAX_BYTES", "estimate_memory",
           "STORAGES", "estimate_compact_memory", "SMATRIX", "CP_WARN_FACTOR", "DENSE_AUTO_MAX_N",
           "INTERPOLATE_AUTO_MIN_DIM"]
