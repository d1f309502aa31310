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


def test_appendix_c_ledger_every_line():
    rows = sr.appendix_c_ledger()
    labels = " ".join(r[0] for r in rows)
    for eq in ("(C34)", "(C35)", "(C36)", "(C37)", "(C38)", "(C39)"):
        assert eq in labels
    assert all(r[3] for r in rows), [r[0] for r in rows if not r[3]]


def test_ledger_detects_a_wrong_power():
    """(C34) with 1/(1+c_+^2) instead of 1/(1+c_+^2)^2 must not match the derived line."""
    label, derived, printed, ok = sr.appendix_c_ledger()[0]
    cp = sp.Symbol("c_p", positive=True)
    wrong = printed.subs(1 / (1 + cp**2) ** 2, 1 / (1 + cp**2))
    assert wrong != printed
    assert sp.simplify(derived - wrong) != sp.zeros(*derived.shape)


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
    assert all(v < 1e-25 for v in res.values()), res


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
