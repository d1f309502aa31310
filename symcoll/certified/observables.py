"""Certified observables, Eqs. (72)-(75): Arb intervals that contain the true values.

Same names and index conventions as :mod:`symcoll.observables` (eigenbasis of H(eps), 0-based
eigen-indices, ascending energies): :func:`band_ratio` (74), :func:`beta_eff` (75),
:func:`coherence` / :func:`coherence_abs` (``rho_23`` of Fig. 3 is ``coherence(state, 2, 3)``),
:func:`gibbs_state` (72) and :func:`trace_distance` / :func:`trace_distance_to_gibbs`.  Each
takes a certified state -- a :class:`~symcoll.certified.dynamics.CertifiedEvolution` (one value
per time, a list), a :class:`~symcoll.certified.dynamics.CertifiedSteadyState`, an ``acb_mat``
or a float enclosure ``(mid, rad)`` -- and returns ``flint.arb`` balls; :func:`interval`
turns a ball into a float pair ``(lo, hi)`` rounded outwards.

Every result is an enclosure because every step is Arb ball arithmetic on balls that contain
the true state and energies, except the trace distance, whose eigenvalue step is bounded by the
Hoffman-Wielandt argument in :func:`trace_distance` (README_derivations.md, 'Certified dynamics').
"""
from __future__ import annotations

import math

import numpy as np

from ..observables import _index  # one check of an eigen-index for both number types
from flint import acb, acb_mat, arb

from .dynamics import CertifiedEvolution, CertifiedSteadyState, workprec

__all__ = [
    "band_ratio",
    "beta_eff",
    "coherence",
    "coherence_abs",
    "gibbs_state",
    "trace_distance",
    "trace_distance_to_gibbs",
    "interval",
]

_PREC = 128


# ----------------------------------------------------------------------------- inputs
def _balls(state):
    """``(list of d x d acb_mat, single)`` from a certified result, an acb_mat or ``(mid, rad)``."""
    if isinstance(state, CertifiedEvolution):
        return list(state.balls), False
    if isinstance(state, CertifiedSteadyState):
        return [state.balls], True
    if isinstance(state, acb_mat):
        if state.nrows() != state.ncols():
            raise ValueError(f"state must be a square matrix (got {state.nrows()} x {state.ncols()})")
        return [state], True
    if isinstance(state, tuple) and len(state) == 2:
        mid, rad = np.asarray(state[0]), np.asarray(state[1], dtype=float)
        if mid.shape != rad.shape or mid.ndim not in (2, 3) or mid.shape[-1] != mid.shape[-2]:
            raise ValueError(f"(mid, rad) must have equal shapes (d, d) or (T, d, d) (got {mid.shape}, {rad.shape})")
        if not np.all(np.isfinite(rad)) or np.any(rad < 0):
            raise ValueError("rad must be finite and >= 0")
        single = mid.ndim == 2
        mid, rad = mid.reshape((-1,) + mid.shape[-2:]), rad.reshape((-1,) + rad.shape[-2:])
        d = mid.shape[-1]
        out = []
        for m, r in zip(mid, rad):
            M = acb_mat(d, d)
            for j in range(d):
                for k in range(d):
                    # |w - m| <= r  =>  Re, Im each within r: the ball below contains w
                    M[j, k] = acb(arb(float(m[j, k].real), float(r[j, k])), arb(float(m[j, k].imag), float(r[j, k])))
            out.append(M)
        return out, single
    raise TypeError("state must be a CertifiedEvolution, CertifiedSteadyState, flint.acb_mat or a (mid, rad) pair "
                    f"(got {type(state).__name__})")


def _energies(state, energies):
    if energies is None:
        energies = getattr(state, "energies", None)
    if energies is None:
        raise ValueError("energies are needed (a list of arb balls, e.g. cmap.energy_balls()); the state carries "
                         "none")
    if hasattr(energies, "energy_balls"):
        energies = energies.energy_balls()
    return [e if isinstance(e, arb) else arb(float(e)) for e in energies]




def _out(values, single):
    return values[0] if single else values


def interval(x):
    """``(lo, hi)`` floats with ``lo <= x <= hi`` for every point of the arb ball ``x`` (rounded outwards:
    ``float`` rounds by less than one ulp, the next float outwards covers it)."""
    if isinstance(x, (list, tuple)):
        return [interval(v) for v in x]
    if not isinstance(x, arb):
        raise TypeError(f"interval needs a flint.arb (got {type(x).__name__})")
    lo, hi = x.lower(), x.upper()
    return float(np.nextafter(float(lo), -np.inf)), float(np.nextafter(float(hi), np.inf))


# ----------------------------------------------------------------------------- (74), (75), coherences
def band_ratio(state, system, band=1):
    """Eq. (74) generalised: ``sum_{n_j = band} rho_jj / rho_00`` (``rho_123 / rho_00`` for N = 3), as arb.

    The populations are the real parts of the diagonal balls (the true rho is Hermitian, so its
    diagonal is real and lies in the real part of each ball).  ValueError if the ball of
    ``rho_00`` contains 0 (the ratio is not certified to be finite).
    """
    mats, single = _balls(state)
    bands = np.asarray(system.eigensystem().bands if hasattr(system, "eigensystem") else system)
    if bands is None or bands.ndim != 1:
        raise ValueError("band_ratio needs a QubitChain (its eigenstates carry an excitation number)")
    band = _index("band", band, int(bands.max()) + 1)
    out = []
    with workprec(_PREC):
        for M in mats:
            if M.nrows() != len(bands):
                raise ValueError(f"state has dimension {M.nrows()} but the system has {len(bands)} levels")
            p0 = M[0, 0].real
            if p0.contains(0):
                raise ValueError("band_ratio is not certified: the ball of rho_00 contains 0")
            num = sum((M[j, j].real for j in np.flatnonzero(bands == band)), arb(0))
            out.append(num / p0)
    return _out(out, single)


def beta_eff(state, j, k, energies=None):
    """Eq. (75): ``beta_eff(j -> k) = log(rho_jj / rho_kk) / (eps_k - eps_j)`` as arb.

    ``energies``: arb balls of the eigenvalues (default: the state's ``energies``, i.e. the
    certified map's ``energy_balls()``), or a certified map.  ValueError if a population ball
    is not certified positive or the energy difference ball contains 0.
    """
    mats, single = _balls(state)
    E = _energies(state, energies)
    d = mats[0].nrows()
    j, k = _index("j", j, d), _index("k", k, d)
    out = []
    with workprec(_PREC):
        dkj = E[k] - E[j]
        if dkj.contains(0):
            raise ValueError(f"beta_eff(j -> k) needs eps_j != eps_k (the ball of eps_{k} - eps_{j} contains 0)")
        for M in mats:
            pj, pk = M[j, j].real, M[k, k].real
            if not (pj > 0 and pk > 0):
                raise ValueError(f"beta_eff is not certified: the ball of rho_{j}{j} or rho_{k}{k} is not positive "
                                 "(log undefined)")
            out.append((pj / pk).log() / dkj)
    return _out(out, single)


def coherence(state, j, k):
    """``rho_jk`` as an acb ball (e.g. ``rho_23`` of Fig. 3)."""
    mats, single = _balls(state)
    d = mats[0].nrows()
    j, k = _index("j", j, d), _index("k", k, d)
    return _out([M[j, k] for M in mats], single)


def coherence_abs(state, j, k):
    """``|rho_jk|`` as an arb ball (``|rho_23|`` of Fig. 3)."""
    c = coherence(state, j, k)
    with workprec(_PREC):
        return [abs(z) for z in c] if isinstance(c, list) else abs(c)


# ----------------------------------------------------------------------------- (72) and distances
def gibbs_state(energies, beta):
    """Gibbs state (72) in balls: ``diag(exp(-beta (eps_j - eps_0))) / Z`` (eigenbasis), a ``d x d`` acb_mat.

    ``beta`` (a float) is taken as exact; ``energies`` are arb balls (or a certified map).
    """
    if isinstance(beta, bool) or not isinstance(beta, (int, float, np.floating)) or not (
            math.isfinite(beta) and beta > 0):
        raise ValueError(f"beta must be a finite float > 0 (got {beta!r})")
    E = _energies(None, energies)
    d = len(E)
    with workprec(_PREC):
        b = arb(float(beta))
        w = [(-(e - E[0]) * b).exp() for e in E]
        Z = sum(w, arb(0))
        G = acb_mat(d, d)
        for i in range(d):
            G[i, i] = acb(w[i] / Z)
    return G


def _fro_upper(M: acb_mat) -> arb:
    """Upper bound of the Frobenius norm of every matrix in the ball ``M`` (an exact arb)."""
    s = arb(0)
    for j in range(M.nrows()):
        for k in range(M.ncols()):
            s += abs(M[j, k]).upper() ** 2
    return s.sqrt().upper()


def _trace_norm_half(D: acb_mat) -> arb:
    """Ball containing ``||X||_1 / 2`` for every Hermitian ``X`` in the ball ``D``.

    Let ``H`` be the exactly Hermitian float64 matrix made from the midpoints of ``D``, and
    ``H = V diag(w) V^dagger`` its float64 eigendecomposition (``w`` ascending, ``V`` almost
    unitary).  With ``delta >= ||V^dagger V - I||_F`` (balls; needs ``delta < 1``),
    ``F = V^dagger X V - diag(w)`` (balls, contains the value for every X in D) and
    ``a >= ||X||_F``: the polar factor ``Q`` of ``V`` is unitary with ``||V - Q||_2 <= delta``
    and ``||V||_2 <= 1 + delta``, so ``||Q^dagger X Q - diag(w)||_F <= ||F||_F + (2 delta +
    delta^2) a =: eta``.  ``Q^dagger X Q`` has the eigenvalues ``lambda`` of X; by
    Hoffman-Wielandt (Hermitian, both sorted) ``sum_i (lambda_i - w_i)^2 <= eta^2``, so
    ``|sum |lambda_i| - sum |w_i|| <= sum |lambda_i - w_i| <= sqrt(d) eta`` (Cauchy-Schwarz).
    Hence ``||X||_1 / 2`` lies in ``[sum |w_i| / 2 +- sqrt(d) eta / 2]`` (intersected with
    ``[0, inf)``).
    """
    d = D.nrows()
    Hm = np.array([[complex(float(D[j, k].real.mid()), float(D[j, k].imag.mid())) for k in range(d)]
                   for j in range(d)])
    Hm = np.triu(Hm, 1) + np.triu(Hm, 1).conj().T + np.diag(Hm.diagonal().real)
    w, V = np.linalg.eigh(Hm)
    Vb = acb_mat([[acb(float(V[j, k].real), float(V[j, k].imag)) for k in range(d)] for j in range(d)])
    Vh = Vb.conjugate().transpose()
    G = Vh * Vb
    for i in range(d):
        G[i, i] = G[i, i] - 1
    delta = _fro_upper(G)
    if not delta < 1:
        raise ValueError("trace distance: the float64 eigenvectors are not close to unitary (delta >= 1)")
    F = Vh * D * Vb
    for i in range(d):
        F[i, i] = F[i, i] - float(w[i])
    a = _fro_upper(D)
    eta = _fro_upper(F) + (2 * delta + delta * delta) * a
    s = sum((abs(arb(float(x))) for x in w), arb(0))
    half = s / 2
    err = (arb(d).sqrt() * eta / 2).upper()
    lo = (half - err).lower()
    hi = (half + err).upper()
    lo = lo if lo > 0 else arb(0)
    return arb(lo).union(arb(hi))


def trace_distance(state, sigma):
    """``D(rho, sigma) = ||rho - sigma||_1 / 2`` as arb (bound: :func:`_trace_norm_half`).

    ``sigma``: an acb_mat (e.g. :func:`gibbs_state`) or anything :func:`_balls` accepts for one
    state.  Both true states must be Hermitian (density matrices).
    """
    mats, single = _balls(state)
    (S,), _ = _balls(sigma) if not isinstance(sigma, acb_mat) else ([sigma], True)
    if S.nrows() != mats[0].nrows():
        raise ValueError(f"rho and sigma must have the same dimension (got {mats[0].nrows()} and {S.nrows()})")
    with workprec(_PREC):
        return _out([_trace_norm_half(M - S) for M in mats], single)


def trace_distance_to_gibbs(state, beta, energies=None):
    """Trace distance to the Gibbs state (72) at ``beta``, as arb (energies as in :func:`beta_eff`)."""
    return trace_distance(state, gibbs_state(_energies(state if not isinstance(state, tuple) else None, energies),
                                             beta))
