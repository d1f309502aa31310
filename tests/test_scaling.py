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
import re

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


def test_exact_point_refused_before_its_map_is_built(monkeypatch):
    """Up to N = 6 the exact kind's gap and evolution use the dense generator (6 arrays of d^4 numbers): a point that
    cannot hold it is skipped before its map is built, with the GiB in the reason."""
    import symcoll.maps.memory as mem
    import symcoll.scaling as sc

    built = []
    monkeypatch.setattr(sc, "build_map", lambda *a, **k: built.append(a) or (_ for _ in ()).throw(AssertionError))
    monkeypatch.setattr(mem, "MAX_BYTES", 6 * 4 ** 4 * 16 - 1)  # N = 2 (d = 4): one byte short of the 6 arrays
    data = run_scaling(resolve(N_max=2, kinds=["exact"], eps=[0.1]), progress=False)
    (p,) = data["points"]
    assert built == []
    assert p["status"] == "skipped" and "dense generator (71) for d = 4" in p["reason"] and "GiB" in p["reason"]


def test_exact_n7_point_needs_its_map_spectrum_and_lu_only(monkeypatch):
    """From N = 7 the dense L is never formed: an exact point needs the map's tensor, the real-form spectrum and
    one LU (3.2 arrays of 16384^2 complex numbers, 12.8 GiB), not 6 arrays (24 GiB); refused one byte short of
    that, with the number, and let through to the map build one byte above it."""
    import symcoll.maps.memory as mem
    import symcoll.scaling as sc

    class Built(Exception):
        pass

    def build(*a, **k):
        raise Built

    monkeypatch.setattr(sc, "build_map", build)
    need = int(3.2 * 128 ** 4 * 16)
    monkeypatch.setattr(mem, "MAX_BYTES", need - 1)
    data = run_scaling(resolve(N_min=7, N_max=7, kinds=["exact"], eps=[0.1], exact_N_max=7), progress=False)
    (p,) = data["points"]
    assert p["status"] == "skipped" and "12.8 GiB (3.2 arrays" in p["reason"]
    monkeypatch.setattr(mem, "MAX_BYTES", need + 1)
    with pytest.raises(Built):
        run_scaling(resolve(N_min=7, N_max=7, kinds=["exact"], eps=[0.1], exact_N_max=7), progress=False)


def test_long_exact_point_reports_its_stages(monkeypatch, capsys):
    """An exact point from LONG_POINT_N (minutes per stage at N = 6, 7) says which stage it is in, on the same
    progress output as the points (lowered here to N = 2 to run in a second)."""
    import symcoll.scaling as sc

    monkeypatch.setattr(sc, "LONG_POINT_N", 2)
    run_scaling(resolve(N_max=2, kinds=["exact"], eps=[0.1]), progress=True)
    lines = [re.sub(r"in \d+ s", "in T s", ln.split(",")[0]) for ln in capsys.readouterr().err.strip().splitlines()]
    assert [ln.split(" (")[0] for ln in lines] == [
        "symcoll scaling: exact N=2 eps=0.1: the map", "symcoll scaling: exact N=2 eps=0.1: map done in T s; the "
        "spectrum of", "symcoll scaling: exact N=2 eps=0.1: spectrum done in T s; the plateau's evolution and the gap",
        "symcoll scaling: exact N=2 eps=0.1: the steady state", "symcoll scaling: 1/1 exact N=2 eps=0.1"]


def test_long_sector_point_reports_its_stages(monkeypatch, capsys):
    """A local point from LONG_SECTOR_POINT_N (the N = 8, eps = 1e-3 point takes ~55 min) says which stage it is in
    (lowered here to N = 2), and the rational Krylov passes inside it reach the same output."""
    import symcoll.scaling as sc
    from symcoll.dynamics import rational_krylov

    seen = []
    real = rational_krylov.reporting

    def spy(fn):
        seen.append(fn)
        return real(fn)

    monkeypatch.setattr(rational_krylov, "reporting", spy)
    monkeypatch.setattr(sc, "LONG_SECTOR_POINT_N", 2)
    run_scaling(resolve(N_max=2, kinds=["local"], eps=[0.1]), progress=True)
    lines = [re.sub(r"in \d+ s", "in T s", ln.split(",")[0]) for ln in capsys.readouterr().err.strip().splitlines()]
    assert lines == [
        "symcoll scaling: local N=2 eps=0.1: the map", "symcoll scaling: local N=2 eps=0.1: map done in T s; the "
        "spectral gap", "symcoll scaling: local N=2 eps=0.1: gap done in T s; the plateau's evolution",
        "symcoll scaling: local N=2 eps=0.1: the steady state", "symcoll scaling: 1/1 local N=2 eps=0.1"]
    assert len(seen) == 1
    seen[0]("rational Krylov propagation, sector of 9: pass 1")
    out = capsys.readouterr().err.strip()  # the progress note ends with the elapsed time
    assert out.rsplit(", ", 1)[0] == "symcoll scaling: local N=2 eps=0.1: rational Krylov propagation, sector of 9: pass 1"


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


# ----------------------------------------------------------------------------- checkpoints and resuming
# The paper's model parameters (Sec. VI E), written out here, not read from the code under test.
PAPER_MODEL = {"h": 4.0, "g": 50.0, "m": 0.1, "sigma_p": 0.5, "beta": 0.1, "Gamma": 1.0, "site": 1}


def _fake_point(kind, N, eps):
    """The fields of a done point that main and make_figure read, with made-up numbers."""
    return {"kind": kind, "N": N, "eps": eps, "status": "done", "reason": None,
            "relaxation_time": {"value": 10.0 * N + eps, "error_estimate": 1e-9},
            "plateau": {"duration": None, "duration_error_estimate": None},
            "trace_distance_gibbs": {"value": 1e-3 * N, "error_estimate": 1e-12},
            "seconds": {"map": 0.5 * N, "dynamics": 0.25}}


@pytest.fixture
def fake(monkeypatch):
    """compute_point replaced by a fake recording its calls; ``fake.refuse`` / ``fake.interrupt_at`` steer it."""
    import symcoll.scaling as sc

    class Fake(list):
        refuse = ()  # (kind, N, eps) refused for memory
        interrupt_at = None  # KeyboardInterrupt on this call number (1-based)

        def __call__(self, kind, N, eps, params=None, stage=None):
            self.append((kind, N, eps))
            if len(self) == self.interrupt_at:
                raise KeyboardInterrupt
            if (kind, N, eps) in self.refuse:
                raise ValueError("the map needs 99.0 GiB, above the limit")
            return _fake_point(kind, N, eps)

    f = Fake()
    monkeypatch.setattr(sc, "compute_point", f)
    return f


OPTS = dict(N_max=3, kinds=["exact", "global"], eps=[0.1, 1e-3], exact_N_max=2)
# the done points of OPTS in run order (exact N = 3 is skipped by --exact-N-max)
DONE = [("exact", 2, 0.1), ("exact", 2, 1e-3), ("global", 2, 0.1), ("global", 2, 1e-3),
        ("global", 3, 0.1), ("global", 3, 1e-3)]
NAMES = {("exact", 2, 0.1): "exact-N2-eps0.1.json", ("exact", 2, 1e-3): "exact-N2-eps0.001.json",
         ("global", 2, 0.1): "global-N2-eps0.1.json", ("global", 2, 1e-3): "global-N2-eps0.001.json",
         ("global", 3, 0.1): "global-N3-eps0.1.json", ("global", 3, 1e-3): "global-N3-eps0.001.json"}


def _files(d):
    return sorted(p.name for p in d.iterdir()) if d.exists() else []


def _strip(points):
    return [{k: v for k, v in r.items() if k != "resumed"} for r in points]


def test_checkpoint_per_done_point_none_for_skipped(tmp_path, fake):
    from symcoll import __version__

    fake.refuse = [("global", 3, 1e-3)]
    ck = tmp_path / "scaling-points"
    data = run_scaling(resolve(**OPTS), progress=False, checkpoint_dir=str(ck))
    assert fake == DONE
    statuses = {(r["kind"], r["N"], r["eps"]): r["status"] for r in data["points"]}
    assert statuses[("exact", 3, 0.1)] == statuses[("global", 3, 1e-3)] == "skipped"
    # one file per done point, none for the --exact-N-max skips or the memory refusal, no temporary files
    assert _files(ck) == sorted(NAMES[j] for j in DONE[:-1])
    stored = json.loads((ck / "global-N3-eps0.1.json").read_text())
    assert stored["key"] == {"kind": "global", "N": 3, "eps": 0.1, "model": PAPER_MODEL,
                             "symcoll_version": __version__}
    assert stored["point"] == _fake_point("global", 3, 0.1)
    assert data["resumed_points"] == 0 and not any("resumed" in r for r in data["points"])


def test_no_checkpoint_dir_writes_nothing(tmp_path, fake, monkeypatch):
    monkeypatch.chdir(tmp_path)
    run_scaling(resolve(**OPTS), progress=False)
    assert fake == DONE and _files(tmp_path) == []


def test_second_run_computes_nothing(tmp_path, fake):
    ck = str(tmp_path / "scaling-points")
    first = run_scaling(resolve(**OPTS), progress=False, checkpoint_dir=ck)
    del fake[:]
    second = run_scaling(resolve(**OPTS), progress=False, checkpoint_dir=ck)
    assert fake == []
    assert second["resumed_points"] == 6 and _strip(second["points"]) == first["points"]
    assert [r.get("resumed") for r in second["points"] if r["status"] == "done"] == [True] * 6
    # a longer chain into the same directory computes only the new N
    third = run_scaling(resolve(**dict(OPTS, N_max=4)), progress=False, checkpoint_dir=ck)
    assert fake == [("global", 4, 0.1), ("global", 4, 1e-3)] and third["resumed_points"] == 6


def test_real_points_resume_bit_for_bit(quick, tmp_path, monkeypatch, capsys):
    """The command's own checkpoints (real points, N = 2, 3) are reused by a rerun, every number unchanged."""
    import shutil

    import symcoll.scaling as sc

    assert _files(quick["out"] / "scaling-points") == sorted(
        f"{k}-N{N}-eps{e}.json" for k in ("exact", "global", "local") for N in (2, 3) for e in ("0.1", "0.001")
        if (k, N) != ("exact", 3))
    out = tmp_path / "out"
    shutil.copytree(quick["out"], out)

    def forbidden(*a, **k):
        raise AssertionError("a point was recomputed")

    monkeypatch.setattr(sc, "compute_point", forbidden)
    capsys.readouterr()
    assert main(["scaling", "--quick", "--exact-N-max", "2", "--out", str(out)]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 12 and sum(ln.split(",")[0].endswith("(resumed)") for ln in err) == 10
    data = json.loads((out / "scaling.json").read_text())
    assert data["resumed_points"] == 10
    assert _strip(data["points"]) == quick["data"]["points"]  # seconds included: the original ones


def test_changed_key_or_corrupt_file_is_recomputed(tmp_path, fake):
    from symcoll import __version__

    ck = tmp_path / "scaling-points"
    run_scaling(resolve(**OPTS), progress=False, checkpoint_dir=str(ck))

    def edit(name, change):
        d = json.loads((ck / name).read_text())
        change(d)
        (ck / name).write_text(json.dumps(d))

    edit(NAMES[DONE[0]], lambda d: d["key"]["model"].update(h=4.5))  # another model parameter
    edit(NAMES[DONE[1]], lambda d: d["key"].update(symcoll_version="0.0.1"))  # another version
    edit(NAMES[DONE[2]], lambda d: d["key"]["model"].update(site=1.0))  # 1.0 is not exactly the key's 1
    text = (ck / NAMES[DONE[3]]).read_text()
    (ck / NAMES[DONE[3]]).write_text(text[: len(text) // 2])  # truncated JSON
    (ck / NAMES[DONE[4]]).write_bytes(b"\xff\xfe not utf-8")
    del fake[:]
    data = run_scaling(resolve(**OPTS), progress=False, checkpoint_dir=str(ck))
    assert fake == DONE[:5] and data["resumed_points"] == 1
    for j in DONE:  # every file rewritten with the right key
        stored = json.loads((ck / NAMES[j]).read_text())
        assert stored["key"]["model"] == PAPER_MODEL and stored["key"]["symcoll_version"] == __version__
    # another model given to run_scaling: nothing reused
    del fake[:]
    run_scaling(resolve(**OPTS), progress=False, model=dict(PAPER_MODEL, beta=0.2), checkpoint_dir=str(ck))
    assert fake == DONE


def test_interrupted_run_resumes_with_the_remaining_points(tmp_path, fake):
    ck = str(tmp_path / "scaling-points")
    fake.interrupt_at = 3
    with pytest.raises(KeyboardInterrupt):
        run_scaling(resolve(**OPTS), progress=False, checkpoint_dir=ck)
    assert _files(tmp_path / "scaling-points") == sorted(NAMES[j] for j in DONE[:2])
    fake.interrupt_at = None
    del fake[:]
    data = run_scaling(resolve(**OPTS), progress=False, checkpoint_dir=ck)
    assert fake == DONE[2:] and data["resumed_points"] == 2


def test_interrupted_command_keeps_points_and_says_so(tmp_path, fake, capsys):
    import signal

    out = tmp_path / "out"
    fake.interrupt_at = 3
    handler = signal.getsignal(signal.SIGINT)
    try:
        rc = main(["scaling", "--quick", "--kinds", "global", "--out", str(out)])
    finally:
        signal.signal(signal.SIGINT, handler)  # the command line ignores later Ctrl-C's after an interrupt
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert rc == 130
    assert err == (f"symcoll: interrupted; {out}: scaling.json and scaling.png not written; the finished "
                   f"points stay in {out / 'scaling-points'} (2 files; the same command resumes from them)")
    assert _files(out) == ["scaling-points"]  # no set, lock or staging directory left
    del fake[:]
    fake.interrupt_at = None
    assert main(["scaling", "--quick", "--kinds", "global", "--out", str(out)]) == 0
    assert fake == [("global", 3, 0.1), ("global", 3, 1e-3)]


def test_progress_line_says_resumed(tmp_path, fake, capsys):
    ck = str(tmp_path / "scaling-points")
    opts = resolve(N_max=2, kinds=["global"], eps=[0.1, 1e-3])
    run_scaling(opts, progress=False, checkpoint_dir=ck)
    (tmp_path / "scaling-points" / "global-N2-eps0.001.json").unlink()
    capsys.readouterr()
    run_scaling(opts, progress=True, checkpoint_dir=ck)
    lines = capsys.readouterr().err.strip().splitlines()
    assert [ln.split(",")[0] for ln in lines] == [
        "symcoll scaling: 1/2 global N=2 eps=0.1 (resumed)", "symcoll scaling: 2/2 global N=2 eps=0.001"]


def test_cli_no_resume_recomputes_and_points_survive_commit(tmp_path, fake, capsys):
    out = tmp_path / "out"
    argv = ["scaling", "--quick", "--kinds", "global", "--eps", "0.1", "--out", str(out)]
    assert main(argv) == 0 and fake == [("global", 2, 0.1), ("global", 3, 0.1)]
    names = ["global-N2-eps0.1.json", "global-N3-eps0.1.json"]
    assert _files(out / "scaling-points") == names  # kept after the commit
    assert _files(out) == ["manifest.json", "scaling-points", "scaling.json", "scaling.png"]
    del fake[:]
    assert main(argv) == 0 and fake == []
    assert json.loads((out / "scaling.json").read_text())["resumed_points"] == 2
    assert main(argv + ["--no-resume"]) == 0 and fake == [("global", 2, 0.1), ("global", 3, 0.1)]
    data = json.loads((out / "scaling.json").read_text())
    assert data["resumed_points"] == 0 and not any("resumed" in r for r in data["points"])
    assert _files(out / "scaling-points") == names
    assert "(0 resumed" in capsys.readouterr().out


def test_concurrent_run_refused_before_touching_points(tmp_path, fake, capsys):
    fcntl = pytest.importorskip("fcntl")
    out = tmp_path / "out"
    (out / "scaling-points").mkdir(parents=True)
    (out / "scaling-points" / "keep.json").write_text("{}")
    with open(out / ".symcoll.lock", "w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)  # another run holds the lock
        assert main(["scaling", "--quick", "--out", str(out), "--no-resume"]) == 2
    err = capsys.readouterr().err
    assert fake == [] and "another symcoll run" in err and err.count("\n") == 1
    assert _files(out / "scaling-points") == ["keep.json"]


def test_checkpoint_path_taken_by_a_file(tmp_path, fake, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / "scaling-points").write_text("x")
    assert main(["scaling", "--quick", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert fake == [] and err == f"symcoll: error: --out {out}: scaling-points there is not a directory " \
                                  "(it holds the finished points of the run)\n"


def test_temporary_files_of_a_killed_write_are_removed(tmp_path, fake):
    out = tmp_path / "out"
    ck = out / "scaling-points"
    ck.mkdir(parents=True)
    (ck / ".global-N2-eps0.1.json.abc123.tmp").write_text('{"key": ')  # atomic_write's name, cut by SIGKILL
    assert main(["scaling", "--quick", "--kinds", "global", "--eps", "0.1", "--out", str(out)]) == 0
    assert _files(ck) == ["global-N2-eps0.1.json", "global-N3-eps0.1.json"]
