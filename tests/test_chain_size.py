"""QubitChain size (issue 10, item 6): construction is cheap for every N; dense matrices and the
eigenbasis are estimated up front and refused above the memory limit with N and the GiB.

The small-N matrices are compared with H_int built here from Kronecker products of the
ladder operators of Eq. (64), independently of symcoll.
"""
import re
import tracemalloc

import numpy as np
import pytest

from symcoll import QubitChain
from symcoll import chain as model  # the chain module holds DENSE_MEMORY_LIMIT

MiB = 2**20
GiB = 2**30


def _traced_peak(fn):
    """(result, peak bytes traced by tracemalloc while ``fn()`` runs)."""
    tracemalloc.start()
    try:
        out = fn()
        return out, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _refusal(fn):
    """The message of the ValueError ``fn()`` raises, and the peak memory traced until then."""
    def call():
        with pytest.raises(ValueError) as exc:
            fn()
        return str(exc.value)

    return _traced_peak(call)


def _gib(msg, label):
    return float(re.search(label + r" ([0-9.e+-]+) GiB", msg).group(1))


# ----------------------------------------------------------------------------- construction
@pytest.mark.parametrize("N", [10, 14])
def test_construction_builds_nothing_of_size_2_to_the_N(N):
    # the old constructor held H_int and H densely: 16 MiB at N = 10, 4 GiB (8 GiB peak) at N = 14
    chain, peak = _traced_peak(lambda: QubitChain(N, 4.0, 0.1))
    assert peak < 1 * MiB, peak
    assert chain.dim == 2**N and chain.hopping == pytest.approx(0.4)


# ----------------------------------------------------------------------------- small-N matrices
def _kron_h_int(N, ladder):
    """H_int = sum_i sigma_+^(i) sigma_-^(i+1) + h.c. (Eq. (64)) from Kronecker products, order (|0>, |1>)."""
    sx = np.array([[0, 1], [1, 0]], dtype=complex)
    sy = np.array([[0, 1j], [-1j, 0]])  # sigma_z = diag(-1, +1): sigma_z|1> = +|1>
    if ladder == "paper":
        sp, sm = sx + 1j * sy, sx - 1j * sy  # as printed: sigma_pm = sigma_x pm i sigma_y = 2|1><0|, 2|0><1|
    else:
        sp, sm = np.array([[0, 0], [1, 0]]), np.array([[0, 1], [0, 0]])  # |1><0|, |0><1|

    def on(op, site):  # qubit 1 = most significant (leftmost) factor
        out = np.eye(1)
        for i in range(N):
            out = np.kron(out, op if i == site else np.eye(2))
        return out

    H = sum(on(sp, i) @ on(sm, i + 1) for i in range(N - 1))
    H = H + H.conj().T
    assert np.all(H.imag == 0)
    return H.real


@pytest.mark.parametrize("ladder", ["paper", "unit"])
@pytest.mark.parametrize("N", [2, 3, 4])
def test_small_N_matrices_equal_kronecker_construction_eq64(N, ladder):
    h, eps = 4.0, 0.1
    Hint = _kron_h_int(N, ladder)
    nexc = np.array([bin(i).count("1") for i in range(2**N)])
    chain = QubitChain(N, h, eps, ladder)
    assert np.array_equal(chain.h_int_matrix(), Hint)
    assert np.array_equal(chain.h_int_sparse().toarray(), Hint)
    assert np.array_equal(chain.h_loc_matrix(), np.diag(h * nexc))
    assert np.array_equal(chain.hamiltonian(), np.diag(h * nexc) + eps * Hint)
    # the eigenbasis is computed from the band blocks: exactly H_int restricted to each band
    blocks = list(chain._band_blocks())
    assert [b[0] for b in blocks] == list(range(N + 1))
    for n, idx, block in blocks:
        assert np.array_equal(idx, np.flatnonzero(nexc == n))
        assert np.array_equal(block, Hint[np.ix_(idx, idx)])


def test_eigensystem_beyond_N8_diagonalises_sparse_H():
    N, h, eps = 9, 4.0, 0.07
    chain = QubitChain(N, h, eps)
    es = chain.eigensystem()
    U = es.vectors
    nexc = np.array([bin(i).count("1") for i in range(2**N)])
    HU = h * nexc[:, None] * U + eps * (chain.h_int_sparse() @ U)
    assert np.max(np.abs(HU - U * es.energies)) < 1e-12
    assert np.max(np.abs(U.T @ U - np.eye(2**N))) < 1e-12
    assert np.array_equal(es.bands, np.rint(nexc @ U**2).astype(int))
    assert np.all(np.diff(es.energies) >= 0)


# ----------------------------------------------------------------------------- refusals
def test_eigensystem_refused_up_front_with_N_and_GiB(monkeypatch):
    monkeypatch.setattr(model, "DENSE_MEMORY_LIMIT", 1 * MiB)
    msg, peak = _refusal(QubitChain(10, 4.0, 0.1).eigensystem)
    assert "QubitChain(N=10).eigensystem()" in msg
    assert _gib(msg, "needs about") >= 8 * 4**10 / GiB  # at least the 1024 x 1024 float64 eigenvectors
    assert _gib(msg, "DENSE_MEMORY_LIMIT =") == pytest.approx(MiB / GiB, rel=1e-2)
    assert peak < 1 * MiB  # refused before building anything

    monkeypatch.setattr(model, "DENSE_MEMORY_LIMIT", 1 * GiB)
    msg, peak = _refusal(QubitChain(14, 4.0, 0.1).eigensystem)
    assert "QubitChain(N=14).eigensystem()" in msg and _gib(msg, "needs about") >= 2.0
    assert peak < 1 * MiB


def test_mp_eigensystem_and_hamiltonian_N14_refused_at_default_limit():
    chain = QubitChain(14, 4.0, 0.1)
    # 16384**2 mpmath numbers of >= 100 bytes (object and mantissa) each exceed any default limit
    lower = 16384**2 * 100 / GiB
    for fn, call in ((lambda: chain.eigensystem(30), "eigensystem(dps=30)"),
                     (lambda: chain.hamiltonian(30), "hamiltonian(dps=30)")):
        msg, peak = _refusal(fn)
        assert f"QubitChain(N=14).{call}" in msg and _gib(msg, "needs about") > lower
        assert peak < 1 * MiB


@pytest.mark.parametrize("method", ["hamiltonian", "h_int_matrix", "h_loc_matrix"])
def test_dense_matrices_refused_above_limit_naming_the_sparse_alternative(monkeypatch, method):
    monkeypatch.setattr(model, "DENSE_MEMORY_LIMIT", 1 * MiB)
    chain = QubitChain(10, 4.0, 0.1)
    msg, peak = _refusal(getattr(chain, method))
    assert f"QubitChain(N=10).{method}()" in msg and "h_int_sparse()" in msg
    assert _gib(msg, "needs about") == pytest.approx(8 * 4**10 / GiB, rel=1e-2)  # 1024 x 1024 float64
    assert peak < 1 * MiB
    assert chain.h_int_sparse().nnz == 2 * 9 * 2**8  # the sparse form: 2 (N-1) 2**(N-2) entries


def test_N_beyond_limit_message_gives_the_eigenbasis_size():
    with pytest.raises(ValueError, match=r"N must be in 1\.\.14 \(got 15\).*8 GiB at N = 15"):
        QubitChain(15, 4.0, 0.1)  # 8 * 4**15 bytes = 8 GiB of float64 eigenvectors
