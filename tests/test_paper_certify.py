"""``symcoll paper --certify``: enclosures of every number, claims on intervals, honesty of the float64 estimates."""
import json
import os

import numpy as np
import pytest

from symcoll import intervals as iv
from symcoll.cli import main


@pytest.mark.slow
def test_quick_certify_end_to_end(tmp_path):
    """The CI run of issue #12: ``symcoll paper --quick --certify`` (about 1 minute)."""
    out = tmp_path / "q"
    assert main(["paper", "--quick", "--certify", "--out", str(out)]) == 0
    res = json.loads((out / "results.json").read_text())
    cert = res["certified"]
    assert len(cert["runs"]) == len(res["runs"]) == 6
    for r in cert["runs"]:
        assert r["state_radius_max"] <= 1e-9, (r["eps"], r["map"], r["state_radius_max"])
        assert r["stationary_radius_max"] <= 1e-9
        assert r["map_error"]["rigorous"] is True
        assert 0.0 <= r["honesty"]["states"] <= 1.0 and 0.0 <= r["honesty"]["stationary"] <= 1.0
        # mid/rad pairs for every observable
        pops = r["populations"]
        assert np.shape(pops["mid"]) == np.shape(pops["rad"]) == (29, 8)
    assert cert["honesty"]["passed"] is True
    verdicts = {c["number"]: c["verdict"] for c in cert["claims"]}
    assert set(verdicts.values()) <= {"PASS", "FAIL", "UNDECIDED", "NOT TESTED"}
    # where the float64 report decides a claim, the enclosures decide it the same way (nothing UNDECIDED here)
    float_verdicts = {n: v for n, v in _float_verdicts(out).items()}
    for n, v in verdicts.items():
        assert v == float_verdicts[n], (n, v, float_verdicts[n])
    report = (out / "report.md").read_text()
    assert "## float64 estimate vs certified" in report and "certified verdict" in report


def _float_verdicts(out):
    import re

    text = (out / "report.md").read_text().split("## Certified run")[0]
    return {int(m.group(1)): m.group(2) for m in re.finditer(r"^\| (\d) \| .* \| (PASS|FAIL|NOT TESTED) \|$", text, re.M)}


def test_dishonest_float_estimate_fails_the_run(tmp_path, monkeypatch):
    """A float64 run whose estimate is zero while its states are off by 1e-6 must fail ``--certify`` (exit 1)."""
    import symcoll.paper as paper

    real = paper.run_one

    def dishonest(*args, **kwargs):
        r = real(*args, **kwargs)
        r["error_estimate"] = [0.0] * len(r["error_estimate"])
        r["populations"] = (np.asarray(r["populations"]) + 1e-6).tolist()
        return r

    monkeypatch.setattr(paper, "run_one", dishonest)
    out = tmp_path / "d"
    rc = main(["paper", "--certify", "--N", "2", "--eps", "0.1", "--maps", "local", "--times", "0.01:10:4",
               "--out", str(out)])
    assert rc == 1
    res = json.loads((out / "results.json").read_text())
    assert res["certified"]["honesty"]["passed"] is False
    assert res["certified"]["honesty"]["max_ratio"] > 1
    assert "FAIL: a float64 estimate is dishonest" in (out / "report.md").read_text()


class _Run:
    """A minimal certified run for the claim deciders: two eps, exact and local band populations."""

    def __init__(self, gap):
        self.parameters = {"eps": [0.1], "eps_sweep": [0.1], "beta": 0.1, "N": 2, "h": 4.0}
        self.times = np.array([1.0, 10.0])
        bp_x = iv.Interval([[0.9, 0.1], [0.8, 0.2]])
        bp_l = iv.Interval([[0.9 + gap[0], 0.1], [0.8, 0.2]], [[0.9 + gap[1], 0.1], [0.8, 0.2]])
        self.runs = {(0.1, "exact"): {"band_populations": bp_x}, (0.1, "local"): {"band_populations": bp_l}}

    def get(self, eps, kind):
        return self.runs.get((eps, kind))


@pytest.mark.parametrize("gap,verdict", [((0.001, 0.002), True), ((0.005, 0.02), None), ((0.02, 0.03), False)])
def test_claim_on_intervals_pass_undecided_fail(gap, verdict):
    """Claim 6 (|P^local - P^exact| < 0.01): an interval below, straddling, or above the threshold."""
    from symcoll.certified.claims import _c6

    rows, ok, testable = _c6(_Run(gap))
    assert testable and ok is verdict


def test_honesty_ratio():
    from symcoll.certified.paper import honesty_ratio

    assert honesty_ratio([1.0, 2.0], [0.1, 0.1], [1.05, 2.0], [0.0, 0.0]) == pytest.approx(0.5)
    assert honesty_ratio([1.0], [0.0], [1.0 + 1e-9], [0.0]) == np.inf
    assert honesty_ratio([1.0], [1e-12], [1.0 + 1e-9], [1e-12]) > 1
