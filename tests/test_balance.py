"""Tests of symcoll.symbolic.balance: detailed balance (42)-(43) => (30), trace preservation of (38)."""
import math

import mpmath
import pytest
import sympy as sp
from scipy import integrate

from symcoll import DeltaCoupling, QubitChain, Scattering
from symcoll.oracles import quad38 as q38
from symcoll.symbolic import balance


def test_substitution_43_exact_for_arbitrary_F():
    r = balance.detailed_balance_substitution()
    assert r["difference"] == 0
    # the check can fail: the same transformation against e^{+beta Delta} leaves a residual
    p, pp, m, beta, D, ej, F = r["symbols"]
    wrong = beta / m * F(pp**2 / (2 * m) + ej + D) * pp * sp.exp(-beta * (pp**2 / (2 * m) - D))
    assert sp.simplify(r["transformed"] - wrong) != 0


@pytest.mark.parametrize("sign", [+1, -1])
def test_lower_limits_43_both_signs(sign):
    mapped, expected = balance.detailed_balance_substitution()["limits"][sign]
    assert sp.simplify(mapped - expected) == 0
    # and p_inf_{jj'} is zero exactly when Delta_{j'j} > 0
    assert (expected == 0) == (sign > 0)


def test_closed_form_43_both_signs():
    for lhs, rhs in balance.detailed_balance_closed_form().values():
        assert sp.simplify(lhs - rhs) == 0


def test_detailed_balance_30_exact_map_30_digits():
    r = q38.detailed_balance_numeric(pairs=((1, 0),))
    assert r["residual"] < 1e-25
    assert r["symmetry"] < 1e-25


def test_quad38_entry_against_float_scipy_oracle():
    """One transition probability of (42) at 30 digits vs a float64 scipy computation (independent code)."""
    chain = QubitChain(2, 4.0, 0.5)
    q = q38.Quad38(chain, 50, 0.1, 0.1, 0.5)
    v, err = q.entry(2, 2, 0, 0)
    sc = Scattering(chain, DeltaCoupling(50.0), 0.1)
    e = sc.energies
    beta, m = 0.1, 0.1

    def f(p):
        sp_, sm_, _ = sc.s_both([p * p / (2 * m) + e[0]])
        return beta * p / m * math.exp(-beta * p * p / (2 * m)) * (abs(sp_[0][2, 0]) ** 2 + abs(sm_[0][2, 0]) ** 2)

    pts = sorted(math.sqrt(2 * m * (el - e[0])) for el in e[1:])
    ref = sum(integrate.quad(f, a, b, epsabs=1e-14, epsrel=1e-12, limit=200)[0]
              for a, b in zip([pts[1]] + pts[2:], pts[2:] + [40.0]))
    assert abs(float(mpmath.re(v)) - ref) < 1e-9 * max(1.0, abs(ref))
    assert float(err) < 1e-25


def test_trace_preservation_structure():
    r = balance.trace_preservation_structure()
    assert r["energy_gap"] == 0 and r["delta_dep"] == 0
    assert r["flux_open"] == sp.zeros(2, 2)
    assert r["flux_closed"] == 0
    assert r["norm"] == 1


def test_trace_preservation_exact_map_offdiagonal_and_diagonal():
    r = q38.trace_preservation_numeric(inputs=((0, 1), (2, 2)))
    assert abs(r["sums"][(0, 1)]) < 1e-25
    assert abs(r["sums"][(2, 2)] - 1) < 1e-25
    # a single term is far from the sum: the check is not trivially satisfied
    q = q38.Quad38(QubitChain(2, 4, 0.5), 50, 0.1, 0.1, 0.5)
    assert abs(q.entry(2, 2, 2, 2)[0] - 1) > 1e-3


def test_s_columns_match_scattering():
    q = q38.Quad38(QubitChain(2, 4, 0.3), 50, 0.1, 0.1, 0.5)
    assert q.check_against_scattering(["0.7", "5.1", "9.9"]) < 1e-28


@pytest.mark.parametrize("name", ["m", "beta", "sigma_p"])
def test_quad38_validation(name):
    kw = dict(g=50, m=0.1, beta=0.1, sigma_p=0.5)
    kw[name] = 0
    with pytest.raises(ValueError, match=name):
        q38.Quad38(QubitChain(2, 4, 0.5), **kw)


def test_registered_derivations_pass():
    from symcoll.derive import registry

    reg = registry()
    for name in ("detailed_balance", "trace_preservation", "hermiticity_39"):
        assert name in reg


def test_maps_module_exact_entries_within_their_error_bound():
    """The team's exact (38) entries (symcoll.maps) against this 30-digit oracle: the true error
    must lie below the error bound the maps module reports."""
    maps = pytest.importorskip("symcoll.maps")
    from symcoll import EffusionBath

    chain = QubitChain(2, 4, 0.1)
    pairs = [(1, 0), (0, 1)]
    block, bound, _ = maps.exact_entries(chain, EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50), pairs, tol=1e-12)
    q = q38.Quad38(chain, "50", "0.1", "0.1", "0.5")
    worst = 0.0
    for a, b in ((0, 0), (0, 1), (1, 1)):
        (jp, j), (kp, k) = pairs[a], pairs[b]
        v, _ = q.entry(jp, kp, j, k)
        worst = max(worst, abs(complex(v) - block[a, b]))
    assert worst <= bound
    assert bound < 1e-10


def test_43_last_term_is_a_misprint():
    from symcoll.derive import Derivation

    r = balance.misprint_43_numeric()
    c = Derivation("t", []).compare("(43)", "t", r["lhs"], r["printed"], correction=r["corrected"], tol=r["tol"])
    assert c.verdict == "MISPRINT"
    assert abs(complex(r["lhs"] - r["printed"])) > 1e-3


def test_39_symbolic_and_a_wrong_substitution_fails():
    from symcoll.derive import Derivation

    r = balance.hermiticity_substitution()
    d = Derivation("t", [])
    assert d.compare("(39)", "t", r["transformed"], r["integrand38"],
                     simplify=lambda e: sp.simplify(sp.expand(e))).verdict == "AGREES"
    p, q, m, Djj, Dkk, ej, ek, s1, s2, rho = r["symbols"]
    swapped = r["integrand38"].subs(Djj, Dkk)  # a wrong pi(p) / energies
    assert d.compare("(39)", "t", r["transformed"], swapped,
                     simplify=lambda e: sp.simplify(sp.expand(e))).verdict == "FAIL"
    for _, mapped, pinf in r["limits"]:
        assert sp.simplify(mapped - pinf) == 0


def test_39_numeric_one_qubit():
    num, tol = balance.hermiticity_numeric()
    assert all(abs(complex(a - cb)) < tol for _, a, cb, _ in num)
    assert max(abs(complex(a - b)) for _, a, _, b in num) > 1e-6  # the conjugation matters
