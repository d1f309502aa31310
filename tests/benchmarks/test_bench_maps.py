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
    assert S.error_bound <= tol
    dg = S.diagnostics() if S.dim <= 32 else None
    if dg is not None:
        assert dg["trace_preservation"]["value"] <= S.dim * S.error_bound


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
    assert S.error_bound <= 1e-12


@pytest.mark.parametrize("N", [3, 4, 5, 6])
@pytest.mark.parametrize("kind", ["global", "local"])
def test_bench_global_local(benchmark, kind, N):
    """Global (45) and local (54)-(56) maps; N = 7, 8 are refused (dense d^4 tensor above 8 GiB)."""
    rounds = 3 if N <= 5 else 1
    S = benchmark.pedantic(_build(N, kind), rounds=rounds, iterations=1)
    assert S.error_bound <= 1e-12


def test_bench_mpmath_N1_40_digits(benchmark):
    """mpmath path: N = 1 exact map to 1e-30 at 40 digits."""
    S = benchmark.pedantic(_build(1, "exact", eps=0.0, dps=40, tol=1e-30), rounds=1, iterations=1)
    assert S.error_bound <= 1e-30


def test_bench_mpmath_N2_30_digits(benchmark):
    """mpmath path: N = 2 exact map (whole tensor) to 1e-16 at 30 digits."""
    S = benchmark.pedantic(_build(2, "exact", dps=30, tol=1e-16), rounds=1, iterations=1)
    assert S.error_bound <= 1e-16
