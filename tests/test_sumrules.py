"""Tests of symcoll.symbolic.sumrules: identity (C33), the Appendix C ledger and the sum rule (66)."""
import numpy as np
import pytest
import sympy as sp

from symcoll import DeltaCoupling, QubitChain, Scattering
from symcoll.oracles.local_map0 import LocalMap0
from symcoll.symbolic import sumrules as sr


def test_C33_sign_is_plus_beta_h():
    r = sr.c33_substitution()
    assert sp.simplify(r["factor"] - sp.exp(sr.beta * sr.h)) == 0
    assert sp.simplify(r["factor"] - sp.exp(-sr.beta * sr.h)) != 0
    assert r["c_map"] == 0
    assert r["lower"] == [sp.sqrt(2 * sr.m * sr.h)]


@pytest.mark.parametrize("fname", ["c^2/(1+c^2)^2", "c"])
def test_C33_numeric_paper_parameters(fname):
    lhs, rhs, err = sr.c33_numeric(fname)
    assert abs(lhs - rhs) < 1e-25 * abs(lhs)
    assert err < 1e-25


def test_C33_wrong_sign_fails():
    lhs, rhs, _ = sr.c33_numeric("1/(1+c^2)", sign=-1)
    # e^{-beta h} instead of e^{+beta h} is off by e^{2 beta h} - 1 on the right side
    assert abs(lhs - rhs) > 0.1 * abs(lhs)


def test_C33_numeric_rejects_unknown_function():
    with pytest.raises(ValueError, match="fname"):
        sr.c33_numeric("sin")


def _ledger_verdicts():
    from symcoll.derive import Derivation

    d = Derivation("t", [])
    for row in sr.appendix_c_ledger():
        d.compare(**row)
    return d.checks


def test_appendix_c_ledger_verdicts():
    """Every printed line (C34)-(C39) gets a computed verdict: AGREES, except the (C37)-(C38) lines, written
    'with the zero energy at eps_j'', which are DIFFERS-BY-CONVENTION; never FAIL."""
    checks = _ledger_verdicts()
    assert {c.equation for c in checks} == {"(C34)", "(C35)", "(C36)", "(C37)", "(C38)", "(C39)"}
    for c in checks:
        want = "DIFFERS-BY-CONVENTION" if c.equation in ("(C37)", "(C38)") else "AGREES"
        assert c.verdict == want, (c.equation, c.statement, c.verdict)
        assert c.derived is not None and c.printed is not None


def test_ledger_detects_a_wrong_power():
    """(C34) with 1/(1+c_+^2) instead of 1/(1+c_+^2)^2 gets FAIL from the same comparison."""
    from symcoll.derive import Derivation

    row = dict(sr.appendix_c_ledger()[0])
    cp = sp.Symbol("c_p", positive=True)
    row["printed"] = row["printed"].subs(1 / (1 + cp**2) ** 2, 1 / (1 + cp**2))
    assert Derivation("t", []).compare(**row).verdict == "FAIL"


def test_identity_C33_lower_limit_is_a_misprint():
    from symcoll.derive import registry

    d = registry()["identity_C33"]()
    assert not any(c.verdict == "FAIL" for c in d.checks)
    mis = [c for c in d.checks if c.verdict == "MISPRINT"]
    assert len(mis) == 2 and all("hbar" in c.statement for c in mis)
    assert mis[0].correction == sp.sqrt(2 * sr.m * sr.h) and mis[0].derived == mis[0].correction


def test_63_printed_indices_fail_corrected_agree():
    from symcoll.derive import Derivation

    r = sr.printed_63_numeric(2)
    c = Derivation("t", []).compare("(63)", "t", r["rhs"], r["printed"], correction=r["corrected"], tol=1e-24)
    assert c.verdict == "MISPRINT"
    assert max(abs(complex(x)) for x in (r["printed"] - r["rhs"])) > 1e-3  # printed reading is far off


def test_local_map_one_qubit_integrals_flux_and_detailed_balance():
    L = LocalMap0(1)
    mp = L.mp
    # trace preservation of each input (flux unitarity) and detailed balance U = e^{-beta h} D (C33)
    assert abs(L.G[(0, 0)] + L.U - 1) < 1e-25
    assert abs(L.G[(1, 1)] + L.D - 1) < 1e-25
    assert abs(L.U - mp.exp(-L.beta * L.h) * L.D) < 1e-25
    assert abs(L.U - L.D) > 1e-2  # not trivially equal


def test_local_map_amplitudes_match_exact_one_qubit_scattering():
    """Closed forms (C30)-(C32) vs the numeric (C1) s-matrix of one qubit (independent code)."""
    L = LocalMap0(1, dps=30)
    sc = Scattering(QubitChain(1, "4", "0"), DeltaCoupling("50"), "0.1", dps=30)
    mp = L.mp
    for p_ in ("0.5", "0.8", "1.3", "2.7"):
        p_ = mp.mpf(p_)
        for start in (0, 1):  # incoming qubit state |0> (energy 0) or |1> (energy h); local order (|0>, |1>)
            E = p_ * p_ / (2 * L.m) + (L.h if start else 0)
            sp_, sm_, is_open = sc.s_both([E])
            for alpha, s in ((+1, sp_[0]), (-1, sm_[0])):
                d1, d0, x, y = L.amplitudes(p_, alpha)
                if start == 1:
                    assert abs(s[1, 1] - d1) < 1e-25
                    assert abs(s[0, 1] - y) < 1e-25  # decay 1 -> 0
                else:
                    assert abs(s[0, 0] - d0) < 1e-25
                    if is_open[0][1]:
                        assert abs(s[1, 0] - x) < 1e-25  # excitation 0 -> 1


@pytest.mark.parametrize("N", [2, 3])
def test_sum_rule_66(N):
    r = sr.sum_rule_numeric(N)
    assert r["residual"] < 1e-25
    # with the Boltzmann weights inverted the sum rule fails
    L, tot = r["map"], r["sums"]
    mp = L.mp
    U, n = L.eigenbasis()
    bad = sum((mp.exp(+L.beta * L.h * int(n[j])) * L.tensor_entry_matrix(U, j, j) for j in range(L.d)),
              np.zeros((L.d, L.d), dtype=object))
    assert max(abs(bad[a, a] - mp.exp(+L.beta * L.h * int(n[a]))) for a in range(L.d)) > 1e-3


def test_printed_C37_C38_lines_numeric():
    res = sr.printed_c37_c38_numeric()
    assert len(res) == 4
    # derived (absolute weights) = e^{-beta eps_j'} x printed integral (zero of energy at eps_j')
    assert all(abs(der - w * pri) < 1e-25 for der, pri, w in res.values()), res
    assert abs(res["(C37) |1><1|"][0] - res["(C37) |1><1|"][1]) > 1e-3  # the convention matters


@pytest.mark.parametrize("N,exc", [(0, ValueError), (7, ValueError), (2.0, TypeError)])
def test_local_map_validation(N, exc):
    with pytest.raises(exc, match="N"):
        LocalMap0(N)


def test_maps_module_local_map_matches_closed_form_oracle():
    """symcoll.maps' local map (54)-(56) against LocalMap0 (closed forms, 30 digits), full tensor, N = 2."""
    maps = pytest.importorskip("symcoll.maps")
    from symcoll import EffusionBath

    chain = QubitChain(2, 4, 0.1)
    cm = maps.collision_map(chain, EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50), kind="local")
    L = LocalMap0(2)
    U = chain.eigensystem(30).vectors
    worst = 0.0
    for j in range(4):
        for k in range(4):
            M = L.tensor_entry_matrix(U, j, k)
            worst = max(worst, max(abs(complex(M[a, b]) - cm.tensor[a, b, j, k]) for a in range(4) for b in range(4)))
    assert worst < 1e-10
