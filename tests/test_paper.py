"""End-to-end: ``symcoll paper --quick`` writes the figures, results.json and report.md (and manifest.json last)."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("matplotlib")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    proc = subprocess.run(
        [sys.executable, "-m", "symcoll", "paper", "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    return out, proc


def test_files_written(quick_run):
    out, proc = quick_run
    names = ("fig2.png", "fig3.png", "fig4.png", "results.json", "report.md")
    for name in names:
        path = os.path.join(out, name)
        assert os.path.getsize(path) > 1000, name
        assert f"wrote {path}" in proc.stdout
    assert sorted(os.listdir(out)) == sorted(names + ("manifest.json",))  # nothing temporary left
    with open(os.path.join(out, "manifest.json")) as fh:
        assert sorted(json.load(fh)["files"]) == sorted(names)
    with open(os.path.join(out, "fig2.png"), "rb") as fh:
        assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
    assert proc.stderr == ""  # no progress bar when not on a terminal


def test_results_json_fields(quick_run):
    out, _ = quick_run
    with open(os.path.join(out, "results.json")) as fh:
        res = json.load(fh)
    for key in ("parameters", "ladder", "symcoll_version", "reference_ratios", "runs"):
        assert key in res
    assert res["ladder"] == "paper"
    kinds = {(r["eps"], r["map"]) for r in res["runs"]}
    assert {(0.1, "exact"), (0.1, "global"), (0.1, "local"), (5e-5, "exact")} <= kinds
    for r in res["runs"]:
        T = len(r["times"])
        assert len(r["populations"]) == T and len(r["populations"][0]) == 8
        assert len(r["ratio_123_00"]) == T and len(r["beta_eff_0_2"]) == T
        assert len(r["rho_23"]) == T and len(r["rho_23"][0]) == 2
        assert len(r["error_estimate"]) == T and all(b >= 0 for b in r["error_estimate"])
        st = r["stationary"]
        assert abs(sum(st["populations"]) - 1) < 1e-10
        assert 0 <= st["trace_distance_gibbs"] <= 1 and 0 <= st["trace_distance_local_thermal"] <= 1
        # populations are a probability vector at every time, within the reported bound
        for p, b in zip(r["populations"], r["error_estimate"]):
            assert abs(sum(p) - 1) <= 8 * b + 1e-12
    for ref in res["reference_ratios"]:
        assert ref["local_thermal_ratio"] == pytest.approx(2.718281828459045 ** (-0.4), rel=1e-12)
        assert ref["gibbs_ratio"] > ref["local_thermal_ratio"]


def test_report_lists_claims(quick_run):
    out, _ = quick_run
    text = open(os.path.join(out, "report.md")).read()
    rows = [line for line in text.splitlines() if line.startswith("| ") and line.split("|")[1].strip().isdigit()]
    assert len(rows) == 8
    assert all(line.split("|")[3].strip() in ("PASS", "FAIL", "NOT TESTED") for line in rows)
    assert "ladder convention **paper**" in text
    assert "Errors and map diagnostics" in text


def test_evolve_command_json():
    proc = subprocess.run(
        [sys.executable, "-m", "symcoll", "evolve", "--N", "2", "--eps", "0.05", "--map", "global",
         "--times", "0.1,1,10", "--json"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["times"] == [0.1, 1.0, 10.0] and res["map"] == "global" and res["ladder"] == "paper"
    assert len(res["populations"][0]) == 4


def test_evolve_bad_input_is_a_clear_error():
    proc = subprocess.run(
        [sys.executable, "-m", "symcoll", "evolve", "--N", "2", "--beta", "-1", "--times", "1"],
        capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 2
    assert "beta must be > 0" in proc.stderr and "Traceback" not in proc.stderr


def test_help_lists_commands():
    proc = subprocess.run([sys.executable, "-m", "symcoll", "--help"], capture_output=True, text=True, timeout=60)
    for cmd in ("paper", "verify", "kernels", "evolve"):
        assert cmd in proc.stdout


def test_high_precision_validation_bounds_hold():
    """--dps: the float64 propagation differs from the 20-digit one by less than its error estimate."""
    from symcoll.paper import QUICK_PARAMETERS, run_paper, validate_high_precision

    run = run_paper(dict(QUICK_PARAMETERS, eps=[0.1], eps_sweep=[0.1], maps=["exact", "local"]), progress=False)
    checks = validate_high_precision(run, 20, kinds=(), n_check=3, progress=False)
    assert [c["map"] for c in checks] == ["exact"]
    c = checks[0]
    assert c["passed"] and max(c["max_diff"]) > 0  # a real comparison, not identical numbers
    assert all(d <= b for d, b in zip(c["max_diff"], c["estimate"]))


def test_sum_rule_residuals_detect_a_wrong_weight():
    """The same-band sum rule (66) holds for the local map; a wrong Boltzmann weight breaks it."""
    from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
    from symcoll.paper import sum_rule_residuals

    chain = QubitChain(3, 4.0, 1e-3)
    S = collision_map(chain, EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50.0), kind="local")
    bands = chain.eigensystem().bands
    same, inter = sum_rule_residuals(S.tensor, bands, 0.1, 4.0)
    assert same < 1e-12 and inter < 1e-12
    wrong, _ = sum_rule_residuals(S.tensor, bands, 0.1, -4.0)  # e^{+beta h} instead of e^{-beta h}
    assert wrong > 1e-2


@pytest.mark.parametrize("N", [1, 2])
def test_figures_for_small_chains(tmp_path, N):
    """`symcoll paper --N 1/2`: the figures are drawn (levels that exist; beta_eff and rho_23 where applicable)."""
    from symcoll.figures import make_figures
    from symcoll.paper import QUICK_PARAMETERS, run_paper

    run = run_paper(dict(QUICK_PARAMETERS, N=N, eps=[0.1], eps_sweep=[0.1], t_min=0.1, t_max=100.0,
                         n_times=5), progress=False)
    paths = make_figures(run, str(tmp_path))
    assert [os.path.basename(p) for p in paths] == ["fig2.png", "fig3.png", "fig4.png"]
    for p in paths:
        with open(p, "rb") as fh:
            assert fh.read(8) == b"\x89PNG\r\n\x1a\n"
