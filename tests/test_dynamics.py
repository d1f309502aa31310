"""Tests of symcoll.dynamics (float64 path): the Lindbladian (7)/(71), propagation, steady states.

Oracles: closed forms (one-qubit generalized amplitude damping), the definition of L
applied entry by entry, the stationary states (68) and Gibbs (72), a second propagation
method (scipy expm, QuTiP mesolve), and the sum rules of a density matrix.
"""
import math
import sys

import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map
from symcoll import conventions as cv
from symcoll import observables as ob
from symcoll.dynamics import TensorMap, kraus_map

from _dynamics_maps import detailed_balance_map, gad_kraus, gibbs, local_thermal_map, secular_map

BETA, M, G, SIGMA_P, H = 0.1, 0.1, 50.0, 0.5, 4.0


@pytest.fixture(scope="module")
def maps3():
    """Real maps of the paper's N = 3 chain at eps = 0.1 (float64, ~1 s in total)."""
    ch = QubitChain(3, H, 0.1)
    bath, cp = EffusionBath(BETA, M, SIGMA_P), DeltaCoupling(G)
    return ch, {k: collision_map(ch, bath, cp, kind=k) for k in ("exact", "global", "local")}


def ground(d):
    r = np.zeros((d, d), dtype=complex)
    r[0, 0] = 1
    return r


# ----------------------------------------------------------------------------- validation
class TestValidation:
    def setup_method(self):
        self.ch = QubitChain(2, H, 0.1)
        self.m = local_thermal_map(self.ch, BETA)
        self.L = Lindbladian(self.ch, self.m, 1.0)

    @pytest.mark.parametrize("G_", [-1.0, math.inf, math.nan])
    def test_gamma_value(self, G_):
        with pytest.raises(ValueError, match=r"Gamma.*\[0, inf\)"):
            Lindbladian(self.ch, self.m, G_)

    def test_gamma_type(self):
        with pytest.raises(TypeError, match="Gamma"):
            Lindbladian(self.ch, self.m, True)
        with pytest.raises(TypeError, match="Gamma"):
            Lindbladian(self.ch, self.m, [1.0])

    def test_tensor_shape(self):
        with pytest.raises(ValueError, match="shape"):
            Lindbladian(self.ch, TensorMap(np.zeros((2, 2, 2, 2)), self.ch), 1.0)
        with pytest.raises(TypeError, match="tensor"):
            Lindbladian(self.ch, object(), 1.0)

    def test_map_of_other_system(self):
        other = QubitChain(2, H, 0.1, ladder="unit")  # same dims, different eigenbasis? check
        m2 = local_thermal_map(QubitChain(3, H, 0.1), BETA)
        with pytest.raises(ValueError):
            Lindbladian(self.ch, m2, 1.0)
        # a map of an equivalent chain object (same eigenbasis) is accepted
        Lindbladian(QubitChain(2, H, 0.1), self.m, 1.0)
        assert other.dim == 4

    @pytest.mark.parametrize(
        "rho, msg",
        [
            (np.eye(3) / 3, "shape"),
            (np.diag([1.0, 0, 0, 0]) + np.triu(np.ones((4, 4)), 1) * 0.1, "Hermitian"),
            (np.diag([0.5, 0.2, 0.2, 0.2]), "trace 1"),
            (np.diag([1.2, -0.2, 0, 0]), "positive semidefinite"),
            (np.diag([np.nan, 1, 0, 0]), "finite"),
            (np.array([["a"] * 4] * 4), "numbers"),
        ],
    )
    def test_rho0(self, rho, msg):
        with pytest.raises((ValueError, TypeError), match=msg):
            self.L.evolve(rho, [1.0])

    @pytest.mark.parametrize(
        "times, msg", [([-1.0], ">= 0"), ([np.inf], "finite"), ([np.nan], "finite"), ([[1.0]], "1-D"), ([], "at least")]
    )
    def test_times(self, times, msg):
        with pytest.raises(ValueError, match=msg):
            self.L.evolve(ground(4), times)

    def test_names(self):
        with pytest.raises(ValueError, match="basis"):
            self.L.evolve(ground(4), [1.0], basis="computational")
        with pytest.raises(ValueError, match="method"):
            self.L.evolve(ground(4), [1.0], method="rk45")
        with pytest.raises(ValueError, match="mpmath"):
            self.L.evolve(ground(4), [1.0], method="refined")

    def test_no_unique_steady_state(self):
        with pytest.raises(ValueError, match="unique stationary state"):
            Lindbladian(self.ch, self.m, 0.0).steady_state()


# ----------------------------------------------------------------------------- the generator
def test_superoperator_is_eq71_entrywise(maps3, rng):
    """vec(L rho) from the column-stacking matrix equals -i[H, rho] + Gamma (S rho - rho) built by hand."""
    ch, maps = maps3
    e = np.asarray(ch.eigensystem().energies, dtype=float)
    Hd = np.diag(e)
    Gam = 0.7
    for kind, m in maps.items():
        L = Lindbladian(ch, m, Gam)
        X = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
        Srho = np.einsum("abjk,jk->ab", m.tensor, X)
        want = -1j * (Hd @ X - X @ Hd) + Gam * (Srho - X)
        got = cv.unvec(L.superoperator() @ cv.vec(X), 8)
        assert np.max(np.abs(got - want)) < 1e-12
        assert np.max(np.abs(L.apply(X) - want)) < 1e-12
        # trace preservation: vec(I)^T L = 0 (to the map's error)
        tr = cv.vec(np.eye(8)) @ L.superoperator()
        assert np.max(np.abs(tr)) < 100 * m.error_estimate + 1e-12
    assert L.describe()["ladder"] == "paper" and L.describe()["map_kind"] == "local"


def test_to_qutip(maps3):
    qutip = pytest.importorskip("qutip")
    ch, maps = maps3
    L = Lindbladian(ch, maps["exact"], 1.0)
    q = L.to_qutip()
    assert q.issuper and q.dims == [[[8], [8]], [[8], [8]]]
    assert np.max(np.abs(q.full() - L.superoperator())) == 0
    # QuTiP's column-stacking convention: its own vector_to_operator of L vec(rho) equals L rho
    rho = qutip.Qobj(ob.gibbs_state(ch, 0.3))
    out = qutip.vector_to_operator(q * qutip.operator_to_vector(rho)).full()
    assert np.max(np.abs(out - L.apply(rho.full()))) < 1e-12


def test_to_qutip_missing(monkeypatch, maps3):
    ch, maps = maps3
    monkeypatch.setitem(sys.modules, "qutip", None)
    with pytest.raises(ImportError, match="pip install qutip"):
        Lindbladian(ch, maps["local"], 1.0).to_qutip()


# ----------------------------------------------------------------------------- closed forms
@pytest.mark.parametrize("Gam", [1.0, 1e-6])
def test_single_qubit_closed_form(Gam):
    """N = 1, generalized amplitude damping map: populations relax at rate Gamma p towards the
    Gibbs value, the coherence rotates at h and decays at Gamma (1 - sqrt(1 - p)); up to t = 1e7."""
    h, p = 1.3, 0.3
    ch = QubitChain(1, h, 0.0)
    m = kraus_map(ch, gad_kraus(BETA, h, p), basis="local")
    L = Lindbladian(ch, m, Gam)
    rho0 = np.array([[0.3, 0.2 - 0.1j], [0.2 + 0.1j, 0.7]])
    t = np.array([0.0, 0.5, 10.0, 1e3, 1e5, 1e7])
    ev = L.evolve(rho0, t)
    q = 1 / (1 + math.exp(-BETA * h))
    p1 = (1 - q) + (0.7 - (1 - q)) * np.exp(-Gam * p * t)
    c01 = (0.2 - 0.1j) * np.exp(1j * h * t) * np.exp(-Gam * (1 - math.sqrt(1 - p)) * t)
    want = np.zeros((len(t), 2, 2), dtype=complex)
    want[:, 1, 1], want[:, 0, 0] = p1, 1 - p1
    want[:, 0, 1], want[:, 1, 0] = c01, np.conj(c01)
    err = np.max(np.abs(ev.states - want), axis=(1, 2))
    # phase h t is known to ~1e-16 * h t: a float64 oracle itself carries that much
    oracle = 4e-16 * h * t + 1e-15
    assert np.all(err <= ev.error_estimate + oracle)
    assert np.all(err < 1e-8)


def test_local_basis_input(maps3):
    ch, maps = maps3
    L = Lindbladian(ch, maps["exact"], 1.0)
    U = ch.eigensystem().vectors
    rho_loc = np.zeros((8, 8))
    rho_loc[4, 4] = 1.0  # |100>
    t = [0.0, 3.0, 50.0]
    a = L.evolve(rho_loc, t, basis="local")
    b = L.evolve(U.conj().T @ rho_loc @ U, t)
    assert a.basis == "local" and b.basis == "eigen"
    assert np.max(np.abs(a.states - b.states)) < 1e-13
    assert np.max(np.abs(a.to_local()[0] - rho_loc)) < 1e-13


# ----------------------------------------------------------------------------- physics checks
@pytest.mark.parametrize("kind", ["exact", "global", "local"])
def test_state_properties_within_bound(maps3, kind):
    """Trace 1, Hermiticity and positivity of rho(t) hold within the per-time bound, up to t = 1e7."""
    ch, maps = maps3
    L = Lindbladian(ch, maps[kind], 1.0)
    t = np.concatenate([[0.0], np.logspace(-2, 7, 40)])
    ev = L.evolve(ground(8), t, hermitize=False)  # raw propagation: Hermiticity is a real check
    b = ev.error_estimate
    assert np.all(np.isfinite(b)) and np.all(b > 0)
    herm = L.evolve(ground(8), t)
    assert np.all(np.abs(herm.states - ev.states).max(axis=(1, 2)) <= b)
    assert np.all(herm.states == np.swapaxes(herm.states, 1, 2).conj())
    assert b[-1] < 1e-2  # still a useful bound at t = 1e7 (linear in t: Gamma t ||dS||)
    for r, bt in zip(ev.states, b):
        assert abs(np.trace(r) - 1) <= 8 * bt
        assert np.max(np.abs(r - r.conj().T)) <= 2 * bt
        assert np.linalg.eigvalsh((r + r.conj().T) / 2).min() >= -8 * bt
    assert ev.metadata["ladder"] == "paper" and ev.metadata["map_kind"] == kind
    assert set(ev.error_kinds) == {"map", "energies", "rounding"}


@pytest.mark.parametrize("Gam", [10.0, 1.0, 1e-2, 1e-4])
def test_local_map_steady_state_eq68(maps3, Gam):
    """(67)-(68): the local equation has the stationary state exp(-beta H(0))/Z_0 for every Gamma."""
    ch, maps = maps3
    L = Lindbladian(ch, maps["local"], Gam)
    ss = L.steady_state()
    n = ch.eigensystem().bands
    want = np.diag(np.exp(-BETA * H * n)) / np.exp(-BETA * H * n).sum()  # H(0) = h * bands
    err = np.max(np.abs(ss.state - want))
    assert err <= ss.error_estimate
    assert ss.residual < 1e-12
    # and it is NOT the Gibbs state of H(eps) (the local equation does not thermalise, Fig. 4)
    assert ob.trace_distance(ss.state, ob.gibbs_state(ch, BETA), tol=1e-9) > 1e-3


def test_local_standin_steady_state_eq68(rng):
    """Same statement (68) for an independent local map (thermal amplitude damping of qubit 1)."""
    ch = QubitChain(3, H, 1e-3)
    L = Lindbladian(ch, local_thermal_map(ch, BETA), 0.3)
    ss = L.steady_state()
    n = ch.eigensystem().bands
    want = np.diag(np.exp(-BETA * H * n)) / np.exp(-BETA * H * n).sum()
    assert np.max(np.abs(ss.state - want)) <= ss.error_estimate


def test_exact_map_steady_state_order_gamma_eq70(maps3):
    """(69)-(70): D(rho_ss, Gibbs(H(eps))) = O(Gamma); log-log slope over Gamma = 1 ... 1e-4.

    float64 resolves it down to Gamma = 1e-3 (bound <= 10% of D); the slopes are checked with
    the bounds propagated as intervals.  Gamma = 1e-4, 1e-5 need the mpmath path:
    tests/test_dynamics_mp.py."""
    ch, maps = maps3
    gammas = np.logspace(0, -3, 4)
    gib = ob.gibbs_state(ch, BETA)
    dist, bnd = [], []
    for Gam in gammas:
        ss = Lindbladian(ch, maps["exact"], Gam).steady_state()
        D = ob.trace_distance(ss.state, gib, tol=1e-9)
        dist.append(D)
        bnd.append(math.sqrt(8) / 2 * ss.error_estimate)  # |dD| <= ||d rho||_1/2 <= sqrt(d) ||d rho||_F/2
    dist, bnd = np.array(dist), np.array(bnd)
    assert np.all(bnd < 0.1 * dist)
    lo, hi = np.log(dist - bnd), np.log(dist + bnd)
    dl = np.diff(np.log(gammas))
    smin, smax = (lo[1:] - hi[:-1]) / dl, (hi[1:] - lo[:-1]) / dl  # dl < 0 swaps the roles
    smin, smax = np.minimum(smin, smax), np.maximum(smin, smax)
    assert np.all(smin[1:] <= 1.0 + 0.02) and np.all(smax[1:] >= 1.0 - 0.02), (smin, smax)
    assert np.all(smax - smin < 0.25)
    assert dist[-1] < 1e-4


def test_global_map_no_coherences(maps3):
    """Global map (45): no coherence is created from a diagonal initial state (flat insets, Fig. 3)."""
    ch, maps = maps3
    L = Lindbladian(ch, maps["global"], 1.0)
    t = np.logspace(-2, 5, 30)
    ev = L.evolve(ground(8), t)
    coh = np.abs(ob.coherences(ev.states)).max(axis=(1, 2))
    assert np.all(coh <= ev.error_estimate)
    assert coh.max() < 1e-12
    # the exact map does create the intra-band coherence rho_23 (Fig. 3 insets)
    ev2 = Lindbladian(ch, maps["exact"], 1.0).evolve(ground(8), t)
    assert np.abs(ob.coherence(ev2.states, 2, 3)).max() > 1e-3
    # the global map's stationary state is the Gibbs state (IO + detailed balance)
    ss = L.steady_state()
    assert np.max(np.abs(ss.state - ob.gibbs_state(ch, BETA))) < ss.error_estimate + 1e-3 * 0 + 1e-9


def test_standin_maps_steady_states(rng):
    """Independent stand-in maps: secular map -> exactly Gibbs; detailed-balance map -> Gibbs + O(Gamma)."""
    ch = QubitChain(2, H, 0.1)
    e = ch.eigensystem().energies
    sec = Lindbladian(ch, secular_map(ch, BETA, rng), 1.0).steady_state()
    assert np.max(np.abs(sec.state - gibbs(e, BETA))) <= sec.error_estimate
    db = detailed_balance_map(ch, BETA, rng)
    d1 = ob.trace_distance(Lindbladian(ch, db, 1e-3).steady_state().state, gibbs(e, BETA))
    d2 = ob.trace_distance(Lindbladian(ch, db, 1e-4).steady_state().state, gibbs(e, BETA))
    assert 8 < d1 / d2 < 12.5


# ----------------------------------------------------------------------------- second methods
@pytest.mark.parametrize("eps", [0.1, 1e-3, 5e-5])
def test_eig_vs_expm(eps):
    """Eigen-propagation and scipy expm agree within the sum of their error estimates, t up to 1e7."""
    ch = QubitChain(3, H, eps)
    m = collision_map(ch, EffusionBath(BETA, M, SIGMA_P), DeltaCoupling(G), kind="local")
    L = Lindbladian(ch, m, 1.0)
    t = np.array([0.0, 1.0, 1e2, 1e4, 1e5, 1e7])
    a = L.evolve(ground(8), t, method="eig")
    b = L.evolve(ground(8), t, method="expm")
    assert a.method == "eig" and b.method == "expm"
    diff = np.max(np.abs(a.states - b.states), axis=(1, 2))
    assert np.all(diff <= a.error["rounding"].value + b.error["rounding"].value + a.error["energies"].value)
    assert a.diagnostics["cond_V"] < 1e3


def test_qutip_mesolve_cross_check(maps3):
    """QuTiP's mesolve on the same superoperator agrees within its tolerance at t <= 100."""
    qutip = pytest.importorskip("qutip")
    ch, maps = maps3
    L = Lindbladian(ch, maps["exact"], 1.0)
    t = np.linspace(0, 100, 11)
    ev = L.evolve(ground(8), t)
    res = qutip.mesolve(L.to_qutip(), qutip.Qobj(ground(8)), t, options={"atol": 1e-10, "rtol": 1e-10})
    q = np.array([s.full() for s in res.states])
    assert np.max(np.abs(q - ev.states)) < 1e-7


def test_long_time_limit_is_steady_state(maps3):
    ch, maps = maps3
    for kind in ("exact", "global"):
        L = Lindbladian(ch, maps[kind], 1.0)
        ev = L.evolve(ground(8), [1e7])
        ss = L.steady_state()
        assert np.max(np.abs(ev.states[0] - ss.state)) <= ev.error_estimate[0] + ss.error_estimate


def test_perturbative_coherences_eq35(maps3):
    """(31)-(35): the stationary coherences of the exact equation are Gamma rho^(1) + O(Gamma^2)."""
    from symcoll.dynamics import perturbative_coherences

    ch, maps = maps3
    r1 = perturbative_coherences(maps["exact"], ob.populations(ob.gibbs_state(ch, BETA)))
    assert np.all(r1.diagonal() == 0) and np.abs(r1).max() > 1e-3
    res = []
    for Gam in (1e-2, 1e-3):
        ss = Lindbladian(ch, maps["exact"], Gam).steady_state()
        res.append(np.abs(ob.coherences(ss.state) - Gam * r1).max())
        assert res[-1] < 1e-2 * Gam * np.abs(r1).max() + ss.error_estimate
    assert 70 < res[0] / res[1] < 130  # second order
    # the global map creates none to first order: S^{j'j'}_{jk} = 0 for Delta_jk != 0
    assert np.abs(perturbative_coherences(maps["global"], np.ones(8) / 8)).max() == 0
    with pytest.raises(ValueError, match="non-degenerate"):
        c0 = QubitChain(2, H, 0.0)
        perturbative_coherences(local_thermal_map(c0, BETA), np.ones(4) / 4)


def test_auto_falls_back_to_expm(monkeypatch, maps3):
    """method="auto" switches to expm when cond(V) exceeds COND_V_MAX (forced here)."""
    import symcoll.dynamics.tolerances as dyn  # where the selection reads COND_V_MAX

    ch, maps = maps3
    t = [0.5, 20.0, 1e3]
    ref = Lindbladian(ch, maps["local"], 1.0).evolve(ground(8), t, method="eig")
    monkeypatch.setattr(dyn, "COND_V_MAX", 0.0)
    ev = Lindbladian(ch, maps["local"], 1.0).evolve(ground(8), t)
    assert ev.method == "expm" and ev.diagnostics["blocks"] == 7
    diff = np.max(np.abs(ev.states - ref.states), axis=(1, 2))
    assert np.all(diff <= ev.error["rounding"].value + ref.error["rounding"].value)


@pytest.mark.parametrize("method", ["eig", "expm"])
def test_gamma_zero_is_unitary(maps3, method, rng):
    """Gamma = 0: rho(t) = exp(-iHt) rho exp(iHt), i.e. rho_jk(t) = rho_jk exp(-i Delta_jk t)."""
    ch, maps = maps3
    e = np.asarray(ch.eigensystem().energies)
    X = rng.normal(size=(8, 8)) + 1j * rng.normal(size=(8, 8))
    rho = X @ X.conj().T
    rho /= np.trace(rho)
    t = np.array([0.0, 0.3, 7.0, 1e3])
    ev = Lindbladian(ch, maps["exact"], 0.0).evolve(rho, t, method=method)
    want = rho[None] * np.exp(-1j * (e[:, None] - e[None, :])[None] * t[:, None, None])
    err = np.max(np.abs(ev.states - want), axis=(1, 2))
    assert np.all(err <= ev.error_estimate + 1e-15 * (1 + 12 * t))
