"""Benchmarks of the collision maps (run with ``pytest --run-benchmarks tests/benchmarks``).

Paper parameters (Sec. VI E): beta = m = 0.1, g = 50, sigma_p = 0.5, h = 4, eps = 0.1.
The heavy cases (names containing ``heavy``: exact N = 5, 6) run one round each; deselect
them with ``-k "not heavy"``.  Every benchmark also asserts the map's error bound, so a
fast but wrong build cannot pass.
"""
import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map

BATH = EffusionBath(0.1, 0.1, 0.5)
COUPLING = DeltaCoupling(50.0)


def _build(N, kind, eps=0.1, dps=None, tol=1e-12):
    chain = QubitChain(N, 4.0, eps)
    chain.eigensystem(dps)  # eigensystem cached: time the map only

    def run():
        return collision_map(chain, BATH, COUPLING, kind=kind, dps=dps, tol=tol)

    return run


def _check(S, tol):
    assert S.error_estimate <= tol
    dg = S.diagnostics() if S.dim <= 32 else None
    if dg is not None:
        assert dg["trace_preservation"]["value"] <= S.dim * S.error_estimate


@pytest.mark.parametrize("eps", [0.1, 5e-5])
def test_bench_exact_N3(benchmark, eps):
    """Goal: exact map (38), N = 3, tol 1e-12, under 0.2 s."""
    S = benchmark(_build(3, "exact", eps))
    _check(S, 1e-12)


def test_bench_exact_N4(benchmark):
    S = benchmark.pedantic(_build(4, "exact"), rounds=3, iterations=1)
    _check(S, 1e-12)


def test_bench_exact_heavy_N5(benchmark):
    """Goal: under 1 minute."""
    S = benchmark.pedantic(_build(5, "exact"), rounds=1, iterations=1)
    _check(S, 1e-12)


def test_bench_exact_heavy_N6(benchmark):
    """Goal: under 10 minutes within 24 GB."""
    S = benchmark.pedantic(_build(6, "exact"), rounds=1, iterations=1)
    assert S.error_estimate <= 1e-12


@pytest.mark.parametrize("N", [3, 4, 5, 6])
@pytest.mark.parametrize("kind", ["global", "local"])
def test_bench_global_local(benchmark, kind, N):
    """Global (45) and local (54)-(56) maps, dense storage (storage="auto" picks it for N <= 6;
    smatrix="auto" interpolates the s-matrix rows from N = 5 on)."""
    rounds = 3 if N <= 5 else 1
    S = benchmark.pedantic(_build(N, kind), rounds=rounds, iterations=1)
    benchmark.extra_info["smatrix"] = S.info["smatrix"]
    assert S.error_estimate <= 1e-12


@pytest.mark.parametrize("smatrix", ["solve", "interpolate"])
@pytest.mark.parametrize("N", [4, 5, 6])
def test_bench_global_smatrix(benchmark, N, smatrix):
    """Global map (45): rows of (C1) solved at every node vs read off the Chebyshev tables."""
    chain = QubitChain(N, 4.0, 0.1)
    chain.eigensystem(None)

    def run():
        return collision_map(chain, BATH, COUPLING, kind="global", smatrix=smatrix)

    S = benchmark.pedantic(run, rounds=3 if N <= 5 else 1, iterations=1)
    assert S.info["smatrix"] == smatrix
    assert S.error_estimate <= 1e-12


def _build_traced(N, kind, storage="compact", tol=1e-12):
    """Build with tracemalloc on; the peak traced bytes (numpy reports its buffers) go to extra_info."""
    import tracemalloc

    chain = QubitChain(N, 4.0, 0.1)
    chain.eigensystem(None)
    peaks = []

    def run():
        tracemalloc.start()
        try:
            S = collision_map(chain, BATH, COUPLING, kind=kind, storage=storage, tol=tol)
        finally:
            peaks.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.stop()
        return S

    return run, peaks


def _check_compact(S, benchmark, peaks, tol=1e-12):
    import numpy as np

    benchmark.extra_info["peak_traced_MiB"] = max(peaks) / 2**20
    benchmark.extra_info["stored_numbers"] = S.info.get("stored_numbers")
    benchmark.extra_info["memory_estimate_MiB"] = S.info.get("memory_estimate_bytes", 0) / 2**20
    benchmark.extra_info["error_bound"] = S.error_estimate
    benchmark.extra_info["error_parts"] = {k: v["value"] for k, v in S.error_parts.items()}
    for key in ("panels", "smatrix", "interp_panels", "interp_solves", "interp_peak_MiB", "bohr_classes"):
        if key in S.info:
            benchmark.extra_info[key] = S.info[key]
    assert S.storage == "compact"
    assert S.error_estimate <= tol
    assert max(peaks) <= S.info["memory_estimate_bytes"]  # the estimate made before allocating is an upper estimate
    d = S.dim
    rng = np.random.default_rng(7)
    X = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    rho = X @ X.conj().T
    rho /= np.trace(rho)
    out = S.apply(rho)
    assert abs(np.trace(out) - 1) <= d * S.error_estimate
    assert np.max(np.abs(out - out.conj().T)) <= 1e-14


@pytest.mark.parametrize("N", [7, 8])
def test_bench_local_compact(benchmark, N):
    """Local map (54)-(56), compact storage (site map S_1 (x) id_rest), N = 7, 8: one round.

    One warm-up round (cheap): the first build in a process also sets up the quadrature rules.
    """
    run, peaks = _build_traced(N, "local")
    S = benchmark.pedantic(run, rounds=1, iterations=1, warmup_rounds=1)
    _check_compact(S, benchmark, peaks)


@pytest.mark.parametrize("N,tol", [(7, 1e-12), (8, 1e-11)])
def test_bench_global_compact_heavy(benchmark, N, tol):
    """Global map (45), compact storage (Bohr-class blocks), N = 7, 8: one round.

    The s-matrix rows come from the interpolation tables (smatrix="auto"), so the cost is the
    accumulation, sum over Bohr classes of |class|^2 per quadrature node (7.2e6 numbers per
    node for N = 8).  N = 8 at tol 1e-11: the rounding estimate 16 d eps alone is ~1e-12 there.
    """
    run, peaks = _build_traced(N, "global", tol=tol)
    S = benchmark.pedantic(run, rounds=1, iterations=1)
    _check_compact(S, benchmark, peaks, tol)


def test_bench_mpmath_N1_40_digits(benchmark):
    """mpmath path: N = 1 exact map to 1e-30 at 40 digits."""
    S = benchmark.pedantic(_build(1, "exact", eps=0.0, dps=40, tol=1e-30), rounds=1, iterations=1)
    assert S.error_estimate <= 1e-30


def test_bench_mpmath_N2_30_digits(benchmark):
    """mpmath path: N = 2 exact map (whole tensor) to 1e-16 at 30 digits."""
    S = benchmark.pedantic(_build(2, "exact", dps=30, tol=1e-16), rounds=1, iterations=1)
    assert S.error_estimate <= 1e-16
