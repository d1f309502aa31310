"""``symcoll scaling`` (symcoll.scaling, issue 16).

The command runs once (module fixture, ``--quick --exact-N-max 2``: N = 2, 3, three kinds, two eps,
a few seconds); the tests read its files and compare its numbers with

* the API (``Lindbladian(...).spectral_gap().relaxation_time``), bit for bit;
* ``symcoll phase-diagram``'s task on ``symcoll sweep``'s model of the same point (the plateau), bit for bit;
* an independent computation written here: the dense generator (71) assembled from the dense map
  tensor by explicit loops (``L rho = -i[H, rho] + Gamma (S - I) rho`` in the eigenbasis, column
  stacking), its eigenvalues by ``numpy.linalg.eigvals``, its kernel by SVD, the Gibbs state (72)
  from the energies; agreement within the command's own error estimates.

Bad options and output paths: refused before any computation, one line naming the flag or path.
"""
import json
import math

import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map
from symcoll.cli import main
from symcoll.scaling import OUTPUT_NAMES, resolve, run_scaling

BATH = EffusionBath(0.1, 0.1, 0.5)
CP = DeltaCoupling(50.0, site=1)


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("scaling") / "out"
    rc = main(["scaling", "--quick", "--exact-N-max", "2", "--out", str(out)])
    with open(out / "scaling.json") as fh:
        # strict JSON: no NaN / Infinity tokens
        data = json.load(fh, parse_constant=lambda c: pytest.fail(f"non-standard JSON constant {c}"))
    return {"rc": rc, "out": out, "data": data}


def _point(data, kind, N, eps):
    (p,) = [r for r in data["points"] if (r["kind"], r["N"], r["eps"]) == (kind, N, eps)]
    return p


def _dense_generator(chain, tensor, Gamma):
    """(71) in the eigenbasis, column stacking (vec index j + d k of rho_jk), by explicit loops."""
    d = chain.dim
    e = np.asarray(chain.eigensystem().energies, dtype=float)
    L = np.zeros((d * d, d * d), dtype=complex)
    T = np.asarray(tensor, dtype=complex)
    for j in range(d):
        for k in range(d):
            col = j + d * k
            for jp in range(d):
                for kp in range(d):
                    L[jp + d * kp, col] += Gamma * T[jp, kp, j, k]
            L[col, col] += -1j * (e[j] - e[k]) - Gamma
    return L, e


def _gap(L):
    """``(gap, rounding)``: the gap from all eigenvalues (LAPACK geev with left and right vectors) and
    the first-order rounding of the minimiser, ``kappa 4 sqrt(n) u ||L||_F`` (backward stable geev)."""
    import scipy.linalg as sla

    lam, vl, vr = sla.eig(L, left=True, right=True)
    i0 = int(np.argmin(np.abs(lam)))
    rest = np.delete(np.arange(len(lam)), i0)
    j = rest[int(np.argmin(-lam[rest].real))]
    y, v = vl[:, j], vr[:, j]
    kappa = np.linalg.norm(y) * np.linalg.norm(v) / abs(np.vdot(y, v))
    return float(-lam[j].real), kappa * 4 * math.sqrt(len(lam)) * 2.2e-16 * np.linalg.norm(L)


def test_quick_writes_both_files(quick):
    assert quick["rc"] == 0
    out = quick["out"]
    for name in OUTPUT_NAMES + ("manifest.json",):
        assert (out / name).is_file(), name
    assert (out / "scaling.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = quick["data"]
    assert data["N"] == [2, 3]
    assert len(data["points"]) == 3 * 2 * 2  # every (kind, N, eps), skipped ones included
    for r in data["points"]:
        if r["status"] == "done":
            for q in ("relaxation_time", "gap", "trace_distance_gibbs"):
                assert r[q]["error_estimate"] > 0 and r[q]["error"]["rigorous"] is False
                assert r[q]["error"]["bound"] is None  # estimates are never called bounds
            assert r["plateau"]["duration"] is None or r["plateau"]["duration_error_estimate"] > 0


def test_skipped_point_recorded_with_reason(quick):
    for eps in (0.1, 1e-3):
        p = _point(quick["data"], "exact", 3, eps)
        assert p["status"] == "skipped" and "--exact-N-max = 2" in p["reason"]
        assert _point(quick["data"], "exact", 2, eps)["status"] == "done"


@pytest.mark.parametrize("kind, N, eps, storage", [("global", 3, 0.1, "compact"), ("local", 3, 1e-3, "compact"),
                                                   ("exact", 2, 1e-3, "auto")])
def test_relaxation_time_equals_api_bit_for_bit(quick, kind, N, eps, storage):
    ch = QubitChain(N, 4.0, eps)
    g = Lindbladian(ch, collision_map(ch, BATH, CP, kind=kind, storage=storage), 1.0).spectral_gap()
    p = _point(quick["data"], kind, N, eps)
    assert p["relaxation_time"]["value"] == g.relaxation_time
    assert p["gap"]["value"] == g.value and p["gap"]["error_estimate"] == float(g.error.total)


@pytest.mark.parametrize("kind, N, eps", [("global", 3, 0.1), ("local", 3, 1e-3), ("exact", 2, 1e-3),
                                          ("local", 2, 0.1)])
def test_against_independent_dense_generator(quick, kind, N, eps):
    ch = QubitChain(N, 4.0, eps)
    dense = collision_map(ch, BATH, CP, kind=kind, storage="dense")
    L, e = _dense_generator(ch, dense.tensor, 1.0)
    p = _point(quick["data"], kind, N, eps)
    # relaxation time: within the command's error estimate plus the independent solver's rounding
    gap, rounding = _gap(L)
    slack = rounding / gap ** 2
    assert abs(p["relaxation_time"]["value"] - 1 / gap) <= p["relaxation_time"]["error_estimate"] + slack
    # stationary trace distance to Gibbs: kernel by SVD, Gibbs from the energies
    _, s, Vh = np.linalg.svd(L)
    rho = Vh[-1].conj().reshape(ch.dim, ch.dim, order="F")
    rho = rho / np.trace(rho)
    rho = (rho + rho.conj().T) / 2
    w = np.exp(-0.1 * (e - e[0]))
    td = 0.5 * np.abs(np.linalg.eigvalsh(rho - np.diag(w / w.sum()))).sum()
    # the SVD is backward stable: the null vector moves by ~ sqrt(n) u ||L||_F / s_{n-1}; sqrt(d) for the trace norm
    kernel_err = math.sqrt(ch.dim) * math.sqrt(L.shape[0]) * 2.2e-16 * np.linalg.norm(L) / s[-2]
    assert abs(p["trace_distance_gibbs"]["value"] - td) <= p["trace_distance_gibbs"]["error_estimate"] + kernel_err


def test_quick_numbers_are_not_trivial(quick):
    """Guards the comparisons above against a vacuous pass: the quantities differ between kinds/eps."""
    d = quick["data"]
    # eps -> 0 slows the local map down (the intra-band hopping ~ eps drives the relaxation), not the global one
    def T(kind, eps):
        return _point(d, kind, 3, eps)["relaxation_time"]["value"]

    assert T("local", 1e-3) > 100 * T("local", 0.1)
    assert T("global", 1e-3) < 2 * T("global", 0.1)
    # the global map's fixed point is Gibbs (45), the local one's is not
    assert _point(d, "global", 3, 0.1)["trace_distance_gibbs"]["value"] < 1e-10
    assert _point(d, "local", 3, 0.1)["trace_distance_gibbs"]["value"] > 1e-3


def test_plateau_agrees_with_phase_diagram_task(quick):
    from symcoll.phase_diagram import task_relaxation
    from symcoll.sweep import SWEEP_PARAMETERS, build_model

    params = dict(SWEEP_PARAMETERS, N=2, eps=1e-3, kind="exact")
    r = task_relaxation(build_model(params))
    p = _point(quick["data"], "exact", 2, 1e-3)["plateau"]
    assert r["plateau_duration"] > 0  # a real plateau at this point
    assert (p["start"], p["end"], p["duration"]) == (r["plateau_start"], r["plateau_end"], r["plateau_duration"])
    assert p["closest_local_thermal"] == r["closest_local_thermal"]


def test_memory_refusal_recorded_as_skipped(monkeypatch):
    import symcoll.maps.memory as mem

    monkeypatch.setattr(mem, "MAX_BYTES", 1024)
    data = run_scaling(resolve(N_max=2, kinds=["exact"], eps=[0.1]), progress=False)
    (p,) = data["points"]
    assert p["status"] == "skipped" and "memory refused" in p["reason"] and "GiB" in p["reason"]


def test_progress_lines_when_not_a_terminal(monkeypatch, capsys):
    """A long run redirected to a log says which point it finished and when (stderr is not a TTY here)."""
    import symcoll.maps.memory as mem

    monkeypatch.setattr(mem, "MAX_BYTES", 1024)  # every point refused up front: the run itself is instant
    run_scaling(resolve(N_max=3, kinds=["exact"], eps=[0.1, 1e-3]), progress=True)
    lines = capsys.readouterr().err.strip().splitlines()
    assert [ln.split(",")[0] for ln in lines] == [
        "symcoll scaling: 1/4 exact N=2 eps=0.1", "symcoll scaling: 2/4 exact N=2 eps=0.001",
        "symcoll scaling: 3/4 exact N=3 eps=0.1", "symcoll scaling: 4/4 exact N=3 eps=0.001"]
    assert all(ln.endswith(" s") for ln in lines)


@pytest.mark.parametrize("argv, start", [
    (["--N-max", "1"], "symcoll: error: --N-max must be an integer in 2..10"),
    (["--N-max", "11"], "symcoll: error: --N-max must be an integer in 2..10"),
    (["--N-min", "4", "--N-max", "3"], "symcoll: error: --N-max must be an integer in 4..10"),
    (["--kinds", "exact,foo"], "symcoll: error: --kinds must be distinct names among exact, global, local"),
    (["--eps", "0.1,-1"], "symcoll: error: --eps must hold finite numbers > 0"),
    (["--eps", "0.1,x"], "symcoll: error: --eps must be a comma-separated list of numbers"),
    (["--exact-N-max", "-1"], "symcoll: error: --exact-N-max must be an integer in 0..10"),
])
def test_bad_options_one_line(capsys, tmp_path, argv, start):
    rc = main(["scaling", "--out", str(tmp_path / "o")] + argv)
    err = capsys.readouterr().err
    assert rc == 2 and err.startswith(start) and err.count("\n") == 1, err
    assert not (tmp_path / "o").exists()


def test_bad_out_path_one_line(capsys, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    rc = main(["scaling", "--quick", "--out", str(f)])
    err = capsys.readouterr().err
    assert rc == 2 and err == f"symcoll: error: --out {f}: exists and is not a directory\n"


def test_other_errors_are_not_hidden_as_skips(monkeypatch):
    import symcoll.scaling as sc

    def boom(*a, **k):
        raise ValueError("a bug, not a memory refusal")

    monkeypatch.setattr(sc, "compute_point", boom)
    with pytest.raises(ValueError, match="a bug"):
        run_scaling(resolve(N_max=2, kinds=["global"], eps=[0.1]), progress=False)
