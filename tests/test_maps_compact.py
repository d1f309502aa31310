"""Compact (block) storage of the global (45) and local (54)-(56) maps, and the dps = 20 Bohr classes.

Oracles: the dense tensor of the same map (built by the independent scatter-and-rotate
path of ``storage="dense"``; for the local kind the dense path integrates the full
d-dimensional H(0) scattering problem, the compact one only the site qubit), the
float64 path against the mpmath path, and structural identities (trace, Hermiticity (39)).
"""
import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, System, collision_map
from symcoll.maps import MAX_BYTES, _bohr_classes, _cluster_sorted, estimate_memory
from symcoll.numeric import get_context

BETA, M, G, SIGMA, H = 0.1, 0.1, 50.0, 0.5, 4.0
BATH = EffusionBath(BETA, M, SIGMA)
COUPLING = DeltaCoupling(G)


def random_states(d, n, seed):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
        rho = X @ X.conj().T
        out.append(rho / np.trace(rho))
    return np.array(out)


_CACHE = {}


def pair(N, kind, eps=0.1):
    key = (N, kind, eps)
    if key not in _CACHE:
        ch = QubitChain(N, H, eps)
        _CACHE[key] = (collision_map(ch, BATH, COUPLING, kind=kind, storage="dense"),
                       collision_map(ch, BATH, COUPLING, kind=kind, storage="compact"))
    return _CACHE[key]


CASES = [(3, "global"), (3, "local"), (4, "global"), (4, "local")]


@pytest.mark.parametrize("N,kind", CASES)
def test_compact_apply_equals_dense_apply(N, kind):
    dense, comp = pair(N, kind)
    assert dense.storage == "dense" and comp.storage == "compact"
    rhos = random_states(2**N, 3, seed=N)
    out_c = comp.apply(rhos)  # batch (3, d, d)
    for rho, oc in zip(rhos, out_c):
        assert np.max(np.abs(dense.apply(rho) - oc)) <= 1e-14
    # the dense tensor rebuilt from the blocks equals the dense path's tensor (small d: fits)
    assert np.max(np.abs(comp.tensor - dense.tensor)) <= 1e-14


@pytest.mark.parametrize("N,kind", CASES)
def test_compact_diagnostics_agree_with_dense(N, kind):
    dense, comp = pair(N, kind)
    dd, dc = dense.diagnostics(), comp.diagnostics()
    assert dc["storage"]["value"] == "compact"
    for key in ("trace_preservation", "detailed_balance", "sum_rule"):
        assert abs(dd[key]["value"] - dc[key]["value"]) <= 1e-14 + 1e-10 * dd[key]["value"], key
    assert dc["hermiticity"]["value"] <= 1e-15 and dd["hermiticity"]["value"] <= 1e-15
    # Choi spectrum: blockwise (global: direct sum of class blocks; local: 2^(N-1) spec(J_1) and 0)
    assert abs(dd["min_choi_eigenvalue"]["value"] - dc["min_choi_eigenvalue"]["value"]) <= 1e-13
    lam_d = dense.choi_eigenvalues()
    lam_c = comp.choi_eigenvalues()
    assert abs(lam_d[-1] - lam_c[-1]) <= 1e-12  # largest eigenvalue
    if kind == "local":  # local: rank 4 Choi matrix, the rest zero up to rounding
        assert np.max(np.abs(lam_d[:-4])) <= 1e-13
        assert np.allclose(lam_d[-4:], lam_c[-4:], atol=1e-12, rtol=0)


def test_compact_local_site2_equals_dense():
    """Coupling on the middle qubit: the site axis of S_1 (x) id is not the leading one."""
    ch = QubitChain(3, H, 0.1)
    cpl = DeltaCoupling(G, site=2)
    dense = collision_map(ch, BATH, cpl, kind="local", storage="dense")
    comp = collision_map(ch, BATH, cpl, kind="local", storage="compact")
    for rho in random_states(8, 2, seed=4):
        assert np.max(np.abs(dense.apply(rho) - comp.apply(rho))) <= 1e-14


def test_compact_generic_system_global():
    rng = np.random.default_rng(11)
    A = rng.normal(size=(4, 4))
    Hs = np.diag([0.0, 1.3, 2.9, 4.4]) + 0.1 * (A + A.T)
    B = rng.normal(size=(4, 4))
    cpl = DeltaCoupling(G, V=(B + B.T) / 2)
    sysm = System(Hs)
    dense = collision_map(sysm, BATH, cpl, kind="global", storage="dense")
    comp = collision_map(sysm, BATH, cpl, kind="global", storage="compact")
    for rho in random_states(4, 3, seed=5):
        assert np.max(np.abs(dense.apply(rho) - comp.apply(rho))) <= 1e-14
    dd, dc = dense.diagnostics(), comp.diagnostics()
    for key in ("trace_preservation", "hermiticity", "detailed_balance"):
        assert abs(dd[key]["value"] - dc[key]["value"]) <= 1e-14
    # generic V: no site structure, the compact local kind is refused
    with pytest.raises(ValueError, match="storage='compact' is available"):
        collision_map(QubitChain(2, H, 0.1), BATH, DeltaCoupling(G, V=np.eye(4)), kind="local", storage="compact")


def test_compact_kraus_small_map_reproduces_apply():
    _, comp = pair(3, "global")
    rho = random_states(8, 1, seed=3)[0]
    ks = comp.kraus(tol=1e-13)
    out = sum(K @ rho @ K.conj().T for K in ks)
    assert np.max(np.abs(out - comp.apply(rho))) <= 1e-12


def test_storage_validation_and_auto():
    ch = QubitChain(1, H, 0.0)
    with pytest.raises(ValueError, match="storage must be one of"):
        collision_map(ch, BATH, COUPLING, kind="global", storage="sparse")
    with pytest.raises(ValueError, match="storage='compact' is available for kind='global' and kind='local' only"):
        collision_map(ch, BATH, COUPLING, kind="exact", storage="compact")
    assert pair(3, "global")[0].storage == "dense"
    assert collision_map(QubitChain(3, H, 0.1), BATH, COUPLING, kind="local").storage == "dense"  # auto, N <= 6


def test_local_N7_compact_auto_trace_hermiticity_and_tensor_refused():
    ch = QubitChain(7, H, 0.1)
    S = collision_map(ch, BATH, COUPLING, kind="local")  # auto: N = 7 -> compact
    assert S.storage == "compact"
    d = ch.dim
    rho = random_states(d, 1, seed=7)[0]
    out = S.apply(rho)
    assert abs(np.trace(out) - 1) <= d * S.error_estimate
    assert np.max(np.abs(out - out.conj().T)) <= 1e-15
    dg = S.diagnostics()
    assert dg["trace_preservation"]["value"] <= d * S.error_estimate
    assert dg["sum_rule"]["value"] <= d * S.error_estimate  # (66) is exact for the local map
    assert dg["min_choi_eigenvalue"]["value"] >= -1e-13  # S_1 (x) id is CP
    assert estimate_memory(d, "local") > MAX_BYTES
    for call in (lambda: S.tensor, S.superoperator, S.choi, S.kraus):
        with pytest.raises(ValueError, match=r"dense d\^4 tensor needs [0-9.]+ GiB .*use \.apply"):
            call()


def test_global_N5_compact_trace_hermiticity():
    ch = QubitChain(5, H, 0.1)
    S = collision_map(ch, BATH, COUPLING, kind="global", storage="compact")
    d = ch.dim
    assert S.info["stored_numbers"] < d**4 // 50  # the blocks are a small part of d^4
    rho = random_states(d, 1, seed=9)[0]
    out = S.apply(rho)
    assert abs(np.trace(out) - 1) <= d * S.error_estimate
    assert np.max(np.abs(out - out.conj().T)) <= 1e-15
    dg = S.diagnostics()
    assert dg["trace_preservation"]["value"] <= d * S.error_estimate
    assert dg["detailed_balance"]["value"] <= S.error_estimate * (1 + np.exp(BETA * 5 * H * 1.2))
    assert dg["min_choi_eigenvalue"]["value"] >= -1e-13  # (45) is CP


# ----------------------------------------------------------------------------- dps = 20 Bohr classes
def test_cluster_gaps_in_working_precision_not_float64():
    """Delta_10 = 4 - 4 eps and Delta_32 = 8 - (4 + 4 eps) are equal; float64 copies differ by 4.4e-16."""
    ctx = get_context(20)
    e = np.array([ctx.mpf(0), ctx.mpf(4) - 4 * ctx.mpf(1e-3), ctx.mpf(4) + 4 * ctx.mpf(1e-3), ctx.mpf(8)],
                 dtype=object)
    d10, d32 = e[1] - e[0], e[3] - e[2]
    ef = np.array([float(x) for x in e])
    assert (ef[3] - ef[2]) - (ef[1] - ef[0]) != 0.0  # the float64 trap this test is about
    groups, gaps = _cluster_sorted(np.array([d10, d32], dtype=object), 1e-18, ctx)
    assert len(groups) == 1 and gaps[0] == 0.0
    classes, _ = _bohr_classes(ctx, e)
    assert sorted(len(c) for c in classes) == [1, 1, 1, 1, 2, 2, 2, 2, 4]


def test_global_map_dps20_builds_and_matches_float64():
    """Regression: kind='global' at dps=20 for QubitChain(2, 4, 1e-3) raised 'cannot decide' (float64 gaps)."""
    ch = QubitChain(2, 4, 1e-3)
    Sc = collision_map(ch, BATH, DeltaCoupling(50), kind="global", dps=20, tol=1e-10, storage="compact")
    Sf = collision_map(ch, BATH, DeltaCoupling(50), kind="global")
    assert len(Sc.classes) == 9  # Delta_10 = Delta_32 and Delta_20 = Delta_31 grouped
    # the mpmath entries (densified from the blocks) agree with the float64 path within both bounds
    assert np.max(np.abs(Sc._float_tensor() - Sf.tensor)) <= Sc.error_estimate + Sf.error_estimate
    # and the blockwise apply in mpmath arithmetic
    rho = random_states(4, 1, seed=2)[0]
    ctx = get_context(20)
    out = Sc.apply(rho)
    outf = np.asarray(ctx.to_float(ctx.real(out)), dtype=float) + 1j * np.asarray(ctx.to_float(ctx.imag(out)), dtype=float)
    assert np.max(np.abs(outf - Sf.apply(rho))) <= 4 * (Sc.error_estimate + Sf.error_estimate)


def test_compact_memory_refused_with_the_number(monkeypatch):
    import symcoll.maps.memory as maps_memory  # the module whose MAX_BYTES the checks read

    monkeypatch.setattr(maps_memory, "MAX_BYTES", 10**6)
    with pytest.raises(ValueError, match=r"compact global map for d = 4 needs about [0-9.]+ GiB"):
        collision_map(QubitChain(2, H, 0.1), BATH, COUPLING, kind="global", storage="compact")
    with pytest.raises(ValueError, match=r"compact local map for d = 4 needs about [0-9.]+ GiB"):
        collision_map(QubitChain(2, H, 0.1), BATH, COUPLING, kind="local", storage="compact")


def test_compact_memory_estimate_covers_traced_peak():
    import tracemalloc

    ch = QubitChain(4, H, 0.1)
    ch.eigensystem(None)
    tracemalloc.start()
    try:
        S = collision_map(ch, BATH, COUPLING, kind="global", storage="compact")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0 < peak <= S.info["memory_estimate_bytes"]
