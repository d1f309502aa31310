"""Observables of the chain dynamics, Eqs. (72)-(75), and distances between states.

All states are density matrices in the **eigenbasis of H(eps)** (the basis of
:attr:`symcoll.dynamics.Evolution.states`), as complex128 arrays or object arrays of
mpmath numbers; functions that take a stack ``(T, d, d)`` say so.  Population-type
observables keep mpmath numbers (in the numbers' own private context, never the
global one); distances are computed in float64.

* :func:`populations`, :func:`band_populations`, :func:`coherence` -- ``rho_jj``, the
  population of each excitation band ``n`` (``system.eigensystem().bands``), ``rho_jk``.
* :func:`band_ratio` -- Eq. (74) generalised: ``rho_band / rho_00`` (band 1 over the ground
  state: ``rho_123 / rho_00`` for N = 3).
* :func:`beta_eff` -- Eq. (75): ``beta_eff(j -> k) = log(rho_jj / rho_kk) / Delta_kj``.
* :func:`gibbs_state` -- Eq. (72); :func:`local_thermal_state` -- Eq. (73) for any N;
  :func:`gibbs_ratio`, :func:`local_thermal_ratio` -- their values of (74).
* :func:`trace_distance`, :func:`relative_entropy`.

Examples
--------
>>> from symcoll import QubitChain
>>> from symcoll.observables import gibbs_state, band_ratio, local_thermal_ratio
>>> chain = QubitChain(3, h=4, eps=0.1)
>>> round(float(band_ratio(gibbs_state(chain, 0.1), chain)), 6)
2.013106
>>> round(local_thermal_ratio(chain, 0.1), 6)   # exp(-beta h)
0.67032
"""
from __future__ import annotations

import math

import numpy as np

from .model import _real_param, check_density_matrix, to_ctx
from .numeric import Tolerances, get_context

__all__ = [
    "populations",
    "band_populations",
    "band_ratio",
    "beta_eff",
    "coherence",
    "coherences",
    "gibbs_state",
    "local_thermal_state",
    "gibbs_ratio",
    "local_thermal_ratio",
    "trace_distance",
    "relative_entropy",
    "check_state",
]


def _arr(rho, name="rho"):
    a = np.asarray(rho)
    if a.ndim < 2 or a.shape[-1] != a.shape[-2]:
        raise ValueError(f"{name} must be a (d, d) matrix or a (T, d, d) stack (got shape {a.shape})")
    if a.dtype != object and not np.issubdtype(a.dtype, np.number):
        raise TypeError(f"{name} must hold numbers (got dtype {a.dtype})")
    return a


def _real(x):
    """Real part, elementwise, for complex128 or mpmath object arrays."""
    x = np.asarray(x)
    if x.dtype == object:
        return np.frompyfunc(lambda v: v.real, 1, 1)(x)
    return np.real(x)


def _log(x):
    """Natural log for floats or mpmath numbers (in the number's own context)."""
    if hasattr(x, "context"):
        return x.context.log(x)
    return math.log(x) if x > 0 else (-math.inf if x == 0 else math.nan)


def _bands(system):
    es = system.eigensystem()
    if es.bands is None:
        raise ValueError("band observables need a QubitChain (its eigenstates carry an excitation number)")
    return np.asarray(es.bands)


def _index(name, j, d):
    if isinstance(j, bool) or not isinstance(j, (int, np.integer)):
        raise TypeError(f"{name} must be an integer eigen-index (got {j!r})")
    if not 0 <= j < d:
        raise ValueError(f"{name} must be in 0..{d - 1} (got {j})")
    return int(j)


# ----------------------------------------------------------------------------- populations
def populations(rho):
    """Eigenbasis populations ``rho_jj`` (real part), shape ``(..., d)`` (Figs. 2, 4).

    Parameters
    ----------
    rho : (d, d) or (T, d, d) array in the eigenbasis of H(eps)
    """
    a = _arr(rho)
    return _real(np.diagonal(a, axis1=-2, axis2=-1))


def band_populations(rho, system):
    """Population of each band ``n = 0..N`` (sum of ``rho_jj`` with ``n_j = n``), shape ``(..., N+1)``.

    Parameters
    ----------
    rho : (d, d) or (T, d, d) array, eigenbasis
    system : QubitChain
    """
    p = populations(rho)
    bands = _bands(system)
    if p.shape[-1] != len(bands):
        raise ValueError(f"rho has dimension {p.shape[-1]} but the system has {len(bands)} levels")
    nb = int(bands.max()) + 1
    out = np.stack([p[..., bands == n].sum(axis=-1) for n in range(nb)], axis=-1)
    return out


def band_ratio(rho, system, band=1):
    """Eq. (74) generalised: population of ``band`` over the ground-state population ``rho_00``.

    For N = 3 and ``band=1`` this is ``rho_123 / rho_00 = (rho_11 + rho_22 + rho_33) / rho_00``.
    Raises ValueError if ``rho_00 == 0``.
    """
    bp = band_populations(rho, system)
    nb = bp.shape[-1]
    band = _index("band", band, nb)
    p0 = populations(rho)[..., 0]
    if np.any(np.asarray(p0 == 0)):
        raise ValueError("band_ratio is undefined: the ground-state population rho_00 is 0")
    return bp[..., band] / p0


def beta_eff(rho, system_or_energies, j, k):
    """Effective inverse temperature of Eq. (75): ``beta_eff(j -> k) = log(rho_jj / rho_kk) / Delta_kj``.

    ``Delta_kj = eps_k - eps_j``; for the Gibbs state (72) it equals beta for every pair.

    Parameters
    ----------
    rho : (d, d) or (T, d, d) array, eigenbasis
    system_or_energies : System or array of the eigenvalues (ascending, as in the eigenbasis)
    j, k : int
        Eigen-indices with ``eps_j != eps_k``.

    Raises
    ------
    ValueError
        Equal energies, or a non-positive population (the log is undefined).
    """
    e = system_or_energies.eigensystem().energies if hasattr(system_or_energies, "eigensystem") else np.asarray(system_or_energies)
    p = populations(rho)
    d = p.shape[-1]
    j, k = _index("j", j, d), _index("k", k, d)
    dkj = e[k] - e[j]
    if float(dkj) == 0.0:
        raise ValueError(f"beta_eff(j -> k) needs eps_j != eps_k (got j={j}, k={k} with equal energies)")
    pj, pk = p[..., j], p[..., k]
    flat_j, flat_k = np.atleast_1d(pj).reshape(-1), np.atleast_1d(pk).reshape(-1)
    if any(float(x) <= 0 for x in flat_j) or any(float(x) <= 0 for x in flat_k):
        raise ValueError("beta_eff needs positive populations rho_jj and rho_kk (log undefined otherwise)")
    vals = [(_log(a) - _log(b)) / dkj for a, b in zip(flat_j, flat_k)]
    out = np.array(vals, dtype=object if p.dtype == object else float).reshape(np.shape(pj))
    return out if out.ndim else out[()]


def coherence(rho, j, k):
    """The coherence ``rho_jk`` in the eigenbasis (e.g. ``rho_23`` of Fig. 3), shape ``(...)``."""
    a = _arr(rho)
    d = a.shape[-1]
    j, k = _index("j", j, d), _index("k", k, d)
    return a[..., j, k]


def coherences(rho):
    """``rho`` with its diagonal set to 0 (all coherences ``rho_jk``, ``j != k``)."""
    a = np.array(_arr(rho), copy=True)
    d = a.shape[-1]
    idx = np.arange(d)
    a[..., idx, idx] = 0
    return a


# ----------------------------------------------------------------------------- reference states
def gibbs_state(system, beta, dps=None):
    """Gibbs state (72) ``exp(-beta H) / Z`` in the eigenbasis of H: ``diag(exp(-beta eps_j)) / Z``.

    Computed with energies shifted by ``eps_0`` (no overflow); ``dps`` gives mpmath numbers.
    """
    _real_param("beta", beta, positive=True)
    ctx = get_context(dps)
    e = system.eigensystem(dps).energies
    b = to_ctx(ctx, beta)
    w = ctx.exp(-(e - e[0]) * b) if not ctx.is_mp else np.array([ctx.mp.exp(-(x - e[0]) * b) for x in e], dtype=object)
    Z = w.sum()
    d = len(e)
    out = ctx.zeros((d, d), complex=True)
    for i in range(d):
        out[i, i] = w[i] / Z
    return out


def local_thermal_state(system, beta, dps=None, site=1):
    """Local thermal state (73) for any N, in the eigenbasis of H(eps).

    The bombarded qubit (``site``, 1-based; qubit 1 in the paper) thermalised at beta with
    respect to its energy h (``h_site`` for a detuned chain), the others in ``|0>``:
    ``rho_loc = (exp(-beta h) |10..0><10..0| + |0..0><0..0|) / Z_loc``, ``Z_loc = 1 + exp(-beta h)``
    (local basis, shown for ``site=1``), then ``U^dagger rho_loc U`` with the eigenvectors of
    H(eps).  It is the stationary state of the eps = 0 dynamics from ``|0..0>`` (text after (73)).
    """
    _real_param("beta", beta, positive=True)
    if not hasattr(system, "N") or not hasattr(system, "h_sites"):
        raise ValueError("local_thermal_state needs a QubitChain (qubit energy h and N)")
    if isinstance(site, bool) or not isinstance(site, (int, np.integer)):
        raise TypeError(f"site must be an integer qubit index (1-based) (got {site!r})")
    if not 1 <= site <= system.N:
        raise ValueError(f"site must be in 1..N = 1..{system.N} (got {site})")
    ctx = get_context(dps)
    b, h = to_ctx(ctx, beta), to_ctx(ctx, system.site_h(site))  # the bombarded qubit's h (detuned chains)
    d = 2**system.N
    x = ctx.exp(-b * h)
    rl = ctx.zeros((d, d), complex=True)
    rl[0, 0] = 1 / (1 + x)
    k = 2 ** (system.N - site)  # |0..1..0> with the excitation on ``site``: qubit 1 is the most significant bit
    rl[k, k] = x / (1 + x)
    U = system.eigensystem(dps).vectors
    if ctx.is_mp:
        U = np.asarray(U, dtype=object)
        return ctx.conj(U).T @ rl @ U
    return U.conj().T @ rl @ U


def gibbs_ratio(system, beta, band=1, dps=None):
    """Value of (74) for the Gibbs state (72): ``sum_{n_j = band} exp(-beta (eps_j - eps_0))`` (grey line, Fig. 2)."""
    return band_ratio(gibbs_state(system, beta, dps), system, band)


def local_thermal_ratio(system, beta, dps=None):
    """Value of (74) for the local thermal state (73): ``exp(-beta h)`` (grey line, Fig. 2)."""
    _real_param("beta", beta, positive=True)
    ctx = get_context(dps)
    v = ctx.exp(-to_ctx(ctx, beta) * to_ctx(ctx, system.h))
    return v if ctx.is_mp else float(v)


# ----------------------------------------------------------------------------- distances
def check_state(rho, name="rho", tol=None):
    """Validate a density matrix (Hermitian, trace 1, PSD within ``tol``); returns complex128.

    ``tol`` defaults to ``Tolerances().state_validation()`` (2.2e-11); pass the error estimate
    of a computed state to accept it.
    """
    a = _arr(rho, name)
    if a.ndim != 2:
        raise ValueError(f"{name} must be a single (d, d) density matrix (got shape {a.shape})")
    c = check_density_matrix(a, None, name, Tolerances().state_validation() if tol is None else tol)
    return (c + c.conj().T) / 2


def trace_distance(rho, sigma, tol=None):
    """``D(rho, sigma) = ||rho - sigma||_1 / 2`` (float64); both must be states (see :func:`check_state`)."""
    r = check_state(rho, "rho", tol)
    s = check_state(sigma, "sigma", tol)
    if r.shape != s.shape:
        raise ValueError(f"rho and sigma must have the same shape (got {r.shape} and {s.shape})")
    return float(0.5 * np.abs(np.linalg.eigvalsh(r - s)).sum())


def relative_entropy(rho, sigma, tol=None):
    """Quantum relative entropy ``S(rho || sigma) = Tr rho (log rho - log sigma)`` (nats, float64).

    Eigenvalues below ``tol`` count as zero; returns ``inf`` when the support of rho is not
    contained in the support of sigma.
    """
    r = check_state(rho, "rho", tol)
    s = check_state(sigma, "sigma", tol)
    if r.shape != s.shape:
        raise ValueError(f"rho and sigma must have the same shape (got {r.shape} and {s.shape})")
    t = Tolerances().state_validation() if tol is None else float(tol)
    pr, Ur = np.linalg.eigh(r)
    ps, Us = np.linalg.eigh(s)
    pr = np.where(pr > t, pr, 0.0)
    supp_s = ps > t
    # overlap |<r_a|s_b>|^2
    O = np.abs(Ur.conj().T @ Us) ** 2
    # support check: weight of rho's eigenvectors outside supp(sigma)
    outside = (O[:, ~supp_s] * pr[:, None]).sum()
    if outside > math.sqrt(t):
        return math.inf
    h = float(sum(p * math.log(p) for p in pr if p > 0))
    logs = np.where(supp_s, np.log(np.where(supp_s, ps, 1.0)), 0.0)
    cross = float((pr[:, None] * O * logs[None, :]).sum())
    return max(h - cross, 0.0)
