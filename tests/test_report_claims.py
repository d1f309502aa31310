"""report.md's claims as registered functions (issue 11): each returns the numbers behind its verdict.

* every claim 1..8 is registered once and returns a :class:`ClaimResult` whose rows are the
  numbers it prints (checked on the quick grid, computed once here);
* claim 3 lists, for each small eps, its deviation time from the smallest eps (checked on a
  hand-made run whose deviation times are known by construction), and FAILs when the
  trajectories part early;
* a chain without levels 2 and 3 (N = 1) makes claim 5 NOT TESTED, not a crash.
"""
import math

import numpy as np
import pytest

from symcoll.paper import PaperRun, run_paper
from symcoll.parameters import QUICK_PARAMETERS
from symcoll.report import CLAIMS, ClaimResult, claim, evaluate_claims


@pytest.fixture(scope="module")
def quick():
    return run_paper(QUICK_PARAMETERS, progress=False)


def test_eight_claims_registered_in_order():
    assert sorted(CLAIMS) == list(range(1, 9))
    for n, c in CLAIMS.items():
        assert c.number == n and c.title and c.paper.startswith('"') and c.criterion and callable(c.check)


def test_a_claim_number_cannot_be_registered_twice():
    with pytest.raises(ValueError, match="claim 3 is registered twice"):
        claim(3, "t", "p", "c")(lambda run: ClaimResult([], None))
    assert CLAIMS[3].check.__name__ == "claim_eps_independence"


@pytest.mark.parametrize("number", range(1, 9))
def test_each_claim_function_returns_its_rows(quick, number):
    res = CLAIMS[number].check(quick)
    assert isinstance(res, ClaimResult)
    assert res.rows and all(isinstance(r, str) and r for r in res.rows)
    assert res.passed in (True, False, None)
    # the rows carry numbers: an eps or a measured value in each
    assert all(any(ch.isdigit() for ch in r) for r in res.rows)


def test_evaluate_claims_is_the_registry_in_order(quick):
    claims = evaluate_claims(quick)
    assert [c["number"] for c in claims] == list(range(1, 9))
    for c in claims:
        res = CLAIMS[c["number"]].check(quick)
        assert c["numbers"] == res.rows
        assert c["verdict"] == {True: "PASS", False: "FAIL", None: "NOT TESTED"}[res.passed]


def _ratio_run(deviations, times, r_gibbs=2.0):
    """A run whose exact-map ratio (74) is 1 for the smallest eps and 1 + a * [t >= t0] for the others.

    ``deviations``: {eps: (a, t0, relaxation_time)}; the smallest eps (5e-5) is the reference.
    """
    eps_all = sorted(set(deviations) | {5e-5}, reverse=True)
    runs = []
    for eps in eps_all:
        a, t0, tau = deviations.get(eps, (0.0, math.inf, 1e7))
        runs.append({"eps": eps, "map": "exact", "times": list(times), "relaxation_time": tau,
                     "ratio_123_00": [1.0 + (a if t >= t0 else 0.0) for t in times]})
    params = dict(QUICK_PARAMETERS, eps=[5e-5], eps_sweep=eps_all)
    refs = [{"eps": e, "gibbs_ratio": r_gibbs, "local_thermal_ratio": 0.67} for e in eps_all]
    return PaperRun(parameters=params, ladder="paper", runs=runs, references=refs)


def test_claim3_lists_the_deviation_time_of_each_eps():
    times = np.logspace(-2, 5, 8)  # 1e-2, 1e-1, ..., 1e5
    # deviations of 10 % and 2 % of r_Gibbs = 2: only the first exceeds the 5 % criterion
    run = _ratio_run({1e-3: (0.2, 1e3, 1.5e4), 3e-4: (0.2, 1e4, 1.5e5), 1e-4: (0.04, 1e2, 1.5e6)}, times)
    res = CLAIMS[3].check(run)
    rows = {r.split(":")[0]: r for r in res.rows}
    assert set(rows) == {"eps=5e-05", "eps=0.001", "eps=0.0003", "eps=0.0001"}
    assert "first at t_dev = 1e+03" in rows["eps=0.001"]
    assert "first at t_dev = 1e+04" in rows["eps=0.0003"]
    assert "at no time of the grid" in rows["eps=0.0001"]
    assert "largest deviation for t <= 1000: 2.00% of r_Gibbs" in rows["eps=0.0001"]
    assert "relaxation time 1/gap of (71) = 1.5e+04 (t_dev / relaxation time = 0.0667)" in rows["eps=0.001"]
    assert res.passed is True  # both deviation times are >= 1e3 / sqrt(10)
    assert "0.0667 .. 0.0667" in res.note  # the same t_dev / relaxation time for both


def test_claim3_fails_when_trajectories_part_early():
    times = np.logspace(-2, 5, 8)
    res = CLAIMS[3].check(_ratio_run({1e-3: (0.2, 1e2, 1.5e4)}, times))
    assert res.passed is False
    assert any("first at t_dev = 100" in r for r in res.rows)


def test_claim3_not_tested_with_one_small_eps(quick):
    res = CLAIMS[3].check(quick)  # the quick grid: 0.1 and 5e-5
    assert res.passed is None and "cannot test" in res.rows[0]


def test_claims_on_a_one_qubit_run_are_not_applicable_not_crashes():
    """N = 1 has no levels 2, 3: beta_eff(0 -> 2) and rho_23 are reported not applicable."""
    run = run_paper(dict(QUICK_PARAMETERS, N=1, eps=[0.0], eps_sweep=[0.0], maps=["exact", "global"],
                         t_min=1.0, t_max=10.0, n_times=3), progress=False)
    claims = {c["number"]: c for c in evaluate_claims(run)}
    assert claims[5]["verdict"] == "NOT TESTED" and "not applicable" in claims[5]["numbers"][0]
    assert claims[4]["verdict"] == "NOT TESTED"
