"""The spectral gap of a large dense generator (71) from its eigenvalues alone (issue 16: the exact map at N = 7).

The spectrum with eigenvectors (:class:`~symcoll.dynamics.lean_spectrum.LeanSpectrum`, which the evolution needs)
of the exact map's 16384 x 16384 generator takes one ``dgeev`` with vectors; the gap needs only the eigenvalues and
the condition number of one of them.  So, for ``n = d^2 > LEAN_GAP_MIN_N`` (float64) when no spectrum is cached:

1. ``R = B^H L B`` is built straight from the map's tensor, row block by row block, in the orthonormal basis ``B``
   of Hermitian matrices (:func:`~symcoll.dynamics.spectrum._real_eig`): L preserves Hermiticity, so R is real
   (its imaginary part is checked to be below ``sqrt(n) u ||L||_F`` and dropped: inside the backward-error estimate
   below).  One real ``(n, n)`` array, half a complex one.
2. Its eigenvalues by LAPACK (``dgeev`` without vectors, in place); ``g = min |Re lambda|`` over all but the one of
   smallest modulus (the stationary mode), as :func:`~symcoll.dynamics.gap.gap_from_eigenvalues`.
3. The condition number ``kappa = ||y|| ||v|| / |y^H v|`` of the minimiser from one LU of ``L - lambda I`` (built from
   the tensor) and three steps of inverse iteration for the right and the left eigenvector; the residual
   ``||L v - lambda v||`` is reported.

The error budget is that of :func:`~symcoll.dynamics.gap.gap_from_eigenvalues` (first order, ``kappa`` times the
backward error ``4 sqrt(n) u ||L||_F`` of the eigenvalue solver and times ``Gamma n e + 2 delta_eps`` for the map and
the energies): estimates.  Memory: the real R plus one complex LU (checked up front), besides the map.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla

from .. import conventions as cv
from ._arrays import to_complex
from .gap import gap_from_eigenvalues
from .spectrum import hermitian_pairs, real_basis_matrix
from .tolerances import FLOAT64_EPS

__all__ = ["LEAN_GAP_MIN_N", "lean_gap"]

LEAN_GAP_MIN_N = 8192
"""Generators with more than this many entries of ``vec rho`` (``d^2``; the exact map from N = 7) get their gap from
the eigenvalues alone; smaller ones from the cached dense spectrum, which their evolution needs anyway."""

ROW_CHUNK = 256
"""Rows of R formed at once from the tensor."""


def _rows(g, r, bohr):
    """Rows ``r`` (column-stacking indices ``j' + d k'``) of L, ``(len(r), d^2)`` complex, from the tensor:
    ``L[j' + d k', j + d k] = Gamma T[j', k', j, k] - (i (eps_j' - eps_k') + Gamma) delta``."""
    d = g.d
    T = np.asarray(g.tensor)
    Gam = float(g.Gamma_param)
    X = T[r % d, r // d].transpose(0, 2, 1).reshape(len(r), d * d) * Gam  # index j + d k: k slow
    X[np.arange(len(r)), r] += -1j * bohr[r] - Gam
    return X


def real_generator(g):
    """``(R, ||R||_F, ||Im R||_F)``: ``B^H L B`` as a real Fortran-ordered array, built in row blocks from the
    tensor (:func:`~symcoll.dynamics.spectrum.real_basis_matrix`)."""
    d = g.d
    n = d * d
    e = np.asarray(to_complex(g.energies)).real
    bohr = cv.vec(e[:, None] - e[None, :])
    return real_basis_matrix(lambda r: _rows(g, r, bohr), hermitian_pairs(np.arange(n), d), chunk=ROW_CHUNK)


class NotRealForm(ValueError):
    """The generator has no real form to rounding (its map does not preserve Hermiticity), or LAPACK's complex
    eigenvalues are not in adjacent conjugate pairs."""


def checked_real_generator(g, copies, what):
    """``(R, ||L||_F, ||Im B^H L B||_F)`` of :func:`real_generator` after the memory check of ``copies`` complex ``(d^2, d^2)`` arrays
    for ``what``; :class:`NotRealForm` when ``||Im B^H L B||_F > sqrt(n) u ||L||_F`` (below, dropping it is inside
    the eigen-solver's backward-error estimate)."""
    from ..maps import memory

    memory.check_generator_memory(g.d, None, copies=copies, what=what)
    R, normL, im = real_generator(g)
    if im > math.sqrt(g.d * g.d) * FLOAT64_EPS * normL:
        raise NotRealForm(f"the generator does not preserve Hermiticity to rounding (||Im B^H L B||_F = {im:.2e}, "
                          f"||L||_F = {normL:.2e}): {what} needs a Hermiticity-preserving map")
    return R, normL, im


def _kappa(g, lam, steps=3):
    """``(kappa, residual)`` of the eigenvalue ``lam`` of L by inverse iteration (right and left vectors)."""
    from .steady import apply_generator, generator_lu

    n = g.d ** 2
    lu, piv, _ = generator_lu(g, shift=lam, what="the LU of L - lambda I (the gap's condition number)")
    rng = np.random.default_rng(16)
    v = rng.normal(size=n) + 1j * rng.normal(size=n)
    y = rng.normal(size=n) + 1j * rng.normal(size=n)
    with np.errstate(all="ignore"):
        for _ in range(steps):
            v = sla.lu_solve((lu, piv), v, trans=1, check_finite=False)  # (L - lam) v_new = v
            v /= np.linalg.norm(v)
            y = np.conj(sla.lu_solve((lu, piv), np.conj(y), trans=0, check_finite=False))  # (L - lam)^H y_new = y
            y /= np.linalg.norm(y)
    del lu
    res = float(np.linalg.norm(apply_generator(g, v) - lam * v))
    den = abs(np.vdot(y, v))
    return (1.0 / den if den > 0 and np.isfinite(den) else math.inf), res


def lean_gap(g):
    """:class:`~symcoll.dynamics.gap.SpectralGap` of a float64 dense generator from its eigenvalues (module doc)."""
    n = g.d * g.d
    R, normL, im = checked_real_generator(g, 0.5, "the eigenvalue-only gap (the real generator B^H L B)")
    lam = sla.eigvals(R, overwrite_a=True, check_finite=False)
    del R
    i0 = int(np.argmin(np.abs(lam)))
    rest = np.delete(np.arange(n), i0)
    jmin = rest[int(np.argmin(-lam[rest].real))]
    kappa, res = _kappa(g, complex(lam[jmin]))
    pert = float(g.Gamma_param) * n * g.map_error + 2 * g.energy_error
    diag = {"method": "eigenvalues of the real generator B^H L B (dgeev, no vectors), kappa by inverse iteration",
            "arnoldi_sectors": 0, "blocks": 1, "eigen_residual": res, "imag_part_dropped": im}
    return gap_from_eigenvalues(lam, None, normL, diag, pert, kappa=kappa, n=n)
