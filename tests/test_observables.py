"""Tests of symcoll.observables: Eqs. (72)-(75) and distances, against closed forms."""
import math

import mpmath
import numpy as np
import pytest

from symcoll import QubitChain
from symcoll import conventions as cv
from symcoll import observables as ob

BETA, H = 0.1, 4.0


@pytest.fixture
def chain():
    return QubitChain(3, H, 0.1)


def test_gibbs_state_eq72_against_expm(chain):
    """exp(-beta H)/Z from scipy's expm in the local basis, rotated to the eigenbasis."""
    from scipy.linalg import expm

    rho = expm(-BETA * chain.hamiltonian())
    rho /= np.trace(rho)
    U = chain.eigensystem().vectors
    want = U.conj().T @ rho @ U
    got = ob.gibbs_state(chain, BETA)
    assert np.max(np.abs(got - want)) < 1e-14
    g50 = ob.gibbs_state(chain, BETA, dps=50)
    assert g50.dtype == object and abs(sum(g50[i, i] for i in range(8)) - 1) < mpmath.mpf(10) ** -45
    assert np.max(np.abs(np.array(g50, dtype=complex) - got)) < 1e-15


def test_beta_eff_eq75_of_gibbs_is_beta(chain):
    g = ob.gibbs_state(chain, BETA)
    for j, k in [(0, 2), (1, 3), (0, 7), (5, 2)]:
        assert abs(ob.beta_eff(g, chain, j, k) - BETA) < 1e-12
    g50 = ob.gibbs_state(chain, BETA, dps=50)
    b = ob.beta_eff(g50, chain.eigensystem(50).energies, 0, 2)
    # beta = 0.1 is the float 0.1 (exactly converted); 50 digits reproduce it to ~1e-45
    assert abs(b - mpmath.mpf(0.1)) < mpmath.mpf(10) ** -40
    # stacks: shape (T,)
    st = np.stack([g, g])
    assert ob.beta_eff(st, chain, 0, 2).shape == (2,)


def test_band_ratio_eq74(chain):
    g = ob.gibbs_state(chain, BETA)
    e = chain.eigensystem().energies
    want = sum(math.exp(-BETA * (e[i] - e[0])) for i in (1, 2, 3))
    assert abs(ob.band_ratio(g, chain) - want) < 1e-13
    assert abs(ob.gibbs_ratio(chain, BETA) - want) < 1e-13
    bp = ob.band_populations(g, chain)
    assert bp.shape == (4,) and abs(bp.sum() - 1) < 1e-14
    assert ob.band_populations(np.stack([g] * 3), chain).shape == (3, 4)


def test_local_thermal_state_eq73(chain):
    """(73): in the local basis only |000> and |100>, weights 1 : exp(-beta h); ratio (74) = exp(-beta h)."""
    rl = ob.local_thermal_state(chain, BETA)
    U = chain.eigensystem().vectors
    loc = U @ rl @ U.conj().T
    Z = 1 + math.exp(-BETA * H)
    want = np.zeros((8, 8))
    want[cv.local_state_index((0, 0, 0))] = 0  # row placeholder
    want[0, 0] = 1 / Z
    want[cv.local_state_index((1, 0, 0)), cv.local_state_index((1, 0, 0))] = math.exp(-BETA * H) / Z
    assert np.max(np.abs(loc - want)) < 1e-15
    assert abs(ob.band_ratio(rl, chain) - math.exp(-BETA * H)) < 1e-14
    assert abs(ob.local_thermal_ratio(chain, BETA) - math.exp(-BETA * H)) < 1e-16
    # it has intra-band coherences in the eigenbasis (|100> is not an eigenstate for eps > 0)
    assert np.abs(ob.coherences(rl)).max() > 0.05
    # any N: N = 5
    c5 = QubitChain(5, H, 0.01)
    r5 = ob.local_thermal_state(c5, BETA)
    assert abs(ob.band_ratio(r5, c5) - math.exp(-BETA * H)) < 1e-14
    assert abs(np.trace(r5) - 1) < 1e-14


def test_coherence_and_populations(rng):
    A = rng.normal(size=(4, 4)) + 1j * rng.normal(size=(4, 4))
    assert ob.coherence(A, 2, 3) == A[2, 3]
    assert np.all(ob.populations(A) == A.diagonal().real)
    c = ob.coherences(A)
    assert np.all(c.diagonal() == 0) and c[0, 1] == A[0, 1]
    with pytest.raises(ValueError, match="j must be in 0..3"):
        ob.coherence(A, 4, 0)
    with pytest.raises(TypeError, match="integer"):
        ob.coherence(A, 1.5, 0)


def random_state(rng, d, rank=None):
    rank = rank or d
    X = rng.normal(size=(d, rank)) + 1j * rng.normal(size=(d, rank))
    r = X @ X.conj().T
    return r / np.trace(r)


def test_trace_distance(rng):
    # commuting (diagonal) states: half the l1 distance of the populations
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.1, 0.1, 0.8])
    assert abs(ob.trace_distance(np.diag(p), np.diag(q)) - 0.5 * np.abs(p - q).sum()) < 1e-15
    # pure states: sqrt(1 - |<a|b>|^2)
    a, b = rng.normal(size=3) + 1j * rng.normal(size=3), rng.normal(size=3) + 1j * rng.normal(size=3)
    a, b = a / np.linalg.norm(a), b / np.linalg.norm(b)
    D = ob.trace_distance(np.outer(a, a.conj()), np.outer(b, b.conj()))
    assert abs(D - math.sqrt(1 - abs(np.vdot(a, b)) ** 2)) < 1e-14
    r = random_state(rng, 4)
    assert ob.trace_distance(r, r) < 1e-15


def test_relative_entropy(rng):
    p, q = np.array([0.5, 0.3, 0.2]), np.array([0.1, 0.1, 0.8])
    kl = float(np.sum(p * np.log(p / q)))
    assert abs(ob.relative_entropy(np.diag(p), np.diag(q)) - kl) < 1e-14
    r, s = random_state(rng, 3), random_state(rng, 3)
    # unitary invariance and positivity; Pinsker: S >= 2 D^2
    U = np.linalg.qr(rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3)))[0]
    S = ob.relative_entropy(r, s)
    assert abs(S - ob.relative_entropy(U @ r @ U.conj().T, U @ s @ U.conj().T)) < 1e-12
    assert S >= 2 * ob.trace_distance(r, s) ** 2
    # support mismatch -> inf; rank-deficient rho with full-rank sigma is finite
    assert ob.relative_entropy(np.diag([0.5, 0.5, 0.0]), np.diag([1.0, 0.0, 0.0])) == math.inf
    assert math.isfinite(ob.relative_entropy(np.diag([1.0, 0.0, 0.0]), np.diag(q)))
    # relative entropy to the Gibbs state = beta (F(rho) - F_eq) for a diagonal rho
    ch = QubitChain(2, H, 0.1)
    g = ob.gibbs_state(ch, BETA)
    e = ch.eigensystem().energies
    pr = np.array([0.4, 0.3, 0.2, 0.1])
    F = float(pr @ e + np.sum(pr * np.log(pr)) / BETA)
    Feq = -math.log(np.sum(np.exp(-BETA * e))) / BETA
    assert abs(ob.relative_entropy(np.diag(pr), g) - BETA * (F - Feq)) < 1e-12


@pytest.mark.parametrize(
    "bad, msg",
    [
        (np.diag([0.6, 0.6]), "trace"),
        (np.array([[0.5, 0.5], [0.0, 0.5]]), "Hermitian"),
        (np.diag([1.5, -0.5]), "positive semidefinite"),
        (np.diag([np.nan, 1.0]), "finite"),
        (np.ones(3), "matrix"),
    ],
)
def test_non_states_rejected(bad, msg):
    good = np.diag([0.5, 0.5])
    with pytest.raises(ValueError, match=msg):
        ob.trace_distance(bad, good)
    with pytest.raises(ValueError, match=msg):
        ob.relative_entropy(good, bad)


def test_observable_errors(chain):
    g = ob.gibbs_state(chain, BETA)
    with pytest.raises(ValueError, match="equal energies"):
        ob.beta_eff(g, np.zeros(8), 0, 1)
    with pytest.raises(ValueError, match="positive populations"):
        ob.beta_eff(np.diag([1.0] + [0.0] * 7), chain, 0, 1)
    with pytest.raises(ValueError, match="rho_00"):
        ob.band_ratio(np.diag([0.0, 1.0] + [0.0] * 6), chain)
    with pytest.raises(ValueError, match="beta"):
        ob.gibbs_state(chain, -1.0)
    from symcoll import System

    with pytest.raises(ValueError, match="QubitChain"):
        ob.band_populations(np.eye(2) / 2, System(np.diag([0.0, 1.0])))
