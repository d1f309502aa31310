"""ErrorBudget: bounds and estimates kept apart (symcoll.budget)."""
import numpy as np
import pytest

from symcoll.budget import ErrorBudget, ErrorPart, HasErrorBudget


def test_total_rigorous_bound():
    b = ErrorBudget({"tail": (1e-15, "bound", "analytic"), "rounding": (2e-15, "bound")})
    assert b.rigorous and b.bound == pytest.approx(3e-15) and b.estimate == b.total
    e = b.with_part("quadrature", 3e-14, "estimate", "G10 vs K21")
    assert not e.rigorous and e.bound is None and e.total == pytest.approx(3.3e-14)
    assert e.share("estimate") == pytest.approx(3e-14) and e.share("bound") == pytest.approx(3e-15)
    assert "tail" in e and len(e) == 3 and e["quadrature"].kind == "estimate"
    assert ErrorBudget().rigorous and ErrorBudget().total == 0.0


def test_arrays_over_times_and_json():
    b = ErrorBudget({"map": (np.array([1e-14, 2e-14]), "bound"), "rounding": (np.array([1e-16, 1e-16]), "estimate")})
    assert isinstance(b.total, np.ndarray) and np.allclose(b.total, [1.01e-14, 2.01e-14])
    d = b.to_dict()
    assert d["rigorous"] is False and d["bound"] is None and d["parts"]["map"]["kind"] == "bound"
    assert d["total"] == pytest.approx([1.01e-14, 2.01e-14])


def test_legacy_dict_parts_and_bad_parts():
    b = ErrorBudget({"tail": {"value": 1e-15, "kind": "bound (analytic)", "note": "x"}})
    assert b["tail"].kind == "bound"
    with pytest.raises(ValueError, match="kind must be one of"):
        ErrorPart(1.0, "guess")
    with pytest.raises(ValueError, match=">= 0 and not NaN"):
        ErrorPart(float("nan"), "bound")
    with pytest.raises(ValueError, match=">= 0 and not NaN"):
        ErrorPart(-1.0, "estimate")
    with pytest.raises(TypeError, match="an error part must be"):
        ErrorBudget({"x": 1.0})


def test_mixin_never_calls_an_estimate_a_bound():
    class R(HasErrorBudget):
        def __init__(self, parts):
            self.error = ErrorBudget(parts)

    r = R({"quadrature": (1e-13, "estimate")})
    assert r.error_bound is None and r.error_estimate == 1e-13
    assert r.error_parts["quadrature"] == {"value": 1e-13, "kind": "estimate", "note": ""}
    assert R({"tail": (1e-13, "bound")}).error_bound == 1e-13


def test_results_never_call_an_estimate_a_bound():
    """Every float64 map, evolution and steady state exposes error_estimate; error_bound is None
    whenever a part is an estimate (issue 11)."""
    from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map
    from symcoll.dynamics import kraus_map

    ch = QubitChain(2, 4.0, 0.1)
    rho0 = np.zeros((4, 4))
    rho0[0, 0] = 1
    objs = []
    for kind in ("exact", "global", "local"):
        S = collision_map(ch, EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50.0), kind=kind)
        L = Lindbladian(ch, S, 1.0)
        objs += [S, L.evolve(rho0, [1.0, 1e3]), L.steady_state()]
    for o in objs:
        est = o.error_estimate
        assert np.all(np.isfinite(est)) and np.all(np.asarray(est) > 0)
        assert np.allclose(est, o.error.total)
        has_estimate = any(p.kind == "estimate" for p in o.error.parts.values())
        assert has_estimate  # float64 quadrature/rounding are estimates
        assert o.error_bound is None and not o.error.rigorous
    # a user tensor with a given bound, propagated: the map part is a bound, the rounding is not
    K0 = np.diag([1.0, 0.8, 0.8, 0.6])
    ev = Lindbladian(ch, kraus_map(ch, [K0, np.sqrt(np.eye(4) - K0 @ K0)], error_bound=0.0), 1.0).evolve(rho0, [1.0])
    assert ev.error["map"].kind == "bound" and ev.error["rounding"].kind == "estimate" and ev.error_bound is None
