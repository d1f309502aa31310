"""Structural checks of a collision map: trace, Hermiticity (39), detailed balance (30), sum rule (66), CP."""
from __future__ import annotations

import warnings

import numpy as np

from ..errors import NotCompletelyPositiveWarning
from ..model import QubitChain
from ..numeric import get_context

__all__ = ["CP_WARN_FACTOR"]


def map_diagnostics(cm) -> dict:
    """Structural checks, each ``{"value", "meaning"}`` (float64 numbers).

    * ``trace_preservation``: ``max_{jk} |sum_j' S^{jk}_{j'j'} - delta_jk|``;
    * ``hermiticity``: ``max |S^{jk}_{j'k'} - conj(S^{kj}_{k'j'})|`` (Eq. (39));
    * ``detailed_balance``: ``max |S^{jj}_{j'j'} - e^{-beta Delta_{j'j}} S^{j'j'}_{jj}|`` (Eq. (30));
    * ``sum_rule``: ``max |sum_j S^{jj}_{j'k'} e^{-beta eps^(0)_j} - e^{-beta eps^(0)_j'} delta_j'k'|``
      (Eq. (66), chains only; exact for the local map, an O(eps) statement otherwise);
    * ``min_choi_eigenvalue``: smallest eigenvalue of the Choi matrix (< 0: not CP).
    """
    tr, herm, P = cm._population_parts()
    e = get_context(cm.dps).float_array(cm.eigensystem.energies)
    beta = float(cm.bath.beta)
    h0 = cm.kind in ("local", "exact_h0")
    detuned = isinstance(cm.system, QubitChain) and not cm.system.uniform
    # uniform chain: an eigenstate of H(eps) in band n has H(0) energy n h; a detuned chain's
    # eigenstates are not eigenstates of H(0) = H_loc, so (30) is checked with the energies of H(eps)
    # and the H(0) statement by the generalised sum rule below
    e_db = float(cm.system.h) * np.asarray(cm.eigensystem.bands, dtype=float) if h0 and not detuned else e
    db = _detailed_balance_defect(P, beta, e_db)
    out = {
        "trace_preservation": {"value": float(np.max(np.abs(tr))),
                               "meaning": "max_jk |sum_j' S^{jk}_{j'j'} - delta_jk| (0: trace preserving)"},
        "hermiticity": {"value": float(herm),
                        "meaning": "max |S^{jk}_{j'k'} - conj(S^{kj}_{k'j'})|, Eq. (39)"},
        "detailed_balance": {"value": db,
                             "meaning": "max over Delta_{j'j} >= 0 of |S^{jj}_{j'j'} - exp(-beta Delta_{j'j}) "
                                        "S^{j'j'}_{jj}| (upward jumps: no overflow at large beta h), Eq. (30), "
                                        + ("with the H(0) energies eps0 = h * band used in the scattering"
                                           if h0 and not detuned else "with the energies of H")
                                        + (" (detuned chain: the maps built on H(0) violate it at O(beta eps); "
                                           "their exact statement is the sum rule S(e^{-beta H_loc}) = "
                                           "e^{-beta H_loc})" if h0 and detuned else "")},
    }
    if h0 and not detuned:
        out["detailed_balance_eps"] = {
            "value": _detailed_balance_defect(P, beta, e),
            "meaning": "Eq. (30) with the energies of H(eps): violated at O(beta eps) by the maps built "
                       "on H(0) (intra-band populations do not thermalise, Fig. 4)"}
    if detuned:
        out["sum_rule"] = _detuned_sum_rule(cm, beta)
    elif isinstance(cm.system, QubitChain):
        e0 = float(cm.system.h) * np.asarray(cm.eigensystem.bands, dtype=float)
        g = np.exp(-beta * (e0 - e0.min()))
        lhs = cm._sum_rule_lhs(g)
        res = lhs - np.diag(g)
        out["sum_rule"] = {
            "value": float(np.max(np.abs(res))),
            "meaning": "max |sum_j S^{jj}_{j'k'} e^{-beta eps0_j} - e^{-beta eps0_j'} delta_j'k'|, Eq. (66) "
                       "(eps0 = h * band; exact for kind='local', O(eps) or O(sigma_p coherence) otherwise)",
            "applies": cm.kind == "local",
        }
    lam = cm.choi_eigenvalues()
    out["min_choi_eigenvalue"] = {"value": float(lam[0]),
                                  "meaning": "smallest eigenvalue of the Choi matrix; < 0 means not completely positive"
                                             + cm._choi_note}
    out["storage"] = {"value": cm.storage, "meaning": cm._storage_note}
    out["error_estimate"] = {"value": cm.error_estimate,
                             "meaning": "max abs entry error: " + cm.error.describe()}
    return out


def _detuned_sum_rule(cm, beta):
    """Eq. (66) for a detuned chain: ``max |S(G0) - G0|`` with ``G0 = e^{-beta (H_loc - min)}`` in the
    eigenbasis of H(eps) (a full matrix: ``[H_loc, H(eps)] != 0``).

    The local map is ``S_1 (x) id`` in the local basis with ``S_1`` the one-qubit map of the coupled
    site, whose fixed point is that qubit's Gibbs state (detailed balance (42)-(43) of the one-qubit
    map); ``e^{-beta H_loc}`` is the product of the one-qubit Gibbs factors, hence a fixed point.
    """
    es = cm.eigensystem
    ctx = get_context(cm.dps)
    U = ctx.to_complex128(es.vectors)
    e0 = cm.system.local_energies()
    G0 = (U.conj().T * np.exp(-beta * (e0 - e0.min()))) @ U
    lhs = cm.apply(G0)
    lhs = ctx.to_complex128(lhs)
    return {
        "value": float(np.max(np.abs(lhs - G0))),
        "meaning": "max |S(G0) - G0|, G0 = exp(-beta H_loc) (unnormalised, eigenbasis of H(eps)): Eq. (66) "
                   "generalised to a detuned chain (exact for kind='local', O(eps) or O(sigma_p coherence) "
                   "otherwise)",
        "applies": cm.kind == "local",
    }


def _detailed_balance_defect(P, beta, e):
    """``max |P[j', j] - exp(-beta Delta_{j'j}) P[j, j']|`` over the pairs with ``Delta_{j'j} >= 0`` (Eq. (30)).

    ``P[j', j] = S^{jj}_{j'j'}``.  Each unordered pair is tested once, in the upward direction,
    where the Boltzmann factor is <= 1: the downward form is the same statement multiplied by
    ``exp(beta |Delta|)``, which overflows (inf * 0 = NaN) at large ``beta h``.
    """
    delta = np.asarray(e, dtype=float)[:, None] - np.asarray(e, dtype=float)[None, :]
    up = delta >= 0
    factor = np.exp(-beta * np.where(up, delta, 0.0))
    defect = np.abs(P - factor * P.T)
    return float(np.max(defect[up])) if np.any(up) else 0.0


CP_WARN_FACTOR = 100.0
"""An exact map warns (:class:`NotCompletelyPositiveWarning`) when its smallest Choi eigenvalue
is below ``-CP_WARN_FACTOR`` times the numerical noise level of that eigenvalue."""


def _check_complete_positivity(cm):
    """Measure the complete-positivity defect of a dense exact map (38) at build time.

    The smallest eigenvalue ``lambda_min`` of the Choi matrix J (``d^2 x d^2``) is computed in
    float64 (one eigenvalue: LAPACK ``syevr`` with an index subset).  Its numerical noise level
    is ``d^2 e + d^3 eps_64``: by Weyl's inequality an entry error ``e`` (the map's reported
    error) moves an eigenvalue by at most ``||dJ||_2 <= ||dJ||_F <= d^2 e``, and the float64
    eigen-solver is backward stable with error ``~ d^2 eps_64 ||J||_2 <= d^3 eps_64``
    (``||J||_2 <= Tr J = d``).  Since ``e`` is in part an estimate, so is the noise level.

    Sets ``cm.cp_defect = max(0, -lambda_min)`` and ``info["min_choi_eigenvalue"]``,
    ``info["choi_noise_estimate"]``, and warns with :class:`NotCompletelyPositiveWarning`
    when the defect exceeds :data:`CP_WARN_FACTOR` times the noise: then the map is not CP as
    a property of the incident state (41) (``sigma_p`` not small against ``sqrt(m / beta)``),
    not of the numerics.
    """
    import scipy.linalg as sla

    d = cm.dim
    J = cm._float_tensor().transpose(2, 0, 3, 1).reshape(d * d, d * d)
    J = (J + J.conj().T) / 2
    lam = float(sla.eigh(J, eigvals_only=True, subset_by_index=[0, 0], driver="evr")[0])
    noise = d * d * cm.error_estimate + d**3 * float(np.finfo(float).eps)
    cm.cp_defect = max(0.0, -lam)
    cm.info["min_choi_eigenvalue"] = lam
    cm.info["choi_noise_estimate"] = noise
    if cm.cp_defect > CP_WARN_FACTOR * noise:
        p_th = cm.bath.thermal_momentum
        warnings.warn(
            f"the exact map (38) is not completely positive: smallest Choi eigenvalue {lam:.2e}, "
            f"{cm.cp_defect / noise:.0f} times its numerical noise {noise:.1e}; this is a property of the "
            f"incident state (41) at sigma_p = {float(cm.bath.sigma_p):g} = {float(cm.bath.sigma_p) / p_th:.2g} "
            f"sqrt(m/beta), not a numerical error (README: 'Where the model applies')",
            NotCompletelyPositiveWarning, stacklevel=3)
