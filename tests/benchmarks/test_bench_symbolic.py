"""Benchmarks (pytest --run-benchmarks): symbolic derivation, code generation, kernel throughput.

Separated as in PyDy's code-generation benchmarks: (1) derivation of the block s-matrix
(C24)-(C28) for N = 1..8, (2) generation of kernel source with and without cse, (3)
evaluation throughput (energies per second) of numpy and mpmath kernels with and without cse.
"""
import numpy as np
import pytest

from symcoll import kernels as K
from symcoll.symbolic import scattering as ss


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOLL_CACHE", str(tmp_path / "cache"))


@pytest.mark.parametrize("N", list(range(1, 9)))
def test_bench_derive_block_smatrix(benchmark, N):
    def derive():
        ss.block_smatrix_eps0.cache_clear()
        return ss.block_smatrix_eps0(N, +1)

    S = benchmark.pedantic(derive, rounds=3, iterations=1)
    assert S.shape == (2**N, 2**N)
    benchmark.extra_info["dimension"] = 2**N


@pytest.mark.parametrize("cse", [True, False])
@pytest.mark.parametrize("N", [2, 4])
def test_bench_codegen(benchmark, N, cse):
    expr = ss.block_smatrix_eps0(N, +1)
    args = (ss.E, ss.h, ss.m, ss.g, ss.hbar)
    k = benchmark.pedantic(lambda: K.make_kernel(f"s{N}", args, expr, "numpy", None, cse, cache=False), rounds=3, iterations=1)
    benchmark.extra_info["source_lines"] = len(k.source.splitlines())


@pytest.mark.parametrize("cse", [True, False])
@pytest.mark.parametrize("N", [1, 2, 3, 4])
def test_bench_numpy_throughput(benchmark, N, cse):
    k = K.chain_kernel(N, +1, cse=cse)
    E = np.linspace(-1.0, 4.0 * (N + 2), 20000)
    out = benchmark(k, E, 4.0, 0.1, 50.0, 1.0)
    assert out.shape == (E.size, 2**N, 2**N)
    benchmark.extra_info["energies_per_second"] = E.size / benchmark.stats.stats.median


@pytest.mark.parametrize("cse", [True, False])
@pytest.mark.parametrize("N", [1, 2, 4])
def test_bench_mpmath_throughput(benchmark, N, cse):
    k = K.chain_kernel(N, +1, backend="mpmath", dps=30, cse=cse)
    E = np.linspace(-1.0, 4.0 * (N + 2), 50)
    benchmark.pedantic(k, args=(E, 4.0, 0.1, 50.0, 1.0), rounds=3, iterations=1)
    benchmark.extra_info["energies_per_second"] = E.size / benchmark.stats.stats.median
