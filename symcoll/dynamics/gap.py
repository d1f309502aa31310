"""The spectral gap of the generator (71): ``g = min |Re lambda|`` over its nonzero eigenvalues.

``1/g`` is the slowest relaxation time of the chain (issue 16).  Trace preservation makes 0 an
exact eigenvalue (the stationary mode, unique when the steady state is); it is the eigenvalue of
smallest modulus and is excluded.  Every other eigenvalue has ``Re lambda <= 0`` (CPTP semigroup).

Error (**estimate**): first-order eigenvalue perturbation ``|d lambda| <= kappa ||dL||_2`` with
``kappa = ||y|| ||v|| / |y^H v|`` the eigenvalue condition number of the minimiser (left/right
eigenvectors of its block), for two perturbations: the rounding of the float64 eigensolver
(backward error ``~ 4 sqrt(n) u ||L||_F``, or the Arnoldi residual for large sectors) and the map's
entry error with the energies' rounding (``||dL||_2 <= Gamma ||dS||_2 + 2 delta_eps``).  First
order and a float64 ``kappa``: an estimate, never a bound.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from ..budget import ErrorBudget, HasErrorBudget
from .tolerances import FLOAT64_EPS

__all__ = ["SpectralGap", "GapMixin", "gap_from_eigenvalues"]


@dataclass
class SpectralGap(HasErrorBudget):
    """``value`` = smallest ``|Re lambda|`` over the nonzero eigenvalues of L, with its error.

    Attributes
    ----------
    value : float
    eigenvalue : complex
        The eigenvalue attaining it.
    error : ErrorBudget
        ``"rounding"`` and ``"map"`` (both estimates, see the module doc).
    relaxation_time : float
        ``1 / value``.
    diagnostics : dict
        ``method``, ``kappa`` (condition number of the eigenvalue), ``zero_eigenvalue`` (the
        stationary eigenvalue as computed), ``arnoldi_sectors`` (sectors solved by Arnoldi on exp(L tau), 0 if all dense).
    """

    value: float
    eigenvalue: complex
    error: ErrorBudget
    diagnostics: dict = field(default_factory=dict)

    @property
    def relaxation_time(self) -> float:
        return 1.0 / self.value if self.value > 0 else math.inf


def gap_from_eigenvalues(lam, residuals, normL, diagnostics, perturbation, kappa=None, n=None):
    """:class:`SpectralGap` from the eigenvalues ``lam`` (all blocks; the stationary one included).

    ``residuals``: per eigenvalue the residual ``||L v - lambda v||`` (unit v) of an iterative
    solver (0 for a dense solver); ``perturbation``: ``||dL||_2`` from the map and energies;
    ``kappa``: condition number of the minimiser (None: taken as 1, noted in the diagnostics).
    """
    lam = np.asarray(lam)
    res = np.zeros(len(lam)) if residuals is None else np.asarray(residuals, dtype=float)
    i0 = int(np.argmin(np.abs(lam)))
    rest = np.delete(np.arange(len(lam)), i0)
    if not rest.size:
        raise ValueError("L has a single eigenvalue: no gap")
    j = rest[int(np.argmin(-lam[rest].real))]
    value = float(-lam[j].real)
    k = 1.0 if kappa is None else float(kappa)
    nn = len(lam) if n is None else n
    rounding = k * (4 * math.sqrt(nn) * FLOAT64_EPS * normL + float(res[j]))
    err = ErrorBudget({
        "rounding": (rounding, "estimate", "kappa (4 sqrt(n) u ||L||_F + Arnoldi residual), first order"),
        "map": (k * perturbation, "estimate", "kappa (Gamma ||dS||_2 + 2 delta_eps), first order"),
    })
    diag = dict(diagnostics)
    diag.update({"kappa": k, "kappa_known": kappa is not None, "zero_eigenvalue": complex(lam[i0]),
                 "eigenvalues_found": int(len(lam))})
    return SpectralGap(value, complex(lam[j]), err, diag)


def eigenvalue_condition(A, target):
    """``kappa`` of the eigenvalue of the dense matrix ``A`` nearest ``target`` (left/right vectors)."""
    w, vl, vr = sla.eig(A, left=True, right=True)
    i = int(np.argmin(np.abs(w - target)))
    y, v = vl[:, i], vr[:, i]
    den = abs(np.vdot(y, v))
    return float(np.linalg.norm(y) * np.linalg.norm(v) / den) if den > 0 else math.inf


class GapMixin:
    """``spectral_gap()`` for the dense :class:`~symcoll.dynamics.Lindbladian` (float64 blocks)."""

    def spectral_gap(self) -> SpectralGap:
        """Smallest ``|Re lambda|`` over the nonzero eigenvalues of (71), from the float64
        eigen-decomposition of every invariant block (:meth:`spectrum`, kept in real form for the exact map from
        N = 6), with its error estimate; above ``lean_gap.LEAN_GAP_MIN_N`` (the exact map at N = 7) from the
        eigenvalues alone (:func:`~symcoll.dynamics.lean_gap.lean_gap`) unless the spectrum is already there."""
        from . import lean_gap, lean_spectrum

        if not self.ctx.is_mp and self.d ** 2 > lean_gap.LEAN_GAP_MIN_N and self._spectrum is None:
            if getattr(self, "_lean_gap", None) is None:
                self._lean_gap = lean_gap.lean_gap(self)
            return self._lean_gap
        spec = self.spectrum()
        lam = spec.lam
        i0 = spec.i0
        rest = np.delete(np.arange(len(lam)), i0)
        j = rest[int(np.argmin(-lam[rest].real))] if rest.size else i0
        if isinstance(spec, lean_spectrum.LeanSpectrum):  # one block; kappa from the rows of V^-1
            pert = float(self.Gamma_param) * spec.n * self.map_error + 2 * self.energy_error
            return gap_from_eigenvalues(lam, None, spec.normL, {"method": "eigenvalues of the real generator B^H L B "
                                        "(dgeev with vectors)", "arnoldi_sectors": 0, "blocks": 1}, pert,
                                        kappa=float(spec.kappa[j]), n=spec.n)
        # block and position of the minimiser -> its condition number ||V^{-1} row|| (||v|| = 1)
        pos = 0
        kappa = None
        for bk in spec.blocks:
            if j < pos + len(bk.lam):
                if bk.Vinv is not None:
                    kappa = float(np.linalg.norm(bk.Vinv[j - pos]))
                break
            pos += len(bk.lam)
        maxb = max(len(bk.idx) for bk in spec.blocks)
        pert = float(self.Gamma_param) * maxb * self.map_error + 2 * self.energy_error
        return gap_from_eigenvalues(lam, None, spec.normL, {"method": "dense eigenvalues per invariant block",
                                                            "arnoldi_sectors": 0, "blocks": len(spec.blocks)},
                                    pert, kappa=kappa if kappa is not None else math.inf)
