"""Collision maps made by the user: a given tensor (:class:`TensorMap`) or Kraus operators
(:func:`kraus_map`), duck-typed like :class:`symcoll.maps.CollisionMap` for :class:`Lindbladian`."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import conventions as cv
from ..budget import ErrorBudget, HasErrorBudget

__all__ = ["TensorMap", "kraus_map"]


class MapLike(HasErrorBudget):
    """Shared by the duck-typed collision maps (:class:`TensorMap`, :class:`~symcoll.dynamics.reservoirs.CombinedMap`):
    ``error_estimate`` / ``error_bound`` / ``error_parts`` from ``.error`` and the eigensystem of
    ``system`` at the map's ``dps`` (the basis of the tensor)."""

    @property
    def eigensystem(self):
        return self.system.eigensystem(self.dps)


@dataclass
class TensorMap(MapLike):
    """Minimal collision-map object (duck-typed like :class:`symcoll.maps.CollisionMap`).

    Use it to hand a user-made tensor ``tensor[j', k', j, k] = S^{jk}_{j'k'}`` (Eq. (17),
    eigenbasis of ``system``) to :class:`Lindbladian`.  ``error_bound_given`` (third argument)
    is the user's bound on the entry errors; ``.error`` reports it as a bound.
    """

    tensor: np.ndarray
    system: object
    error_bound_given: float = 0.0
    kind: str = "user"
    dps: int | None = None

    @property
    def error(self) -> ErrorBudget:
        """The entry error the user gave, taken as a proven bound (0 for exact input)."""
        return ErrorBudget({"given": (float(self.error_bound_given), "bound",
                                      "entry error bound supplied with the tensor")})

    def superoperator(self):
        return cv.tensor_to_superoperator(self.tensor)


def kraus_map(system, kraus, basis="eigen", error_bound=0.0, kind="kraus"):
    """Collision tensor ``S^{jk}_{j'k'} = sum_l <j'|M_l|j> <k|M_l^dagger|k'>`` (Eqs. (4), (17)).

    Parameters
    ----------
    system : System or QubitChain
    kraus : sequence of (d, d) arrays
        Kraus operators ``M_l`` (``sum_l M_l^dagger M_l = I`` for a CPTP map, not enforced).
    basis : {"eigen", "local"}
        Basis of the given ``M_l``; ``"local"`` ones are rotated into the eigenbasis.
    error_bound : float
        Bound on the entry error of the resulting tensor (0 for exact input).

    Returns
    -------
    TensorMap
    """
    d = system.dim
    if basis not in ("eigen", "local"):
        raise ValueError(f"basis must be 'eigen' or 'local' (got {basis!r})")
    U = np.asarray(system.eigensystem().vectors, dtype=complex)
    T = np.zeros((d, d, d, d), dtype=complex)
    for M in kraus:
        M = np.asarray(M, dtype=complex)
        if M.shape != (d, d):
            raise ValueError(f"each Kraus operator must have shape ({d}, {d}) (got {M.shape})")
        if basis == "local":
            M = U.conj().T @ M @ U
        T += np.einsum("aj,bk->abjk", M, M.conj())
    return TensorMap(T, system, float(error_bound), kind)
