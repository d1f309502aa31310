"""The presets of ``symcoll phase-diagram`` (symcoll.phase_diagram) end to end on a real two-worker
LocalCluster, on tiny grids (N = 2), each to a PNG; the numbers in the store checked at a point
against computations made here:

* (a) the relaxation time 1/gap against the eigenvalues of a generator (71) assembled here column by
  column from ``S.apply`` and the energies (not from ``Lindbladian.superoperator``), and the plateau
  start against the band ratio (74) of ``Lindbladian.evolve`` at the grid times around it;
* (b) the trace distance to Gibbs (72) against a steady state computed here as the null vector of
  that generator, the Gibbs state as ``exp(-beta e)/Z`` and the trace norm from ``eigvalsh``;
* (c) the heat current against ``symcoll.transport.heat_flows`` (bit for bit: the same arithmetic).
"""
import math
import os
import subprocess
import sys

import numpy as np
import pytest

distributed = pytest.importorskip("distributed")
xr = pytest.importorskip("xarray")
pytest.importorskip("zarr")
pytest.importorskip("matplotlib")

from symcoll import DeltaCoupling, EffusionBath, Lindbladian, QubitChain, collision_map  # noqa: E402
from symcoll import observables as ob  # noqa: E402
from symcoll.phase_diagram import PLATEAU_THETA, PLATEAU_TIMES, phase_diagram  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
H, BETA, M, G, SIGMA = 4.0, 0.1, 0.1, 50.0, 0.5
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


# the ``client`` fixture (a two-process LocalCluster) is in tests/conftest.py


def _generator_here(chain, cmap, Gamma):
    """Column-stacking matrix of (71), ``L rho = -i[H, rho] + Gamma (S rho - rho)`` in the eigenbasis,
    assembled from ``S.apply`` on the matrix units ``|j><k|`` (column ``j + d k``)."""
    d = chain.dim
    e = np.asarray(chain.eigensystem().energies, dtype=float)
    L = np.zeros((d * d, d * d), dtype=complex)
    for k in range(d):
        for j in range(d):
            E = np.zeros((d, d), dtype=complex)
            E[j, k] = 1.0
            out = -1j * (e[j] - e[k]) * E + Gamma * (np.asarray(cmap.apply(E), dtype=complex) - E)
            L[:, j + d * k] = out.reshape(-1, order="F")
    return L


def _png_ok(path):
    with open(path, "rb") as f:
        head = f.read(8)
    assert head == PNG_MAGIC
    assert os.path.getsize(path) > 10_000  # axes, labels and a colour mesh, not an empty canvas


def test_preset_a(client, tmp_path):
    eps, gammas = [0.1, 1e-2], [0.1, 10.0]
    res, png = phase_diagram("a", str(tmp_path), grid={"eps": eps, "Gamma": gammas}, fixed={"N": 2}, client=client)
    assert (res.done, res.failed) == (4, 0)
    _png_ok(png)
    ds = xr.open_zarr(res.path)
    assert list(ds["relaxation_time"].dims) == ["eps", "Gamma"]
    for e_, Gam in ((0.1, 10.0), (1e-2, 0.1)):
        chain = QubitChain(2, H, e_)
        cmap = collision_map(chain, EffusionBath(BETA, M, SIGMA), DeltaCoupling(G), kind="exact")
        lam = np.linalg.eigvals(_generator_here(chain, cmap, Gam))
        rest = np.delete(lam, np.argmin(np.abs(lam)))
        t_here = 1.0 / np.min(-rest.real)
        pt = ds.sel(eps=e_, Gamma=Gam)
        t = float(pt["relaxation_time"])
        assert math.isfinite(t) and t > 0
        assert abs(t - t_here) <= float(pt["relaxation_time_error"]) + 1e-9 * t_here
        assert float(pt["gap"]) == pytest.approx(1 / t_here, rel=1e-8)
        # the plateau start: on the plateau at that grid time, not at the one before
        start = float(pt["plateau_start"])
        if math.isfinite(start):
            i = int(np.argmin(np.abs(PLATEAU_TIMES - start)))
            assert PLATEAU_TIMES[i] == start and float(pt["plateau_end"]) >= start
            r_loc = float(ob.band_ratio(ob.local_thermal_state(chain, BETA, site=1)[None], chain)[0])
            r_g = float(ob.band_ratio(ob.gibbs_state(chain, BETA)[None], chain)[0])
            assert float(pt["ratio_local_thermal"]) == r_loc and float(pt["ratio_gibbs"]) == r_g
            L = Lindbladian(chain, cmap, Gam)
            rho0 = np.zeros((4, 4), dtype=complex)
            rho0[0, 0] = 1.0
            ts = PLATEAU_TIMES[max(i - 1, 0): i + 1]
            r = ob.band_ratio(L.evolve(rho0, ts).states_float(), chain)
            assert abs(r[-1] - r_loc) <= PLATEAU_THETA * abs(r_g - r_loc)
            if i > 0:
                assert abs(r[0] - r_loc) > PLATEAU_THETA * abs(r_g - r_loc)
    # eps = 1e-2, Gamma = 10: the ratio crosses the local-thermal band once at t = 0.56 (overshoot),
    # then stays in it from t = 1.8 to 32 (relaxation time 1.2e3): the plateau is that longer run
    pt = ds.sel(eps=1e-2, Gamma=10.0)
    assert float(pt["plateau_start"]) > 1.0 and float(pt["plateau_duration"]) > 10.0
    assert float(pt["plateau_end"]) < float(pt["relaxation_time"])
    assert float(pt["closest_local_thermal"]) <= PLATEAU_THETA


def test_preset_b(client, tmp_path):
    res, png = phase_diagram("b", str(tmp_path), grid={"eps": [0.1, 1e-3], "sigma_p": [0.3]},
                             fixed={"N": 2}, client=client)
    assert (res.done, res.failed) == (4, 0)
    _png_ok(png)
    ds = xr.open_zarr(res.path)
    assert set(ds["kind"].values.tolist()) == {"exact", "local"}
    for kind in ("exact", "local"):
        chain = QubitChain(2, H, 0.1)
        cmap = collision_map(chain, EffusionBath(BETA, M, 0.3), DeltaCoupling(G), kind=kind)
        Lm = _generator_here(chain, cmap, 1.0)
        _, s, Vh = np.linalg.svd(Lm)
        rho = Vh[-1].conj().reshape(4, 4, order="F")
        rho = rho / np.trace(rho)
        rho = (rho + rho.conj().T) / 2
        e = np.asarray(chain.eigensystem().energies, dtype=float)
        w = np.exp(-BETA * (e - e[0]))
        td_here = 0.5 * np.sum(np.abs(np.linalg.eigvalsh(rho - np.diag(w / w.sum()))))
        pt = ds.sel(eps=0.1, sigma_p=0.3, kind=kind)
        td = float(pt["trace_distance_gibbs"])
        assert abs(td - td_here) <= float(pt["trace_distance_gibbs_error"]) + 1e-12
        # and bit for bit the API's arithmetic
        ss = Lindbladian(chain, cmap, 1.0).steady_state()
        assert td == ob.trace_distance(np.asarray(ss), ob.gibbs_state(chain, BETA))


@pytest.mark.filterwarnings("ignore::symcoll.NotCompletelyPositiveWarning")  # sigma_p = 0.5: README
def test_preset_c_cli(client, tmp_path):
    """Preset (c) through the command line (on the module's cluster, ``--scheduler``), heat current =
    heat_flows."""
    from symcoll.transport import heat_flows

    out = tmp_path / "pc"
    cmd = [sys.executable, "-m", "symcoll", "phase-diagram", "--preset", "c", "--grid", "eps=0.1",
           "--grid", "beta_cold=0.3,0.6", "--set", "N=2", "--out", str(out), "--scheduler", client.scheduler.address]
    p = subprocess.run(cmd, capture_output=True, text=True, cwd=str(tmp_path), timeout=300,
                       env=dict(os.environ, PYTHONPATH=ROOT))
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().splitlines()[-1].startswith("points: 6 done, 0 skipped, 0 failed")
    _png_ok(out / "phase_c.png")
    ds = xr.open_zarr(str(out / "phase_c.zarr"))
    assert ds.attrs["command"].startswith("symcoll phase-diagram --preset c")
    chain = QubitChain(2, H, 0.1)
    for kind in ("exact", "global", "local"):
        maps = [collision_map(chain, EffusionBath(b, M, SIGMA), DeltaCoupling(G, site=s), kind=kind)
                for b, s in ((0.1, 1), (0.6, 2))]
        hf = heat_flows(Lindbladian(chain, maps, [1.0, 1.0]))
        pt = ds.sel(eps=0.1, beta_cold=0.6, kind=kind)
        assert pt["J"].values.tolist() == np.asarray(hf.J).tolist()
        assert pt["J"].values[0] > 0  # heat flows in from the hot bath (beta_hot = 0.1 < beta_cold)
