"""symcoll.dynamics as a package (issue 11): public names, sizes, the propagator contract, and the
generator (71) written once for float64 and mpmath.

Oracles: the definition (71) evaluated entry by entry in mpmath; two propagation methods
against each other within their rounding estimates; the mpmath input state at t = 0.
"""
import ast
import pathlib

import mpmath
import numpy as np
import pytest

import symcoll
import symcoll.dynamics as dyn
from symcoll import QubitChain
from symcoll import conventions as cv
from symcoll.dynamics.propagate import PROPAGATORS, EigPropagator, ExpmPropagator, RefinedPropagator
from symcoll.dynamics.tolerances import DynamicsTolerances

from _dynamics_maps import detailed_balance_map, local_thermal_map

BETA, H = 0.1, 4.0
PACKAGE = pathlib.Path(dyn.__file__).parent


def test_public_names_keep_working():
    """``from symcoll import Lindbladian`` and ``symcoll.dynamics.<name>`` are the same objects."""
    assert symcoll.Lindbladian is dyn.Lindbladian
    assert symcoll.Evolution is dyn.Evolution and symcoll.SteadyState is dyn.SteadyState
    for name in dyn.__all__:
        assert hasattr(dyn, name), name
    assert dyn.COND_V_MAX is dyn.tolerances.COND_V_MAX
    # validators that symcoll.paper imports from symcoll.dynamics
    assert dyn._check_times(2.0).tolist() == [2.0]
    with pytest.raises(ValueError, match=r"Gamma.*\[0, inf\)"):
        dyn._check_gamma(-1.0)


def test_modules_and_classes_stay_small():
    """Done-when of issue 11: no module above ~600 lines, no class above ~250."""
    for path in sorted(PACKAGE.glob("*.py")):
        src = path.read_text()
        assert src.count("\n") <= 600, path.name
        for node in ast.walk(ast.parse(src)):
            if isinstance(node, ast.ClassDef):
                assert node.end_lineno - node.lineno + 1 <= 250, (path.name, node.name)


@pytest.fixture(scope="module")
def chain2():
    ch = QubitChain(2, H, 0.1)
    return ch, detailed_balance_map(ch, BETA, np.random.default_rng(5))


def test_propagator_contract_float64(chain2):
    """eig and expm honour one contract and agree within their rounding estimates."""
    ch, m = chain2
    L = dyn.Lindbladian(ch, m, 0.7)
    rho = np.diag([0.1, 0.2, 0.3, 0.4]).astype(complex)
    rho[0, 3] = rho[3, 0] = 0.05
    t = np.array([0.0, 0.5, 30.0, 1e4])
    out = {}
    for method, cls in (("eig", EigPropagator), ("expm", ExpmPropagator)):
        p = L.propagator(method)
        assert isinstance(p, cls) and p.method == method
        states, rounding, diag = p.propagate(cv.vec(rho), t)
        assert states.shape == (4, 4, 4) and states.dtype == complex
        assert rounding.shape == (4,) and np.all(rounding > 0)
        assert {"cond_V", "norm_L", "n", "blocks", "max_block"} <= set(diag)
        out[method] = (states, rounding)
    diff = np.max(np.abs(out["eig"][0] - out["expm"][0]), axis=(1, 2))
    assert np.all(diff <= out["eig"][1] + out["expm"][1])
    assert np.max(np.abs(out["eig"][0][0] - rho)) <= out["eig"][1][0]
    assert L.propagator("auto").method == "eig"
    with pytest.raises(ValueError, match="method='refined' needs the mpmath path"):
        L.propagator("refined")
    with pytest.raises(ValueError, match="method must be one of 'auto', 'eig', 'expm', 'refined'"):
        L.propagator("rk45")
    assert set(PROPAGATORS) == {"eig", "expm", "refined"}


def test_mpmath_path_always_refines(chain2):
    """The number type decides on the mpmath path: every method name gives the refined propagator."""
    ch, m = chain2
    L = dyn.Lindbladian(ch, m, 0.7, dps=20)
    for method in ("auto", "eig", "expm", "refined"):
        assert isinstance(L.propagator(method), RefinedPropagator)
    assert L.evolve(np.diag([1.0, 0, 0, 0]), [1.0], method="expm").method == "refined"


def test_mp_superoperator_is_eq71_entrywise():
    """(71) at 30 digits: ``L[j + d k, j' + d k'] = Gamma S^{j'k'}_{jk} - delta (Gamma + i (eps_j - eps_k))``,
    built here by loops from the 30-digit energies and the exactly converted tensor."""
    ch = QubitChain(2, H, 0.1)
    m = local_thermal_map(ch, BETA)
    Gam = "0.3"
    L = dyn.Lindbladian(ch, m, Gam, dps=30)
    got = L.superoperator()
    assert got.dtype == object
    mp = mpmath.mp.clone()
    mp.dps = 30
    e = ch.eigensystem(30).energies
    d = 4
    G = mp.mpf(Gam)
    worst = mp.mpf(0)
    for j in range(d):
        for k in range(d):
            for jp in range(d):
                for kp in range(d):
                    s = m.tensor[j, k, jp, kp]
                    want = G * mp.mpc(float(s.real), float(s.imag))
                    if (j, k) == (jp, kp):
                        want -= G + mp.mpc(0, 1) * (mp.mpf(e[j]) - mp.mpf(e[k]))
                    worst = max(worst, abs(got[j + d * k, jp + d * kp] - want))
    assert worst < mp.mpf(10) ** -28


def test_mp_initial_state_kept_at_working_precision():
    """An mpmath rho0 enters the mpmath path as given (validated by symcoll.model.check_density_matrix
    in float64, never rounded to it): at t = 0 the state is rho0 to ~40 digits, not to 1e-17."""
    ch = QubitChain(1, H, 0.0)
    mp = mpmath.mp.clone()
    mp.dps = 40
    third = mp.mpf(1) / 3
    rho0 = np.array([[third, mp.mpf(0)], [mp.mpf(0), 1 - third]], dtype=object)
    L = dyn.Lindbladian(ch, local_thermal_map(ch, BETA), 1.0, dps=40)
    ev = L.evolve(rho0, [0.0])
    assert abs(ev.states[0][0, 0] - third) < mp.mpf(10) ** -35
    with pytest.raises(ValueError, match="rho0 must have trace 1"):
        L.evolve(np.array([[third, 0], [0, third]], dtype=object), [0.0])


@pytest.mark.parametrize("method", ["zero_mode_refined", "relaxation_gap_floor", "refine_target"])
def test_dynamics_tolerances_scale_with_precision(method):
    """Thresholds scale with the unit round-off they judge (STYLE: tolerances scaled to precision)."""
    u = np.finfo(float).eps
    a = getattr(DynamicsTolerances(u), method)(3.0)
    b = getattr(DynamicsTolerances(u * 2.0**-100), method)(3.0)
    assert a > 0 and b == pytest.approx(a * 2.0**-100, rel=1e-15)
    t = DynamicsTolerances(u)
    assert t.bordered_singular(16, 3.0) == pytest.approx(16 * t.bordered_singular(1, 3.0), rel=1e-15)


@pytest.mark.parametrize("dps", [None, 20])
def test_generator_freed_without_cycle_collector(chain2, dps):
    """A Lindbladian is freed by reference counting after evolve and steady_state: no reference
    cycle between it and its propagators or caches (at N = 6 the generator alone is 268 MB; a
    cycle made repeated N = 6 evolutions ~1.4x slower, waiting for the cycle collector)."""
    import gc
    import weakref

    ch, m = chain2
    gc.disable()
    try:
        L = dyn.Lindbladian(ch, m, 0.7, dps=dps)
        L.evolve(np.diag([1.0, 0, 0, 0]), [1.0])
        L.steady_state()
        ref = weakref.ref(L)
        del L
        assert ref() is None
    finally:
        gc.enable()
