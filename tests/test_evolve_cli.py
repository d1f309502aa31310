"""``symcoll evolve`` for any chain, initial state and bombarded site, with its JSON to a file (issue 11).

The expected values come from the physics, not from the code: ``|0..0>`` and ``|1..1>`` are
the one-state bands 0 and N; a Gibbs initial state has populations ``exp(-beta E_j)/Z``;
``|100>`` lies in band 1; bombarding the middle qubit of N = 3 never reaches the band-1
eigenstate ``sin(2 pi j / 4)`` (zero amplitude on qubit 2: a dark state), which bombarding
qubit 1 does reach.
"""
import json
import os

import numpy as np
import pytest

import symcoll.paper as paper_mod
from symcoll.cli import main


def evolve_json(capsys, *argv):
    capsys.readouterr()
    assert main(["evolve", *map(str, argv), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def error_line(capsys, *argv):
    capsys.readouterr()
    assert main(["evolve", *map(str, argv)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and "Traceback" not in err, err
    return err.strip()


@pytest.mark.parametrize("N", [1, 2])
def test_evolve_any_small_chain(capsys, N):
    res = evolve_json(capsys, "--N", N, "--map", "global", "--times", "1,10")
    d = 2**N
    assert len(res["populations"][0]) == d and res["parameters"]["N"] == N
    assert all(isinstance(r, float) for r in res["ratio_123_00"])  # (74) is defined for every N >= 1
    if N == 1:
        assert res["beta_eff_0_2"] == [None, None] and "not applicable" in res["beta_eff_0_2_note"]
        assert res["rho_23"] == [None, None]
    else:
        assert all(isinstance(b, float) for b in res["beta_eff_0_2"])


@pytest.mark.slow
def test_evolve_five_qubits(capsys):
    assert main(["evolve", "--N", "5", "--map", "global", "--times", "1"]) == 0
    out = capsys.readouterr().out
    assert "P_1/rho_00" in out and "stationary: trace distance to Gibbs" in out


def test_init_ground_and_excited_are_bands_0_and_N(capsys):
    for init, band in (("ground", 0), ("excited", 3)):
        res = evolve_json(capsys, "--map", "global", "--init", init, "--times", "0,1")
        assert res["initial_state"]["init"] == init
        p0 = np.asarray(res["band_populations"][0])
        assert abs(p0[band] - 1) < 1e-12 and abs(p0.sum() - 1) < 1e-12
    # from |1..1> the ratio (74) is not defined at t = 0 (rho_00 = 0), and is reported so
    assert res["ratio_123_00"][0] is None and "rho_00 is not above" in res["ratio_123_00_note"]
    assert isinstance(res["ratio_123_00"][1], float)


def test_init_gibbs_at_a_temperature(capsys):
    res = evolve_json(capsys, "--map", "global", "--init", "gibbs", "--init-beta", 0.05, "--times", "0")
    e = np.asarray(res["energies"])
    w = np.exp(-0.05 * (e - e[0]))
    assert np.allclose(res["populations"][0], w / w.sum(), atol=1e-12)
    assert res["initial_state"] == {"init": "gibbs", "beta": 0.05, "meaning": res["initial_state"]["meaning"]}
    # default: the bath's beta
    res = evolve_json(capsys, "--map", "global", "--init", "gibbs", "--beta", 0.2, "--times", "0")
    w = np.exp(-0.2 * (e - e[0]))
    assert np.allclose(res["populations"][0], w / w.sum(), atol=1e-12)


def test_init_from_a_state_file_in_either_basis(tmp_path, capsys):
    local = np.zeros((8, 8), dtype=complex)
    local[4, 4] = 1.0  # |100>: qubit 1 excited (most significant bit)
    np.save(tmp_path / "loc.npy", local)
    res = evolve_json(capsys, "--map", "global", "--state", tmp_path / "loc.npy", "--basis", "local", "--times", "0")
    assert res["initial_state"]["init"] == "file" and res["initial_state"]["basis"] == "local"
    assert abs(res["band_populations"][0][1] - 1) < 1e-12  # |100> lies in band 1
    assert res["initial_state"]["path"] == str(tmp_path / "loc.npy")
    eig = np.diag([0, 0, 0, 1, 0, 0, 0, 0]).astype(complex)  # eigenstate 3
    np.save(tmp_path / "eig.npy", eig)
    res = evolve_json(capsys, "--map", "global", "--init", "file", "--state", tmp_path / "eig.npy", "--times", "0")
    assert np.allclose(res["populations"][0], np.diag(eig).real, atol=1e-14)


def test_site_selects_the_bombarded_qubit(capsys):
    """N = 3, bombarded in the middle: the band-1 level 2 (zero amplitude on qubit 2) stays empty."""
    mid = evolve_json(capsys, "--site", 2, "--map", "global", "--times", "10,1000")
    end = evolve_json(capsys, "--site", 1, "--map", "global", "--times", "10,1000")
    assert mid["site"] == 2 and mid["parameters"]["site"] == 2
    assert max(abs(p[2]) for p in mid["populations"]) <= max(mid["error_estimate"])
    assert end["populations"][-1][2] > 1e-2
    # several stationary states (the dark level is never reached): reported, not fatal
    assert mid["stationary"]["unique"] is False and "no unique stationary state" in mid["stationary"]["note"]


def test_local_thermal_state_of_another_site():
    """(73) with the bombarded qubit thermal: |010><010| carries exp(-beta h)/Z_loc for site 2."""
    from symcoll import QubitChain
    from symcoll.observables import local_thermal_state

    chain = QubitChain(3, 4.0, 0.1)
    U = chain.eigensystem().vectors
    rl = U @ local_thermal_state(chain, 0.1, site=2) @ U.conj().T  # back to the local basis
    x = np.exp(-0.4)
    want = np.zeros(8)
    want[0], want[2] = 1 / (1 + x), x / (1 + x)
    assert np.allclose(np.diag(rl).real, want, atol=1e-14)
    with pytest.raises(ValueError, match=r"site must be in 1..N = 1..3 \(got 4\)"):
        local_thermal_state(chain, 0.1, site=4)


def test_out_file_gets_the_json(tmp_path, capsys):
    out = tmp_path / "new" / "run.json"
    capsys.readouterr()
    assert main(["evolve", "--N", "2", "--map", "local", "--times", "1,10", "--out", str(out)]) == 0
    table = capsys.readouterr().out
    assert f"# wrote {out}" in table and "rho_00" in table
    res = json.loads(out.read_text())
    assert res["times"] == [1.0, 10.0] and res["map"] == "local"
    assert res["command"].startswith("symcoll evolve --N 2") and str(out) in res["command"]
    assert res["parameters"]["map"]["kind"] == "local"
    assert [n for n in os.listdir(out.parent)] == ["run.json"]  # nothing temporary left


@pytest.mark.parametrize("argv, message", [
    (["--N", "3", "--site", "4"], "--site must be in 1..N = 1..3 (got 4)"),
    (["--init", "file"], "--init file needs --state"),
    (["--init", "ground", "--state", "x.npy"], "--state and --basis apply to --init file only"),
    (["--basis", "local"], "--state and --basis apply to --init file only"),
    (["--init-beta", "0.3"], "--init-beta applies to --init gibbs only"),
    (["--init", "gibbs", "--init-beta", "-1"], "--init-beta must be > 0"),
    (["--state", "/nonexistent/rho.npy"], "--state /nonexistent/rho.npy: cannot read it"),
])
def test_bad_evolve_options_are_refused_before_computing(argv, message, monkeypatch, capsys):
    called = []
    monkeypatch.setattr(paper_mod, "run_one", lambda *a, **k: called.append(a))
    assert error_line(capsys, "--N", "3", "--times", "1", *argv).startswith(f"symcoll: error: {message}")
    assert called == []


def test_bad_state_files_are_refused_before_computing(tmp_path, monkeypatch, capsys):
    called = []
    monkeypatch.setattr(paper_mod, "run_one", lambda *a, **k: called.append(a))
    np.save(tmp_path / "two.npy", 2 * np.eye(4) / 4)  # trace 2
    np.save(tmp_path / "small.npy", np.eye(2) / 2)    # 2 x 2 for a 4-level chain
    (tmp_path / "text.npy").write_text("not an array")
    for name, message in (("two.npy", "--state must have trace 1"), ("small.npy", "--state must be a square (4, 4)"),
                          ("text.npy", f"--state {tmp_path / 'text.npy'}: not a .npy array")):
        line = error_line(capsys, "--N", "2", "--times", "1", "--state", tmp_path / name)
        assert line.startswith(f"symcoll: error: {message}"), line
    assert called == []


def test_unwritable_out_file_is_refused_before_computing(tmp_path, monkeypatch, capsys):
    called = []
    monkeypatch.setattr(paper_mod, "run_one", lambda *a, **k: called.append(a))
    (tmp_path / "afile").write_text("x")
    for bad in (tmp_path, tmp_path / "afile" / "run.json", "/proc/symcoll-no-such/run.json"):
        line = error_line(capsys, "--N", "2", "--times", "1", "--out", bad)
        assert line.startswith(f"symcoll: error: --out {bad}"), line
    assert called == []
