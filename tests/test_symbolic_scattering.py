"""Tests of the symbolic scattering layer (Appendix C): closed forms against direct numerics."""
import numpy as np
import pytest
import sympy as sp

from symcoll import DeltaCoupling, QubitChain, Scattering
from symcoll.derive import registry
from symcoll.symbolic import scattering as ss

VALS = {ss.h: 4, ss.m: sp.Rational(1, 10), ss.g: 50, ss.hbar: 1}


def _direct_C1(E, Hdiag, V, m=0.1, g=50.0):
    """Literal (C1) in float64 with the evanescent branch; returns (s_plus, open mask)."""
    x = 2 * m * (E - Hdiag)
    k = np.where(x >= 0, np.sqrt(np.abs(x)) + 0j, 1j * np.sqrt(np.abs(x)))
    d = len(Hdiag)
    A = np.eye(d) + 1j * m * g * np.diag(1 / k) @ V
    s = np.diag(np.sqrt(k)) @ np.linalg.inv(A) @ np.diag(1 / np.sqrt(k))
    return s, x >= 0


def test_csqrt_branch():
    assert ss.csqrt(4) == 2
    assert ss.csqrt(-4) == 2 * sp.I
    x = sp.Symbol("x", positive=True)
    assert ss.csqrt(-x) == sp.I * sp.sqrt(x)
    y = sp.Symbol("y", real=True)
    assert isinstance(ss.csqrt(y), ss.csqrt)
    assert complex(ss.csqrt(y).subs(y, -2.25).evalf()) == pytest.approx(1.5j)


@pytest.mark.parametrize("Ev", [sp.Rational(1, 3), sp.Rational(7, 2), 5, sp.Rational(41, 3)])
def test_one_qubit_smatrix_C4_C8_against_direct_C1(Ev):
    sp_sym = ss.one_qubit_smatrix(+1).subs(VALS).subs(ss.E, Ev)
    sm_sym = ss.one_qubit_smatrix(-1).subs(VALS).subs(ss.E, Ev)
    s_num = np.array(sp_sym.evalf(30).tolist(), dtype=complex)
    sm_num = np.array(sm_sym.evalf(30).tolist(), dtype=complex)
    s_dir, op = _direct_C1(float(Ev), np.array([0.0, 4.0]), np.array([[0, 1.0], [1.0, 0]]))
    mask = op[:, None] & op[None, :]
    assert np.max(np.abs(np.where(mask, s_dir, 0) - s_num)) < 1e-13
    assert np.max(np.abs(np.where(mask, s_dir - np.eye(2), 0) - sm_num)) < 1e-13
    # printed closed forms (C4)/(C6) and (C7)/(C8), typed independently
    E = float(Ev)
    if E > 4:
        c = 50 * np.sqrt(0.1 / 2) / (E * (E - 4)) ** 0.25
        C4 = np.array([[1, -1j * c], [-1j * c, 1]]) / (1 + c * c)
        assert np.max(np.abs(C4 - s_num)) < 1e-13
    else:
        c2 = -1j * 50**2 * 0.1 / (2 * np.sqrt(E * (4 - E)))
        assert abs(s_num[0, 0] - 1 / (1 + c2)) < 1e-13
        assert abs(sm_num[0, 0] + c2 / (1 + c2)) < 1e-13


@pytest.mark.parametrize("N", [1, 2, 3])
def test_block_form_against_direct_inversion_and_Scattering(N, rng):
    S_sym = ss.block_smatrix_eps0(N).subs(VALS)
    f = sp.lambdify(ss.E, S_sym, modules=[{"csqrt": lambda x: complex(np.sqrt(x)) if x >= 0 else 1j * np.sqrt(-x)}, "mpmath"])
    Hdiag = np.array([4.0 * bin(i).count("1") for i in range(2**N)])
    V = np.kron(np.array([[0, 1.0], [1.0, 0]]), np.eye(2 ** (N - 1)))
    chain = QubitChain(N, 4.0, 0)
    sc = Scattering(chain, DeltaCoupling(50.0), 0.1)
    U = chain.eigensystem().vectors
    for E in rng.uniform(-1.0, 4.0 * N + 6, 4):
        S = np.array(np.array(f(E).tolist()), dtype=complex)
        s_dir, op = _direct_C1(E, Hdiag, V)
        mask = op[:, None] & op[None, :]
        assert np.max(np.abs(np.where(mask, s_dir, 0) - S)) < 1e-12
        s_ref, _ = sc.s_plus(E)
        assert np.max(np.abs(U.T @ S @ U - s_ref[0])) < 1e-12


def test_c_pm_p_C32_against_C25():
    pv = sp.Rational(5, 2)
    Ev = pv**2 / (2 * VALS[ss.m])
    cp = ss.c_pm_p(+1).subs(VALS).subs(ss.p, pv)
    cE = ss.c_pm_E(+1, Ev, 0).subs(VALS)
    assert abs(complex(sp.N(cp - cE, 30))) < 1e-25
    cm2 = complex(sp.N((ss.c_pm_p(-1) ** 2).subs(VALS).subs(ss.p, sp.Rational(1, 2)), 30))
    assert abs(cm2.real) < 1e-25 and cm2.imag < 0  # (C8): c^2 = -i |...|


def test_mu_eff_40_normalised():
    expr = ss.mu_eff().subs({ss.beta: sp.Rational(1, 10), ss.m: sp.Rational(1, 10)})
    assert sp.integrate(expr, (ss.p, 0, sp.oo)) == 1  # p is a positive symbol: the p > 0 branch
    q = sp.Symbol("q", real=True)
    assert ss.mu_eff(q).subs(q, -1) == 0


def test_bad_input():
    with pytest.raises(ValueError, match="alpha must be"):
        ss.one_qubit_smatrix(0)
    with pytest.raises(ValueError, match="alpha must be"):
        ss.block_smatrix_eps0(2, 2)
    with pytest.raises(ValueError, match="N must be in 1..12"):
        ss.block_smatrix_eps0(0)
    with pytest.raises(TypeError, match="N must be an integer"):
        ss.pairs("2")


@pytest.mark.parametrize(
    "name",
    [
        "scattering_delta_matching",
        "one_qubit_smatrix",
        "block_smatrix_eps0",
        "momentum_form_C32",
        "flux_unitarity_symmetry",
        "local_map_labels",
    ],
)
def test_scattering_derivations_pass(name):
    d = registry()[name]()
    assert d.checks and all(c.passed for c in d.checks), [c.line() for c in d.checks if not c.passed]


def test_derivation_script_runs_standalone():
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    r = subprocess.run([sys.executable, str(root / "derivations" / "one_qubit_smatrix.py")], cwd=root,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    from symcoll.derive import VERDICTS

    lines = [ln for ln in r.stdout.splitlines() if ln.strip().startswith(VERDICTS)]
    assert lines and not any(ln.strip().startswith("FAIL") for ln in lines)
    assert "(C8)" in r.stdout and "== one_qubit_smatrix:" in r.stdout
