"""Several reservoirs in Eq. (7)/(71) and the heat flows of symcoll.transport (issue 14, core).

Oracles: the single-map generator (S_eff algebra); the rate equation of one qubit with two baths
(closed form from the maps' transition probabilities); detailed balance at equal temperatures
(Gibbs state of H(eps) for (45), of H(0) for (54)-(56), both stationary: currents exactly 0);
the 30-digit path (maps, Lindbladian and steady state at dps = 30, the current written out
in mpmath here) for the error estimate of J.
"""
import mpmath
import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map
from symcoll.dynamics import TensorMap
from symcoll.transport import heat_flows

H, M, SIGMA, G = 4.0, 0.1, 0.5, 50.0
BETA_HOT, BETA_COLD = 0.1, 0.5


def _maps(chain, kind, betas, sites, **kw):
    return [collision_map(chain, EffusionBath(b, M, SIGMA), DeltaCoupling(G, site=s), kind=kind, **kw)
            for b, s in zip(betas, sites)]


@pytest.fixture(scope="module")
def chain2():
    return QubitChain(2, H, 0.1)


@pytest.fixture(scope="module")
def hot_cold(chain2):
    """N = 2, eps = 0.1: hot bath on site 1, cold bath on site 2, for each kind."""
    return {k: _maps(chain2, k, (BETA_HOT, BETA_COLD), (1, 2)) for k in ("global", "local", "exact")}


def _close(a, b, tol):
    return np.max(np.abs(np.asarray(a, dtype=complex) - np.asarray(b, dtype=complex))) <= tol


def test_list_of_maps_equals_single_map(chain2, hot_cold):
    """[S, S] with rates [0.3, 0.4] and [S1, S2] with [0.7, 0] are the single-map generator at 0.7."""
    m1, m2 = hot_cold["global"]
    ref = Lindbladian(chain2, m1, 0.7)
    rho0 = np.diag([0.1, 0.2, 0.3, 0.4]).astype(complex)
    rho0[1, 2] = rho0[2, 1] = 0.05
    times = [0.0, 0.5, 3.0, 50.0]
    ev_ref = ref.evolve(rho0, times)
    for maps, rates in (([m1, m1], [0.3, 0.4]), ([m1, m2], [0.7, 0.0]), ([m1], [0.7])):
        L = Lindbladian(chain2, maps, rates)
        assert L.maps == maps and L.rates == rates
        assert _close(L.superoperator(), ref.superoperator(), 1e-14)
        assert _close(L.steady_state().state, ref.steady_state().state, 1e-13)
        ev = L.evolve(rho0, times)
        assert _close(ev.states, ev_ref.states, 1e-13)
    # the single-map call keeps its map and reports one reservoir
    assert ref.map is m1 and ref.maps == [m1] and ref.rates == [0.7]


def test_energy_balance_at_steady_state(hot_cold, chain2):
    """sum_i J_i = d<H>/dt = 0 at the steady state, within the sum of the currents' estimates."""
    for kind, maps in hot_cold.items():
        hf = heat_flows(Lindbladian(chain2, maps, [1.0, 0.5]))
        err = np.sum(hf.J.error.total)
        assert abs(np.sum(hf.J)) <= err, (kind, np.sum(hf.J), err)
        assert abs(hf.J[0]) > 100 * err  # the balance is not trivially 0 = 0
        assert float(hf.dSdt) == 0.0


@pytest.mark.parametrize("kind", ["global", "local"])
def test_equal_temperatures_no_current(chain2, kind):
    """Two baths at the same beta: the Gibbs state (of H(eps) for (45), of H(0) for (54)-(56), which
    commutes with H(eps) for uniform h) is stationary for each term, so every J_i and Q_i is 0."""
    maps = _maps(chain2, kind, (0.2, 0.2), (1, 2))
    hf = heat_flows(Lindbladian(chain2, maps, [1.0, 2.0]))
    for F in (hf.J, hf.Q):
        assert np.all(np.abs(np.asarray(F)) <= F.error.total), (kind, F, F.error)
    # the same maps at different temperatures do carry a current far above the estimate
    hot = _maps(chain2, kind, (BETA_HOT, 0.2), (1, 2))
    hf2 = heat_flows(Lindbladian(chain2, hot, [1.0, 2.0]))
    assert hf2.J[0] > 1e3 * hf2.J.error.total[0]


def test_hot_to_cold_and_second_law(chain2, hot_cold):
    """N = 2, eps = 0.1, global map: heat flows from the hot bath to the cold one, sigma >= 0."""
    hf = heat_flows(Lindbladian(chain2, hot_cold["global"], [1.0, 1.0]))
    eJ = hf.J.error.total
    assert hf.J[0] > eJ[0] and hf.J[1] < -eJ[1]
    assert float(hf.sigma) >= -hf.sigma.error.total
    assert float(hf.sigma) > 1e3 * hf.sigma.error.total  # strictly positive out of equilibrium
    # sigma = -sum beta_i Q_i at the steady state, = (beta_c - beta_h) J_hot for two baths
    assert float(hf.sigma) == pytest.approx((BETA_COLD - BETA_HOT) * hf.Q[0], rel=1e-9)
    for kind in ("local", "exact"):
        hk = heat_flows(Lindbladian(chain2, hot_cold[kind], [1.0, 1.0]))
        assert hk.J[0] > 0 > hk.J[1] and float(hk.sigma) >= -hk.sigma.error.total


def test_work_term(chain2, hot_cold):
    """W_i = 0 exactly for the exact and global maps (H_scatt = H(eps)); the local map's W_i is
    Gamma_i Tr[(H(eps) - H(0))(S_i - I) rho], O(eps), checked against J_i - Q_i."""
    for kind in ("exact", "global"):
        hf = heat_flows(Lindbladian(chain2, hot_cold[kind], [1.0, 1.0]))
        assert np.all(np.asarray(hf.W) == 0.0) and np.all(hf.Q == hf.J)
        assert np.all(hf.W.error.total == 0.0)
    hf = heat_flows(Lindbladian(chain2, hot_cold["local"], [1.0, 1.0]))
    assert np.all(np.abs(hf.W) > 10 * hf.W.error.total)
    assert _close(hf.W, hf.J - hf.Q, hf.J.error.total.max() + hf.Q.error.total.max())


def test_one_qubit_two_baths_closed_form():
    """N = 1, two global maps on the same qubit: J_1 from the rate equation of the populations,
    p_e = sum_i G_i u_i / sum_i G_i (u_i + w_i) with u_i = S_i[1,1,0,0], w_i = S_i[0,0,1,1]."""
    ch = QubitChain(1, H, 0.0)
    maps = _maps(ch, "global", (BETA_HOT, BETA_COLD), (1, 1))
    rates = [0.8, 1.7]
    hf = heat_flows(Lindbladian(ch, maps, rates))
    u = [complex(m.tensor[1, 1, 0, 0]).real for m in maps]
    w = [complex(m.tensor[0, 0, 1, 1]).real for m in maps]
    pe = sum(g * a for g, a in zip(rates, u)) / sum(g * (a + b) for g, a, b in zip(rates, u, w))
    e = np.asarray(ch.eigensystem().energies, dtype=float)
    J = [g * (e[1] - e[0]) * ((1 - pe) * a - pe * b) for g, a, b in zip(rates, u, w)]
    assert np.all(np.abs(np.asarray(hf.J) - J) <= hf.J.error.total + 1e-15 * abs(J[0]))
    assert J[0] > 0 > J[1]


def test_current_against_30_digits(chain2):
    """J_i (float64) against the 30-digit path: maps, generator and steady state at dps = 30 and
    J_i = Gamma_i sum_j' eps_j' [(S_i rho)_j'j' - rho_j'j'] written out in mpmath.  The float
    error estimate must cover the true error, and not by more than 1e5."""
    rates = [1.0, 0.6]
    fl = _maps(chain2, "global", (BETA_HOT, BETA_COLD), (1, 2))
    hf = heat_flows(Lindbladian(chain2, fl, rates))
    mp_maps = _maps(chain2, "global", (BETA_HOT, BETA_COLD), (1, 2), dps=30, tol=1e-18)
    L30 = Lindbladian(chain2, mp_maps, rates, dps=30)
    rho = L30.steady_state().state
    eps = L30.energies
    d = chain2.dim
    with mpmath.workdps(30):
        for i, (m, g) in enumerate(zip(mp_maps, rates)):
            T = m.tensor
            J = mpmath.mpf(0)
            for a in range(d):
                out = sum(T[a, a, j, k] * rho[j, k] for j in range(d) for k in range(d)) - rho[a, a]
                J += eps[a] * mpmath.re(out)
            J *= g
            err = abs(float(J - mpmath.mpf(float(hf.J[i]))))
            est = hf.J.error.total[i]
            assert err <= est, (i, err, est)
            assert est <= 1e5 * max(err, 1e-17), (i, err, est)


def test_bad_inputs(chain2, hot_cold):
    m1, m2 = hot_cold["global"]
    with pytest.raises(ValueError, match=r"Gamma must have one rate per map"):
        Lindbladian(chain2, [m1, m2], [1.0])
    with pytest.raises(ValueError, match=r"Gamma\[1\] must be >= 0"):
        Lindbladian(chain2, [m1, m2], [1.0, -0.5])
    with pytest.raises(ValueError, match=r"Gamma\[0\] must be finite"):
        Lindbladian(chain2, [m1, m2], [np.inf, 1.0])
    with pytest.raises(TypeError, match=r"Gamma must be a list of rates"):
        Lindbladian(chain2, [m1, m2], 1.0)
    with pytest.raises(TypeError, match=r"Gamma must be a single rate"):
        Lindbladian(chain2, m1, [1.0])
    with pytest.raises(ValueError, match=r"at least one map"):
        Lindbladian(chain2, [], [])
    small = _maps(QubitChain(1, H, 0.0), "global", (BETA_HOT,), (1,))[0]
    with pytest.raises(ValueError, match=r"maps\[1\]\.tensor must have shape"):
        Lindbladian(chain2, [m1, small], [1.0, 1.0])
    other = _maps(QubitChain(2, H, 0.2), "global", (BETA_HOT,), (1,))[0]
    with pytest.raises(ValueError, match=r"maps\[1\] was built for"):
        Lindbladian(chain2, [m1, other], [1.0, 1.0])
    with pytest.raises(ValueError, match=r"heat_flows needs kind"):
        heat_flows(Lindbladian(chain2, [m1, TensorMap(m2.tensor, chain2)], [1.0, 1.0]))
    with pytest.raises(ValueError, match=r"rho must have shape"):
        heat_flows(Lindbladian(chain2, [m1, m2], [1.0, 1.0]), np.eye(2) / 2)


def test_entropy_rate_of_a_given_state(chain2, hot_cold):
    """dS/dt = -Tr[L(rho) log rho] against the finite difference of S(rho(t)) = -Tr rho log rho
    along the evolution (second-order one-sided difference, dt = 1e-4); Spohn's inequality:
    sigma >= 0 for a state far from stationary (global maps fix the Gibbs state of H(eps))."""
    L = Lindbladian(chain2, hot_cold["global"], [1.0, 0.5])
    rho0 = np.diag([0.4, 0.3, 0.2, 0.1]).astype(complex)
    rho0[0, 3] = rho0[3, 0] = 0.05
    rho0[1, 2], rho0[2, 1] = 0.03j, -0.03j
    dt = 1e-4
    ev = L.evolve(rho0, [0.0, dt, 2 * dt])

    def S(r):
        w = np.linalg.eigvalsh(np.asarray(r, dtype=complex))
        return -float(np.sum(w * np.log(w)))

    fd = (-3 * S(ev.states[0]) + 4 * S(ev.states[1]) - S(ev.states[2])) / (2 * dt)
    hf = heat_flows(L, rho0)
    assert float(hf.dSdt) == pytest.approx(fd, rel=1e-6, abs=1e-8)
    assert abs(float(hf.dSdt)) > 1e-3
    assert float(hf.sigma) > hf.sigma.error.total
    with pytest.raises(ValueError, match=r"full rank"):
        heat_flows(L, np.diag([1.0, 0, 0, 0]))
