"""Verified eigensystems of H (balls), in the project's basis conventions.

The certified maps are written in the eigenbasis of H(eps) of :mod:`symcoll.conventions`:
ascending energies, and the phase rule of :func:`symcoll.conventions.fix_phases` (the first
component with ``|v_i| >= 0.5 max |v|`` is made real positive).  This module encloses those
energies and eigenvectors in balls:

* **QubitChain, eps > 0.**  ``H_int`` conserves the excitation number, so H(eps) is block
  diagonal over the bands and its eigenvectors are the band eigenvectors of ``H_int`` (the
  free-fermion eigenvectors of the chain): Arb's verified eigensolver (``acb_mat.eig``, Rump's
  or van der Hoeven-Mourrain's method) runs on each band block of ``H_int`` (exact integer
  matrices), the energies are ``n h + eps lambda``, and the vectors vanish exactly outside their
  band.  Bands must have simple ``H_int`` eigenvalues (true for N <= 3; N = 4 has a double
  level and is refused with a clear error).
* **QubitChain, eps = 0.**  H = H_loc is diagonal with exact energies ``n h``; the canonical
  basis of each degenerate band (:func:`symcoll.model._canonical_degenerate_basis`, Gram-Schmidt of
  the projected local basis vectors) is the local basis itself, exactly: U is a permutation.
* **System.**  ``acb_mat.eig`` on the full (real symmetric) H; every eigenvalue must be simple.

Eigenvectors are normalised and phase-fixed in ball arithmetic: a verified eigenvector ``v`` of
a real symmetric matrix with a simple eigenvalue is ``c w`` with ``w`` real, so ``v / v_i`` is real
for any ``i`` with ``v_i != 0``; dividing by the component of largest modulus and normalising gives
the real unit eigenvector up to sign, and the imaginary parts (balls containing 0) are dropped.
The sign is the phase rule's, decided on balls; an undecidable comparison raises.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..chain import QubitChain
from ._arb import acb_mat, arb, arb_mat, to_arb

__all__ = ["BallEigensystem", "ball_eigensystem"]


@dataclass
class BallEigensystem:
    """Energies and eigenvectors of H as balls, in the order and phases of ``system.eigensystem()``.

    Attributes
    ----------
    energies : list of arb
        Ascending eigenvalues.
    vectors : arb_mat (d, d)
        Column j is ``|j>`` in the local basis (real, unit norm, phase rule applied).
    bands : list of int or None
        Excitation number of each eigenstate (chains).
    lam : list of arb or None
        ``H_int`` eigenvalue of each eigenstate (chains): ``energies = n h + eps lam``.
    method : str
        How the enclosure was obtained (stated in the map's error budget).
    exact_energies : list or None
        Exact symbolic energies (sympy) for the chain, used to prove coincidences of thresholds.
    """

    energies: list
    vectors: arb_mat
    bands: list | None = None
    lam: list | None = None
    method: str = ""
    exact_energies: list | None = field(default=None, repr=False)

    @property
    def dim(self):
        return len(self.energies)


def _unit_real_vector(col):
    """Real unit vector (balls) from a verified complex eigenvector ``col`` (list of acb)."""
    mags = [abs(c) for c in col]
    i = int(np.argmax([float(m.mid()) for m in mags]))
    piv = col[i]
    if not (abs(piv) > 0):
        raise ValueError("certified eigensystem: could not normalise an eigenvector (raise dps)")
    w = [(c / piv).real for c in col]  # exactly real for the true vector; the imaginary balls contain 0
    nrm = sum((x * x for x in w), arb(0)).sqrt()
    return [x / nrm for x in w]


def _phase_rule(v, threshold=0.5):
    """Apply :func:`symcoll.conventions.fix_phases` to a real ball vector: first ``|v_i| >= 0.5 max`` made > 0."""
    mags = [abs(x) for x in v]
    vmax = mags[0]
    for m in mags[1:]:
        vmax = vmax.max(m)  # a ball containing max_i |v_i| for every point of the input balls
    thr = vmax * threshold
    for i, m in enumerate(mags):
        if m >= thr:
            if not (v[i] > 0 or v[i] < 0):
                raise ValueError("certified eigensystem: the sign of a pivot component is undecidable (raise dps)")
            return [x if v[i] > 0 else -x for x in v]
        if not (m < thr):
            raise ValueError("certified eigensystem: the phase rule's pivot is undecidable at this precision "
                             "(a component is within rounding of half the largest; raise dps)")
    raise ValueError("certified eigensystem: no pivot component found")


def _verified_eig(M, what):
    """Eigenvalues (list of arb) and real unit eigenvectors (list of lists of arb) of a real symmetric arb_mat."""
    d = M.nrows()
    if d == 1:
        return [M[0, 0]], [[arb(1)]]
    try:
        E, R = acb_mat(M).eig(right=True)
    except ValueError as exc:
        raise ValueError(f"certified eigensystem of {what}: Arb could not isolate its eigenvalues ({exc}); "
                         "certified maps need simple eigenvalues (degenerate levels, e.g. QubitChain N >= 4, "
                         "are not supported yet) or a higher dps") from exc
    vals = [e.real for e in E]
    vecs = [_unit_real_vector([R[i, k] for i in range(d)]) for k in range(d)]
    order = sorted(range(d), key=lambda k: float(vals[k].mid()))
    return [vals[k] for k in order], [vecs[k] for k in order]


def _sort_check(energies, what):
    """Ascending order must be decidable on the balls."""
    for a, b in zip(energies, energies[1:]):
        if not (a < b):
            raise ValueError(f"certified eigensystem of {what}: two levels cannot be ordered at this precision "
                             "(overlapping balls; the system is degenerate or needs a higher dps)")


def ball_eigensystem(system) -> BallEigensystem:
    """Enclose the eigensystem of ``system`` in balls (module doc), in the current flint precision.

    Raises
    ------
    ValueError
        Degenerate levels that cannot be certified (QubitChain N >= 4 at eps > 0, a System with
        a multiple eigenvalue), or a precision too low to order the levels.
    """
    if isinstance(system, QubitChain):
        if not system.uniform:
            raise ValueError(
                f"ball_eigensystem supports uniform chains only (one h), not the detuned {system.name}: the "
                "band energies are enclosed from the exact n h + eps lambda (issue 14)")
        return _chain_eigensystem(system)
    H = np.asarray(system.hamiltonian())
    if np.iscomplexobj(H):
        if np.any(H.imag != 0):
            raise ValueError("certified maps need a real symmetric H")
        H = H.real
    d = H.shape[0]
    M = arb_mat(d, d)
    for i in range(d):
        for j in range(d):
            M[i, j] = to_arb(float(H[i, j]))
    vals, vecs = _verified_eig(M, "H")
    _sort_check(vals, "H")
    U = arb_mat(d, d)
    for k, v in enumerate(vecs):
        v = _phase_rule(v)
        for i in range(d):
            U[i, k] = v[i]
    return BallEigensystem(vals, U, None, None, "acb_mat.eig (verified, simple eigenvalues) on H")


def _exact_band_eigenvalues(block):
    """Exact (sympy) eigenvalues of a small integer/rational band block of H_int, ascending."""
    import sympy

    B = sympy.Matrix([[sympy.Rational(float(x)) for x in row] for row in np.asarray(block)])
    roots = []
    for r, mult in B.eigenvals().items():
        roots += [r] * mult
    return sorted(roots, key=lambda r: float(sympy.N(r, 30)))


def _chain_eigensystem(chain: QubitChain) -> BallEigensystem:
    import sympy

    d, N = chain.dim, chain.N
    h = to_arb(float(chain.h))
    eps = to_arb(float(chain.eps))
    hq, epsq = sympy.Rational(float(chain.h)), sympy.Rational(float(chain.eps))
    cols, energies, bands, lams, exact = [], [], [], [], []
    for n, idx, block in chain._band_blocks():
        k = len(idx)
        if float(chain.eps) == 0.0:
            # H = H_loc: the canonical basis of the band is its local basis, in local-index order
            for a in range(k):
                v = [arb(0)] * d
                v[int(idx[a])] = arb(1)
                cols.append(v)
                energies.append(h * n)
                bands.append(n)
                lams.append(arb(0))
                exact.append(n * hq)
            continue
        M = arb_mat(k, k)
        for i in range(k):
            for j in range(k):
                M[i, j] = to_arb(float(block[i, j]))
        vals, vecs = _verified_eig(M, f"band n={n} of H_int")
        if k > 1:
            _sort_check(vals, f"band n={n} of H_int (N={N})")
        lam_exact = _exact_band_eigenvalues(block) if k > 1 else [sympy.Integer(0)]
        for a in range(k):
            # the exact roots (used only to prove coincidences of thresholds) must match the verified ones
            if abs(float(vals[a].mid()) - float(sympy.N(lam_exact[a], 30))) > 1e-12:
                raise RuntimeError("certified eigensystem: exact and verified band eigenvalues disagree")
            v = [arb(0)] * d
            for i in range(k):
                v[int(idx[i])] = vecs[a][i]
            cols.append(v)
            energies.append(h * n + eps * vals[a])
            bands.append(n)
            lams.append(vals[a])
            exact.append(n * hq + epsq * lam_exact[a])
    order = sorted(range(d), key=lambda i: (float(energies[i].mid()), bands[i], float(lams[i].mid())))
    if float(chain.eps) != 0.0:
        _sort_check([energies[i] for i in order], f"QubitChain(N={N})")
    U = arb_mat(d, d)
    for new, old in enumerate(order):
        v = cols[old] if float(chain.eps) == 0.0 else _phase_rule(cols[old])
        for i in range(d):
            U[i, new] = v[i]
    method = ("exact local basis (H = H_loc, canonical degenerate bases)" if float(chain.eps) == 0.0 else
              "acb_mat.eig (verified) on each band block of H_int (free-fermion eigenvectors, exact band zeros)")
    return BallEigensystem([energies[i] for i in order], U, [bands[i] for i in order], [lams[i] for i in order],
                           method, [exact[i] for i in order])
