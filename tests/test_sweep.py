"""symcoll.sweep on a real dask.distributed LocalCluster of two worker processes (issue 15).

Oracles: the API itself called directly in this process (Lindbladian(...).steady_state(),
symcoll.observables, symcoll.transport.heat_flows) and ``symcoll evolve --json``; counts of task
executions kept in files by the tasks themselves; a second store computed on one worker.
One cluster serves the whole module (start-up costs seconds).
"""
import functools
import json
import math
import os
import subprocess
import sys
import time

import cloudpickle
import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")

from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map  # noqa: E402
from symcoll import observables as ob  # noqa: E402
from symcoll.sweep import parse_grid_spec, sweep  # noqa: E402

cloudpickle.register_pickle_by_value(sys.modules[__name__])  # the user tasks below run on the workers

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
H, BETA, M, G, SIGMA = 4.0, 0.1, 0.1, 50.0, 0.5


# the ``client`` fixture (a two-process LocalCluster) is in tests/conftest.py


# ----------------------------------------------------------------------------- user tasks
def counting_task(path, model):
    """Appends one line per execution to the file ``path``; returns eps^2 and a vector."""
    with open(path, "a") as f:
        f.write(f"{model.chain.eps}\n")
    eps = float(model.chain.eps)
    return {"square": eps * eps, "vec": (("k",), np.array([eps, 2 * eps, 3 * eps]))}


def failing_task(model):
    if float(model.chain.eps) == 0.2:
        raise RuntimeError("boom at eps = 0.2")
    return {"value": float(model.chain.eps) + 1.0}


def slow_task(model):
    time.sleep(float(model.params["Gamma"]))
    return {"value": float(model.chain.eps) * 10, "pid": float(os.getpid())}


# ----------------------------------------------------------------------------- grid syntax
def test_parse_grid_spec():
    name, v = parse_grid_spec("eps=1e-4:1e-1:4log")
    assert name == "eps" and np.allclose(v, [1e-4, 1e-3, 1e-2, 1e-1], rtol=1e-13, atol=0)
    assert parse_grid_spec("sigma_p=0.1,0.3,0.5") == ("sigma_p", [0.1, 0.3, 0.5])
    assert parse_grid_spec("Gamma=0:1:3") == ("Gamma", [0.0, 0.5, 1.0])
    assert parse_grid_spec("kind=exact,local") == ("kind", ["exact", "local"])
    assert parse_grid_spec("N=2,3") == ("N", [2, 3]) and isinstance(parse_grid_spec("N=2,3")[1][0], int)


@pytest.mark.parametrize("spec, match", [
    ("epsilon=0.1", "unknown parameter 'epsilon'"),
    ("eps=", "eps: empty list"),
    ("eps=0.1,,0.2", "empty item"),
    ("eps=1:2", "start:stop:COUNT"),
    ("eps=1:2:x", "start:stop:COUNT"),
    ("eps=0:1:3log", "log-spaced range needs start, stop > 0"),
    ("eps=a,b", "'a' is not a number"),
    ("eps", "NAME=v1,v2"),
])
def test_parse_grid_spec_bad(spec, match):
    with pytest.raises(ValueError, match=match):
        parse_grid_spec(spec)


# ----------------------------------------------------------------------------- values
def test_stationary_values_equal_api(client, tmp_path):
    grid = {"eps": [0.1, 1e-3], "kind": ["global", "local"]}
    res = sweep(grid, "stationary", out=str(tmp_path / "s.zarr"), fixed={"N": 3}, client=client)
    assert (res.done, res.skipped, res.failed) == (4, 0, 0)
    ds = xr.open_zarr(res.path)
    assert list(ds["status"].dims) == ["eps", "kind"] and int(ds["status"].min()) == 1
    attrs = ds.attrs
    assert attrs["symcoll_version"] and "hbar = 1" in attrs["conventions"]
    assert json.loads(attrs["fixed"])["N"] == 3 and json.loads(attrs["grid"]) == grid
    for eps in grid["eps"]:
        for kind in grid["kind"]:
            chain = QubitChain(3, H, eps)
            cmap = collision_map(chain, EffusionBath(BETA, M, SIGMA), DeltaCoupling(G), kind=kind)
            ss = Lindbladian(chain, cmap, 1.0).steady_state()
            rho = np.asarray(ss)
            pt = ds.sel(eps=eps, kind=kind)
            # bit for bit: the same arithmetic on the worker and here
            assert float(pt["trace_distance_gibbs"]) == ob.trace_distance(rho, ob.gibbs_state(chain, BETA))
            assert np.array_equal(pt["populations"].values, np.real(np.diag(rho)))
            assert float(pt["ratio_123_00"]) == float(ob.band_ratio(rho[None], chain)[0])
            assert float(pt["beta_eff_0_2"]) == float(ob.beta_eff(rho, chain, 0, 2))
            assert pt["rho_23"].values.tolist() == [rho[2, 3].real, rho[2, 3].imag]
            assert float(pt["state_error"]) == float(ss.error_estimate)
            assert float(pt["trace_distance_gibbs_error"]) == math.sqrt(8) * float(ss.error_estimate) / 2
            assert ds["trace_distance_gibbs_error"].attrs["kind"] == "estimate"


def test_evolve_values_equal_cli(client, tmp_path):
    times = [0.01, 1.0, 100.0]
    res = sweep({"eps": [0.1, 5e-3]}, "evolve", out=str(tmp_path / "e.zarr"), times=times,
                fixed={"N": 2, "kind": "global"}, client=client)
    ds = xr.open_zarr(res.path)
    assert list(ds["populations"].dims) == ["eps", "time", "level"]
    for eps in (0.1, 5e-3):
        out = subprocess.run([sys.executable, "-m", "symcoll", "evolve", "--N", "2", "--eps", repr(eps), "--map",
                              "global", "--times", "0.01,1,100", "--json"], capture_output=True, text=True,
                             cwd=ROOT, env=dict(os.environ, PYTHONPATH=ROOT), check=True)
        ref = json.loads(out.stdout)
        pt = ds.sel(eps=eps)
        assert pt["populations"].values.tolist() == ref["populations"]
        assert pt["state_error"].values.tolist() == ref["error_estimate"]
        assert pt["beta_eff_0_2"].values.tolist() == ref["beta_eff_0_2"]
        assert pt["rho_23"].values.tolist() == ref["rho_23"]


def test_transport_values_equal_api(client, tmp_path):
    from symcoll.transport import heat_flows

    res = sweep({"beta_cold": [0.3, 0.6]}, "transport", out=str(tmp_path / "t.zarr"),
                fixed={"N": 2, "kind": "global", "gamma_cold": 0.5}, client=client)
    ds = xr.open_zarr(res.path)
    chain = QubitChain(2, H, 0.1)
    for bc in (0.3, 0.6):
        maps = [collision_map(chain, EffusionBath(b, M, SIGMA), DeltaCoupling(G, site=s), kind="global")
                for b, s in ((0.1, 1), (bc, 2))]
        hf = heat_flows(Lindbladian(chain, maps, [1.0, 0.5]))
        pt = ds.sel(beta_cold=bc)
        assert pt["J"].values.tolist() == np.asarray(hf.J).tolist()
        assert float(pt["sigma"]) == float(hf.sigma)
        assert pt["J_error"].values.tolist() == np.asarray(hf.J.error.total).tolist()
    assert ds["J"].sel(beta_cold=0.6).values[0] > 0  # heat flows in from the hot bath


# ----------------------------------------------------------------------------- resume, failures
def test_resume_computes_nothing(client, tmp_path):
    count = tmp_path / "count.txt"
    grid = {"eps": [0.1, 0.2, 0.3], "Gamma": [1.0, 2.0]}
    kw = dict(out=str(tmp_path / "r.zarr"), fixed={"N": 2, "kind": "local"}, client=client)
    task = functools.partial(counting_task, str(count))
    r1 = sweep(grid, task, **kw)
    assert (r1.done, r1.skipped, r1.failed) == (6, 0, 0)
    assert len(count.read_text().splitlines()) == 6
    ds = xr.open_zarr(r1.path)
    assert float(ds["square"].sel(eps=0.3, Gamma=2.0)) == 0.3 * 0.3
    assert ds["vec"].dims == ("eps", "Gamma", "k")
    r2 = sweep(grid, task, **kw)
    assert (r2.done, r2.skipped, r2.failed) == (0, 6, 0)
    assert len(count.read_text().splitlines()) == 6  # nothing executed
    # a point marked pending again (as after an interrupted write) is the only one recomputed
    from symcoll.sweep import _open_group

    _open_group(r1.path)["status"][1, 0] = 0
    r3 = sweep(grid, task, **kw)
    assert (r3.done, r3.skipped) == (1, 5)
    lines = count.read_text().splitlines()
    assert len(lines) == 7 and lines[-1] == "0.2"


def test_failed_point_recorded(client, tmp_path):
    res = sweep({"eps": [0.1, 0.2, 0.3]}, failing_task, out=str(tmp_path / "f.zarr"), fixed={"N": 2},
                client=client)
    assert (res.done, res.failed) == (2, 1)
    ds = xr.open_zarr(res.path)
    assert ds["status"].values.tolist() == [1, 2, 1]
    assert ds["error_message"].values[1] == "RuntimeError: boom at eps = 0.2"
    assert ds["value"].values[0] == 1.1 and ds["value"].values[2] == 1.3 and np.isnan(ds["value"].values[1])
    assert res.summary().startswith("points: 2 done, 0 skipped, 1 failed; wall ")


def flag_task(flag, model):
    if os.path.exists(flag) and float(model.chain.eps) == 0.2:
        raise RuntimeError("flagged")
    return {"value": float(model.chain.eps), "vec": (("k",), np.array([1.0, float(model.chain.eps)]))}


def test_failed_point_retried_clears_message(client, tmp_path):
    """A failed point is retried on resume; when it succeeds its message is cleared and its data written
    (the data chunks are written as raw files: read back through xarray, bit for bit)."""
    flag = tmp_path / "flag"
    flag.write_text("x")
    kw = dict(out=str(tmp_path / "m.zarr"), fixed={"N": 2}, client=client)
    task = functools.partial(flag_task, str(flag))
    r1 = sweep({"eps": [0.1, 0.2]}, task, **kw)
    assert (r1.done, r1.failed) == (1, 1)
    assert xr.open_zarr(r1.path)["error_message"].values.tolist() == ["", "RuntimeError: flagged"]
    flag.unlink()
    r2 = sweep({"eps": [0.1, 0.2]}, task, **kw)
    assert (r2.done, r2.skipped, r2.failed) == (1, 1, 0)
    ds = xr.open_zarr(r2.path)
    assert ds["status"].values.tolist() == [1, 1]
    assert ds["error_message"].values.tolist() == ["", ""]
    assert ds["value"].values.tolist() == [0.1, 0.2]
    assert ds["vec"].values.tolist() == [[1.0, 0.1], [1.0, 0.2]]


def clashing_task(model):
    return {"eps": 1.0, "x": 2.0}


def test_variable_name_clash_recorded(client, tmp_path):
    res = sweep({"eps": [0.1]}, clashing_task, out=str(tmp_path / "c.zarr"), fixed={"N": 1}, client=client)
    assert (res.done, res.failed) == (0, 1)
    msg = xr.open_zarr(res.path)["error_message"].values[0]
    assert msg.startswith("ValueError: variable name 'eps' is taken")


# ----------------------------------------------------------------------------- fault tolerance
def test_killed_worker_loses_nothing(client, tmp_path):
    """Kill one worker process while its task sleeps: every point ends up done, none lost."""
    import threading

    pids = list(client.run(os.getpid).values())
    assert len(pids) == 2
    grid = {"eps": [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]}
    killed = []

    def killer():
        time.sleep(2.5)  # the first points are written, later ones are running
        os.kill(pids[0], 9)
        killed.append(pids[0])

    th = threading.Thread(target=killer)
    th.start()
    res = sweep(grid, slow_task, out=str(tmp_path / "k.zarr"), fixed={"N": 2, "Gamma": 1.0}, client=client)
    th.join()
    assert killed
    assert (res.done, res.failed) == (6, 0)
    ds = xr.open_zarr(res.path)
    assert ds["status"].values.tolist() == [1] * 6
    assert np.allclose(ds["value"].values, np.array(grid["eps"]) * 10, rtol=1e-15, atol=0)
    # the killed process computed some points before it died; the others were redone elsewhere
    assert set(ds["pid"].values.astype(int)) - {pids[0]}
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the worker for the next tests


# ----------------------------------------------------------------------------- determinism
def test_one_and_two_workers_identical(client, tmp_path):
    grid = {"eps": [0.1, 1e-2], "sigma_p": [0.3, 0.5]}
    kw = dict(fixed={"N": 2, "kind": "exact", "tol": 1e-8})
    r2 = sweep(grid, "stationary", out=str(tmp_path / "two.zarr"), client=client, **kw)
    r1 = sweep(grid, "stationary", out=str(tmp_path / "one.zarr"), workers=1, **kw)
    a = xr.open_zarr(r1.path).drop_vars("seconds").load()
    b = xr.open_zarr(r2.path).drop_vars("seconds").load()
    assert a.attrs == b.attrs
    assert a.identical(b)
    assert int(a["status"].min()) == 1


# ----------------------------------------------------------------------------- bad inputs
def test_bad_inputs(client, tmp_path):
    out = str(tmp_path / "b.zarr")
    with pytest.raises(ValueError, match="unknown parameter 'epsilon'"):
        sweep({"epsilon": [0.1]}, out=out, client=client)
    with pytest.raises(ValueError, match="grid eps: empty list"):
        sweep({"eps": []}, out=out, client=client)
    with pytest.raises(ValueError, match="grid must be a non-empty dict"):
        sweep({}, out=out, client=client)
    with pytest.raises(ValueError, match="h must be"):
        sweep({"h": [1.0, -1.0]}, out=out, client=client)
    with pytest.raises(ValueError, match="task must be one of"):
        sweep({"eps": [0.1]}, "stationry", out=out, client=client)
    with pytest.raises(ValueError, match="times must be given"):
        sweep({"eps": [0.1]}, "evolve", out=out, client=client)
    assert not os.path.exists(out)  # nothing written before the inputs were checked
    t0 = time.perf_counter()
    with pytest.raises(ValueError, match="scheduler tcp://127.0.0.1:9: cannot connect within 2 s"):
        sweep({"eps": [0.1]}, out=out, scheduler="tcp://127.0.0.1:9", connect_timeout=2)
    assert time.perf_counter() - t0 < 15
    assert not os.path.exists(out)  # no store is left behind by a sweep that could not start
    with pytest.raises(ValueError, match="scheduler must be an address"):
        sweep({"eps": [0.1]}, out=out, scheduler="not an address")
    # an existing store of another sweep definition is refused, not overwritten
    sweep({"eps": [0.1]}, failing_task, out=out, fixed={"N": 2}, client=client)
    before = xr.open_zarr(out).load()
    with pytest.raises(ValueError, match="different sweep definition.*grid"):
        sweep({"eps": [0.1, 0.3]}, failing_task, out=out, fixed={"N": 2}, client=client)
    with pytest.raises(ValueError, match="different sweep definition.*fixed"):
        sweep({"eps": [0.1]}, failing_task, out=out, fixed={"N": 3}, client=client)
    assert xr.open_zarr(out).load().identical(before)
    other = tmp_path / "plain"
    other.mkdir()
    (other / "x.txt").write_text("keep")
    with pytest.raises(ValueError, match="not a symcoll sweep store"):
        sweep({"eps": [0.1]}, failing_task, out=str(other), fixed={"N": 2}, client=client)
    assert (other / "x.txt").read_text() == "keep"


# ----------------------------------------------------------------------------- command line
def test_cli_end_to_end(tmp_path):
    out = tmp_path / "cli.zarr"
    cmd = [sys.executable, "-m", "symcoll", "sweep", "--grid", "eps=1e-2:1e-1:2log", "--grid", "kind=global,local",
           "--set", "N=2", "--task", "stationary", "--out", str(out), "--workers", "2"]
    env = dict(os.environ, PYTHONPATH=ROOT)
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=120)
    assert p.returncode == 0, p.stderr
    last = p.stdout.strip().splitlines()[-1]
    assert last.startswith("points: 4 done, 0 skipped, 0 failed; wall ") and "; efficiency " in last
    ds = xr.open_zarr(str(out))
    assert ds.sizes["eps"] == 2 and ds.attrs["command"].startswith("symcoll sweep --grid eps=1e-2:1e-1:2log")
    assert np.allclose(ds["eps"].values, [1e-2, 1e-1], rtol=1e-14, atol=0)
    p2 = subprocess.run(cmd, capture_output=True, text=True, cwd=str(tmp_path), env=env, timeout=120)
    assert p2.stdout.strip().splitlines()[-1].startswith("points: 0 done, 4 skipped, 0 failed")
    bad = subprocess.run([sys.executable, "-m", "symcoll", "sweep", "--grid", "eps=0.1:", "--out", str(out)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "symcoll: error: --grid eps:" in bad.stderr
    bad = subprocess.run([sys.executable, "-m", "symcoll", "sweep", "--grid", "eps=0.1", "--set", "N=3",
                          "--out", str(out)], capture_output=True, text=True, env=env, timeout=60)
    assert bad.returncode == 2 and "different sweep definition" in bad.stderr
