"""Appendices A and B of the paper: verdicts of the registered derivations and independent checks.

The verdicts are asserted per equation (a misprint must come out as MISPRINT, never AGREES); the
formulas are also checked against independent computations (numpy eigenvectors of H(eps) for (A7),
a Gaussian-smoothed delta integrated by mpmath for (B3), a numpy 2x2 minor for (41)), and the
comparison machinery is shown to give FAIL on a wrong printed form.
"""
import os
import subprocess
import sys

import mpmath
import numpy as np
import pytest
import sympy as sp

from symcoll.derive import Derivation
from symcoll.symbolic import appendices as A  # registers the derivations
from symcoll.symbolic.chain import h_int

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture(scope="module")
def dA():
    from symcoll.derive import _REGISTRY

    return _REGISTRY["generalized_local_A"]()


@pytest.fixture(scope="module")
def dB():
    from symcoll.derive import _REGISTRY

    return _REGISTRY["kraus_outgoing_energy_B"]()


def _verdicts(d, eq, contains=""):
    return [c.verdict for c in d.checks if c.equation == eq and contains in c.statement]


def test_appendix_A_verdicts(dA):
    assert all(c.verdict != "FAIL" for c in dA.checks)
    for eq in ("(A1)", "(A2)", "(A3)", "(A7)"):
        v = _verdicts(dA, eq)
        assert v and set(v) == {"AGREES"}, (eq, v)
    # (A4)/(A5): the printed one-sided conjugate is a misprint for complex f (chain N=2, 3 and generic pair)
    assert _verdicts(dA, "(A4)", "complex-valued") == ["MISPRINT"] * 3
    assert _verdicts(dA, "(A5)", "complex-valued") == ["MISPRINT"] * 3
    assert _verdicts(dA, "(A4)", "real-valued") == ["AGREES"] * 3
    # (57)-(59) -> (60)-(62): (60) labels swapped (README item 6); (61), (62) agree
    assert _verdicts(dA, "(60)") == ["MISPRINT"] * 2
    assert _verdicts(dA, "(61)") == ["AGREES"] * 2
    assert _verdicts(dA, "(62)") == ["AGREES"] * 2
    assert dA.seconds < 10


def test_appendix_B_verdicts(dB):
    assert {c.verdict for c in dB.checks} == {"AGREES"}
    for eq in ("(37)", "(B2)", "(B3)", "(38)", "(41)"):
        assert _verdicts(dB, eq), eq
    assert dB.seconds < 10


def test_A4_misprint_correction_is_the_derived_form(dA):
    c = next(c for c in dA.checks if c.equation == "(A4)" and "complex-valued" in c.statement)
    assert sp.expand(c.derived - c.correction).is_zero_matrix
    assert not sp.expand(c.derived - c.printed).is_zero_matrix


def test_compare_fails_on_wrong_printed_A7_and_B3():
    """The comparison is not vacuous: swapped lambda arguments in (A7), a wrong power in (B3) -> FAIL."""
    d = Derivation("t", [])
    U, e0, _ = A.chain_eigenbasis(2)
    derived = A.eigen_to_local_A7(U, e0).applyfunc(sp.expand)
    swapped = A.printed_A7(2).subs({A.lam_f(A.h, 0): A.lam_f(0, A.h)})  # one entry with swapped arguments
    assert d.compare("(A7)", "wrong", derived, swapped, simplify=sp.expand).verdict == "FAIL"
    res, printed = A.kraus_B2_integrated()
    wrong = printed * (2 * A.m * A.w) ** sp.Rational(1, 4) / sp.sqrt(2 * A.m * A.w) ** 1  # p^{-1/2} -> p^{-1}
    assert d.compare("(B3)", "wrong", res, wrong).verdict == "FAIL"
    assert d.compare("(B3)", "right", res, printed).verdict == "AGREES"


@pytest.mark.parametrize("N", [2, 3])
def test_A7_against_numpy_eigenvectors(N, rng):
    """Independent: eigenvectors of H(eps) from numpy, a numeric lambda, random complex L^(1)."""
    hv, ev = 1.3, 0.017
    d = 2**N
    n = np.array([bin(i).count("1") for i in range(d)])
    H = np.diag(hv * n) + ev * np.array(sp.Matrix(h_int(N)).tolist(), dtype=float)
    w, V = np.linalg.eigh(H)
    eps0 = hv * np.rint((w / hv))  # band energy n h (eps << h)
    lam = lambda x, y: np.exp(1j * x) * (1.0 + 0.3 * y) - 0.7j * x * y  # noqa: E731  complex, non-separable
    L1 = rng.normal(size=(2, 2)) + 1j * rng.normal(size=(2, 2))
    Lloc = np.kron(L1, np.eye(d // 2))
    Leig = lam(eps0[:, None], eps0[None, :]) * (V.conj().T @ Lloc @ V)  # (A6)
    derived = V @ Leig @ V.conj().T
    e0s = hv * n
    printed = lam(e0s[:, None], e0s[None, :]) * Lloc  # (A7)
    assert np.max(np.abs(derived - printed)) < 1e-12
    # and the printed (A4) with a conjugate fails for a complex f (f = lam(., 0))
    f = lambda x: lam(x, 0.0)  # noqa: E731
    lhs = V * f(eps0)[None, :]
    assert np.max(np.abs(lhs - f(e0s)[:, None] * V)) < 1e-12
    assert np.max(np.abs(lhs - np.conj(f(e0s))[:, None] * V)) > 1e-2


def test_B3_against_smoothed_delta_quadrature():
    """Independent: (B2) with delta replaced by a Gaussian of width 1e-5, integrated by mpmath, vs (B3)."""
    mpmath.mp.dps = 30
    m, mu, D, E, ej, sig = mpmath.mpf("0.5"), mpmath.mpf("0.8"), mpmath.mpf("-0.3"), mpmath.mpf("0.7"), \
        mpmath.mpf("0.2"), mpmath.mpf("1.1")
    phi = lambda x: mpmath.sqrt(2 * x / sig**2) * mpmath.exp(-x**2 / (2 * sig**2))  # noqa: E731
    s = lambda x: mpmath.exp(1j * x) / (1 + x)  # noqa: E731
    width = mpmath.mpf("1e-5")
    delta = lambda x: mpmath.exp(-x**2 / (2 * width**2)) / (width * mpmath.sqrt(2 * mpmath.pi))  # noqa: E731
    p0 = mpmath.sqrt(2 * m * (D + E))
    f = lambda x: mpmath.sqrt(x * mu / m) * phi(x) * delta(x**2 / (2 * m) - D - E) * s(x**2 / (2 * m) + ej)  # noqa
    dp = 12 * width * m / p0
    val = mpmath.quad(f, [p0 - dp, p0, p0 + dp])
    b3 = mpmath.sqrt(m * mu) / (2 * m * (D + E)) ** 0.25 * phi(p0) * s(E + (ej + D))
    assert abs(val - b3) < 1e-8 * abs(b3)  # smoothing error O(width^2)


def test_gaussian_state_41_has_negative_minor_numpy():
    """Independent: the 2x2 principal minor of (41) at p = 1, p' = 1e-4 (paper parameters) is negative."""
    beta = m = 0.1
    sig = 0.5
    mu_eff = lambda x: beta * x / m * np.exp(-beta * x**2 / (2 * m))  # noqa: E731
    rho = lambda a, b: mu_eff((a + b) / 2) * np.exp(-((a - b) ** 2) / (2 * sig**2))  # noqa: E731
    ps = [1.0, 1e-4]
    M = np.array([[rho(a, b) for b in ps] for a in ps])
    assert np.linalg.eigvalsh(M).min() < 0
    ratio = M[0, 1] ** 2 / (M[0, 0] * M[1, 1])
    R, closed, (b_, s_, pp) = A.gaussian_rhoU_minor_ratio()
    sym = float(closed.subs({b_: beta, A.m: m, s_: sig, A.p: 1.0, pp: 1e-4}))
    assert ratio == pytest.approx(sym, rel=1e-10)


def test_bad_input_chain_eigenbasis():
    with pytest.raises(ValueError, match="N must be in 1..3"):
        A.chain_eigenbasis(4)
    with pytest.raises(TypeError, match="N must be an int"):
        A.chain_eigenbasis(2.0)


@pytest.mark.parametrize("script,expect", [("generalized_local_A.py", "MISPRINT"),
                                           ("kraus_outgoing_energy_B.py", "AGREES")])
def test_scripts_run(script, expect):
    env = dict(os.environ, PYTHONPATH=ROOT)
    r = subprocess.run([sys.executable, os.path.join(ROOT, "derivations", script)], capture_output=True, text=True,
                       env=env, timeout=120)
    assert r.returncode == 0, r.stderr
    assert expect in r.stdout and "derived" in r.stdout and "printed" in r.stdout
    assert "FAIL" not in r.stdout.replace("FAIL ", "")
