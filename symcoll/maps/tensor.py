"""The collision tensor with its error budget: :class:`CollisionMap` (dense storage)."""
from __future__ import annotations

import numbers
import warnings

import numpy as np

from .. import conventions as cv
from ..budget import ErrorBudget, HasErrorBudget
from ..errors import NotCompletelyPositiveWarning
from ..numeric import get_context
from .diagnostics import map_diagnostics

__all__ = ["CollisionMap"]


def _rotate(ctx, T0, W):
    """``T[j',k',j,k] = sum conj(W[a',j']) W[b',k'] W[a,j] conj(W[b,k]) T0[a',b',a,b]``.

    Change of basis of a collision tensor from the basis ``|a>`` to ``|j> = sum_a W[a, j] |a>``.
    """
    Wc = ctx.conj(W)
    T = np.tensordot(T0, Wc, axes=([0], [0]))  # [b', a, b, j']
    T = np.tensordot(T, W, axes=([0], [0]))  # [a, b, j', k']
    T = np.tensordot(T, W, axes=([0], [0]))  # [b, j', k', j]
    T = np.tensordot(T, Wc, axes=([0], [0]))  # [j', k', j, k]
    return T


# ----------------------------------------------------------------------------- public API
class CollisionMap(HasErrorBudget):
    """A collision tensor ``S^{jk}_{j'k'}`` with its error budget (Eqs. (17), (38), (45), (54)-(56)).

    Attributes
    ----------
    tensor : (d, d, d, d) complex array
        ``tensor[j', k', j, k] = S^{jk}_{j'k'}`` in the eigenbasis of ``system.eigensystem(dps)``
        so that ``(S rho)_{j'k'} = sum_{jk} tensor[j', k', j, k] rho_{jk}``; float64 complex, or an
        object array of mpmath numbers when ``dps`` is given.
    error : ErrorBudget
        Error of the largest absolute entry, in parts (``"quadrature"``, ``"rounding"``,
        ``"interpolation"``, ``"rotation"``: estimates; ``"tail"``: a bound), each with its kind.
    error_estimate : float
        ``error.total``: the reported entry error.
    error_bound : float or None
        ``error.total`` only when every part is a proven bound (``error.rigorous``); None for the
        float64 and mpmath maps, whose quadrature and rounding errors are estimates.
    error_parts : dict
        ``name -> {"value", "kind" ("bound" | "estimate"), "note"}`` (view of ``error``).
    system_fingerprint : tuple
        Identity of the system the map was built for (checked by every consumer).
    kind, system, bath, coupling, dps, eigensystem, ladder
        Inputs and the eigenbasis the tensor refers to.
    info : dict
        Quadrature statistics (panels, evaluations, E_max).
    """

    storage = "dense"
    cp_defect = None
    """``max(0, -lambda_min(Choi))`` measured at build time for the exact kinds (38); None for
    the global (45) and local (54)-(56) kinds, completely positive by construction (their Choi
    matrix is a positive-weighted sum of ``a a^dagger`` on each Bohr class)."""

    def __init__(self, tensor, error_parts, kind, system, bath, coupling, dps, eigensystem, info=None):
        self._tensor = tensor
        self._dim = int(tensor.shape[0]) if tensor is not None else len(eigensystem.energies)
        self.error = ErrorBudget(error_parts)
        self.kind = kind
        self.system = system
        self.system_fingerprint = system.fingerprint()  # checked by every consumer (model.check_map_system)
        self.bath = bath
        self.coupling = coupling
        self.dps = dps
        self.eigensystem = eigensystem
        self.ladder = getattr(system, "ladder", None)
        self.info = dict(info or {})

    def __repr__(self):
        return (f"CollisionMap(kind={self.kind!r}, d={self.dim}, dps={self.dps}, "
                f"error_estimate={self.error_estimate:.2e}, system={getattr(self.system, 'name', self.system)!r})")

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def tensor(self):
        """The dense ``(d, d, d, d)`` tensor ``[j', k', j, k]`` (see the class docstring)."""
        return self._tensor

    def _float_tensor(self):
        return get_context(self.dps).to_complex128(self.tensor)

    def superoperator(self):
        """Column-stacking superoperator ``(d^2, d^2)`` (QuTiP's convention, :mod:`symcoll.conventions`)."""
        return cv.tensor_to_superoperator(self.tensor)

    def choi(self):
        """Choi matrix ``J = sum_{jk} |j><k| (x) S(|j><k|)`` (QuTiP's ``to_choi`` ordering).

        ``J[j d + j', k d + k'] = tensor[j', k', j, k]``; S is completely positive iff J >= 0.
        """
        d = self.dim
        return self.tensor.transpose(2, 0, 3, 1).reshape(d * d, d * d)

    def choi_eigenvalues(self):
        """Eigenvalues (float64, ascending) of the Hermitian part of the Choi matrix."""
        J = self._float_tensor().transpose(2, 0, 3, 1).reshape(self.dim**2, self.dim**2)
        return np.linalg.eigvalsh((J + J.conj().T) / 2)

    def kraus(self, tol=1e-12):
        """Kraus operators ``K_i`` with ``S(rho) = sum_i K_i rho K_i^dagger`` from the Choi matrix.

        Eigenvectors of the (Hermitian part of the) Choi matrix with eigenvalue ``> tol``
        give ``K_i[j', j] = sqrt(lambda_i) v_i[j d + j']`` (float64).  If the map is not
        completely positive to within ``tol`` (the exact map (38) with the Gaussian kernel
        (41) restricted to p > 0 can have Choi eigenvalues ~ -1e-9) a RuntimeWarning names
        the most negative eigenvalue; the negative part is dropped, so the returned Kraus
        set reproduces the map only up to that amount.
        """
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not tol >= 0:
            raise ValueError(f"tol must be a real number >= 0 (got {tol!r})")
        d = self.dim
        J = self._float_tensor().transpose(2, 0, 3, 1).reshape(d * d, d * d)
        lam, V = np.linalg.eigh((J + J.conj().T) / 2)
        if lam[0] < -tol:
            warnings.warn(
                f"map is not completely positive: smallest Choi eigenvalue {lam[0]:.3e} < -tol={tol:.1e}; "
                "the Kraus operators drop the negative part", NotCompletelyPositiveWarning, stacklevel=2)
        keep = np.flatnonzero(lam > tol)[::-1]
        return [np.sqrt(lam[i]) * V[:, i].reshape(d, d).T for i in keep]

    def apply(self, rho):
        """``(S rho)_{j'k'} = sum_{jk} S^{jk}_{j'k'} rho_{jk}`` (rho in the eigenbasis of H)."""
        r = np.asarray(rho)
        d = self.dim
        if r.shape[-2:] != (d, d):
            raise ValueError(f"rho must have shape ({d}, {d}) (or (..., {d}, {d})) (got {r.shape})")
        if self.tensor.dtype == object or r.dtype == object:  # number-type branch: einsum needs float64
            return np.tensordot(np.asarray(r, dtype=object), self.tensor, axes=([-2, -1], [2, 3]))
        return np.einsum("abjk,...jk->...ab", self.tensor, r)

    _choi_note = " (dense eigvalsh of the d^2 x d^2 Choi matrix)"
    _storage_note = "dense (d, d, d, d) tensor; all checks on the full tensor"

    def _population_parts(self):
        """Trace defect ``(d, d)``, max Hermiticity defect (39), populations ``P[j', j] = S^{jj}_{j'j'}``."""
        T = self._float_tensor()
        d = self.dim
        idx = np.arange(d)
        tr = np.einsum("aajk->jk", T) - np.eye(d)
        herm = float(np.max(np.abs(T - np.conj(T.transpose(1, 0, 3, 2)))))
        P = T[idx[:, None], idx[:, None], idx[None, :], idx[None, :]].real
        return tr, herm, P

    def _sum_rule_lhs(self, g):
        """``sum_j S^{jj}_{j'k'} g_j`` (left side of (66))."""
        return np.einsum("abjj,j->ab", self._float_tensor(), g)

    def diagnostics(self) -> dict:
        """Structural checks, each ``{"value", "meaning"}`` (float64 numbers); see :func:`map_diagnostics`."""
        return map_diagnostics(self)
