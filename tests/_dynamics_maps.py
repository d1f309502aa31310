"""Stand-in collision maps for the dynamics tests (CPTP by construction, from Kraus operators).

They have the attributes of ``symcoll.maps.CollisionMap`` that ``symcoll.dynamics`` uses
(duck typing): ``tensor``, ``error_bound``, ``system``, ``kind``, ``dps``.

* :func:`local_thermal_map` -- generalized amplitude damping of qubit 1 towards its Gibbs
  state at ``beta`` (w.r.t. ``h``), identity on the other qubits: a *local* dissipator like
  (54)-(56), whose Lindblad equation (67) has the stationary state ``exp(-beta H(0))/Z_0``
  (68) (independent oracle: closed form).
* :func:`detailed_balance_map` -- Kraus operators ``M_k = sum_j c_jk |j><k|`` in the eigenbasis
  with ``|c_jk|^2 = P(j|k)`` a Metropolis chain obeying detailed balance (30) at ``beta``
  w.r.t. the eigenvalues of H(eps), random phases: creates coherences from populations,
  like the exact map (38), so (70) holds: ``rho_ss = Gibbs + O(Gamma)``.
* :func:`secular_map` -- jump operators ``|j><k|`` only (a global, "IO"-type map like (45)):
  no coherences are created from a diagonal state.
"""
import numpy as np

from symcoll import conventions as cv
from symcoll.dynamics import kraus_map


def gad_kraus(beta, h, p):
    """Generalized amplitude damping of one qubit (order (|0>,|1>)) with fixed point Gibbs(beta h)."""
    q = 1.0 / (1.0 + np.exp(-beta * h))  # ground-state population of the Gibbs state
    s = np.sqrt
    return [
        s(q) * np.array([[1, 0], [0, s(1 - p)]]),
        s(q) * np.array([[0, s(p)], [0, 0]]),
        s(1 - q) * np.array([[s(1 - p), 0], [0, 1]]),
        s(1 - q) * np.array([[0, 0], [s(p), 0]]),
    ]


def local_thermal_map(chain, beta, p=0.5):
    N = chain.N
    ks = [cv.site_operator(K, 1, N) for K in gad_kraus(beta, float(chain.h), p)]
    m = kraus_map(chain, ks, basis="local", kind="local-standin")
    return m


def metropolis(energies, beta, rng, strength=0.6):
    e = np.asarray(energies, dtype=float)
    d = len(e)
    A = rng.uniform(0.2, 1.0, size=(d, d))
    A = (A + A.T) / 2
    np.fill_diagonal(A, 0)
    A *= strength / A.sum(axis=0).max()
    P = A * np.minimum(1.0, np.exp(-beta * (e[:, None] - e[None, :])))  # P[j, k] = P(j|k)
    np.fill_diagonal(P, 0)
    P[np.diag_indices(d)] = 1 - P.sum(axis=0)
    return P


def detailed_balance_map(chain, beta, rng, strength=0.6):
    e = chain.eigensystem().energies
    P = metropolis(e, beta, rng, strength)
    d = len(e)
    ks = []
    for k in range(d):
        ph = np.exp(2j * np.pi * rng.uniform(size=d))
        M = np.zeros((d, d), dtype=complex)
        M[:, k] = np.sqrt(P[:, k]) * ph
        ks.append(M)
    return kraus_map(chain, ks, kind="detailed-balance-standin")


def secular_map(chain, beta, rng, strength=0.6):
    e = chain.eigensystem().energies
    P = metropolis(e, beta, rng, strength)
    d = len(e)
    ks = []
    for j in range(d):
        for k in range(d):
            if P[j, k] > 0:
                M = np.zeros((d, d))
                M[j, k] = np.sqrt(P[j, k])
                ks.append(M)
    return kraus_map(chain, ks, kind="secular-standin")


def gibbs(energies, beta):
    e = np.asarray(energies, dtype=float)
    w = np.exp(-beta * (e - e.min()))
    return np.diag(w / w.sum())
