"""Model objects: validation (clear errors) and the chain Hamiltonian / eigenbasis of Eq. (64)."""
import math

import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, System
from symcoll import conventions as cv


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(N=0, h=4, eps=0.1), "N must be in 1.."),
        (dict(N=15, h=4, eps=0.1), "N must be in 1.."),
        (dict(N=3, h=0, eps=0.1), "h must be > 0"),
        (dict(N=3, h=-1, eps=0.1), "h must be > 0"),
        (dict(N=3, h=4, eps=-1e-3), "eps must be >= 0"),
        (dict(N=3, h=float("nan"), eps=0.1), "h must be finite"),
        (dict(N=3, h=4, eps=float("inf")), "eps must be finite"),
        (dict(N=3, h=4, eps=0.1, ladder="spin"), "ladder must be one of"),
    ],
)
def test_chain_rejects_bad_values(kwargs, word):
    with pytest.raises(ValueError, match=word):
        QubitChain(**kwargs)


def test_chain_rejects_wrong_types():
    with pytest.raises(TypeError, match="N must be an integer"):
        QubitChain(3.0, 4, 0.1)
    with pytest.raises(TypeError, match="h must be a real number"):
        QubitChain(3, "four", 0.1)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        (dict(beta=0, m=0.1, sigma_p=0.5), "beta must be > 0"),
        (dict(beta=-1, m=0.1, sigma_p=0.5), "beta must be > 0"),
        (dict(beta=0.1, m=-0.1, sigma_p=0.5), "m must be > 0"),
        (dict(beta=0.1, m=0.1, sigma_p=-0.5), "sigma_p must be >= 0"),
        (dict(beta=0.1, m=0.1, sigma_p=float("nan")), "sigma_p must be finite"),
    ],
)
def test_bath_rejects_bad_values(kwargs, word):
    with pytest.raises(ValueError, match=word):
        EffusionBath(**kwargs)


def test_coupling_rejects_bad_values():
    with pytest.raises(ValueError, match="g must be nonzero"):
        DeltaCoupling(0)
    with pytest.raises(ValueError, match="site must be in 1..N"):
        DeltaCoupling(50, site=0)
    with pytest.raises(ValueError, match=r"site must be in 1..N = 1..3"):
        DeltaCoupling(50, site=4).operator(QubitChain(3, 4, 0.1))
    with pytest.raises(ValueError, match="Hermitian"):
        DeltaCoupling(1.0, V=np.array([[0, 1], [0, 0]]))
    with pytest.raises(ValueError, match=r"V must have shape \(8, 8\)"):
        DeltaCoupling(1.0, V=np.eye(2)).operator(QubitChain(3, 4, 0.1))


def test_system_rejects_non_hermitian():
    with pytest.raises(ValueError, match="H must be Hermitian"):
        System(np.array([[0.0, 1.0], [0.0, 1.0]]))
    with pytest.raises(ValueError, match="square"):
        System(np.zeros((2, 3)))


def test_effusion_distribution_normalised_eq40():
    from scipy.integrate import quad

    bath = EffusionBath(0.1, 0.1, 0.5)
    total, _ = quad(lambda p: bath.mu_eff(p), 0, np.inf)
    assert abs(total - 1) < 1e-10
    # (41) on the diagonal is (40)
    p = np.linspace(0.1, 3, 5)
    assert np.allclose(bath.rho_U(p, p), bath.mu_eff(p), rtol=0, atol=1e-15)


@pytest.mark.parametrize("ladder, t", [("paper", 4.0), ("unit", 1.0)])
def test_chain_hamiltonian_matches_definition_eq64(ladder, t):
    """H(eps) built from explicit Kronecker products of the ladder operators of (64)."""
    N, h, eps = 3, 4.0, 0.1
    sp, sm = cv.sigma_plus(ladder), cv.sigma_minus(ladder)
    I2 = np.eye(2)

    def op(o, site):
        mats = [o if i == site else I2 for i in range(N)]
        out = mats[0]
        for mm in mats[1:]:
            out = np.kron(out, mm)
        return out

    H = sum(h * (op(cv.SIGMA_Z, i) + np.eye(2**N)) / 2 for i in range(N))
    for i in range(N - 1):
        term = op(sp, i) @ op(sm, i + 1)
        H = H + eps * (term + term.conj().T)
    chain = QubitChain(N, h, eps, ladder=ladder)
    assert np.allclose(chain.hamiltonian(), H, atol=1e-14)
    assert chain.hopping == pytest.approx(t * eps)
    # |100> <-> |010> hopping amplitude (qubit 1 most significant bit)
    assert chain.hamiltonian()[cv.local_state_index((1, 0, 0)), cv.local_state_index((0, 1, 0))] == pytest.approx(t * eps)


@pytest.mark.parametrize("N", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("ladder", ["paper", "unit"])
def test_eigensystem_diagonalises_H(N, ladder):
    chain = QubitChain(N, 4.0, 0.07, ladder=ladder)
    es = chain.eigensystem()
    H = chain.hamiltonian()
    U = es.vectors
    assert np.allclose(U.T @ U, np.eye(2**N), atol=1e-13)
    assert np.allclose(U.T @ H @ U, np.diag(es.energies), atol=1e-12)
    assert np.all(np.diff(es.energies) >= 0)
    # bands: excitation number of each eigenvector
    n = cv.excitation_numbers(N)
    assert np.all(n @ (U**2) == pytest.approx(es.bands))


def test_band1_spectrum_closed_form():
    """Band 1 is a tight-binding chain: h + 2 t cos(k pi / (N+1)), t = hopping."""
    for N in (2, 3, 5):
        chain = QubitChain(N, 4.0, 0.01)
        es = chain.eigensystem()
        band1 = np.sort(es.energies[es.bands == 1])
        t = chain.hopping
        closed = np.sort(4.0 + 2 * t * np.cos(np.arange(1, N + 1) * np.pi / (N + 1)))
        assert np.allclose(band1, closed, atol=1e-14)


@pytest.mark.parametrize("N", [4, 5, 6])
def test_all_bands_free_fermion_sums(N):
    """The chain (64) is an XX chain, i.e. free fermions (Jordan-Wigner): band n consists of the sums of
    n distinct band-1 energies h + 2 t cos(k pi/(N+1)).  This is why so few levels are distinct (N = 8:
    185 of 256) and Bohr frequencies coincide (2127 classes of (45)), which the maps exploit."""
    import itertools

    chain = QubitChain(N, 4.0, 0.1)
    es = chain.eigensystem()
    sp = 4.0 + 2 * chain.hopping * np.cos(np.arange(1, N + 1) * np.pi / (N + 1))
    for n in range(N + 1):
        sums = np.sort([sum(c) for c in itertools.combinations(sp, n)]) if n else np.array([0.0])
        assert np.allclose(np.sort(es.energies[es.bands == n]), sums, atol=1e-13), n


def test_eigenbasis_exact_for_tiny_eps():
    """Eigenvectors do not depend on eps > 0 ([H_loc, H_int] = 0): identical at 0.1 and 1e-12."""
    a = QubitChain(3, 4.0, 0.1).eigensystem().vectors
    b = QubitChain(3, 4.0, 1e-12).eigensystem().vectors
    assert np.max(np.abs(a - b)) < 1e-14
    chain = QubitChain(3, 4.0, 1e-12)
    es = chain.eigensystem()
    # the vectors diagonalise H_int exactly, so the intra-band splittings are resolved
    Hint = chain.h_int_matrix()
    lam = np.einsum("ij,ik,kj->j", es.vectors, Hint, es.vectors)
    assert np.max(np.abs(Hint @ es.vectors - es.vectors * lam)) < 1e-14
    split = es.energies[3] - es.energies[1]
    assert split == pytest.approx(2 * np.sqrt(2) * chain.hopping, rel=1e-3)


def test_phase_rule_and_degeneracy_N4():
    """N = 4 has an exact double level at 2h (band 2); it is detected and given a canonical basis."""
    chain = QubitChain(4, 4.0, 0.1)
    es = chain.eigensystem()
    assert len(es.degenerate_groups) == 1
    grp = es.degenerate_groups[0]
    assert len(grp) == 2
    assert np.allclose(es.energies[list(grp)], 8.0, atol=1e-13)
    U = es.vectors
    for j in range(U.shape[1]):
        col = U[:, j]
        first = np.flatnonzero(np.abs(col) >= 0.5 * np.abs(col).max())[0]
        assert col[first] > 0
    # deterministic: same basis from a fresh object
    assert np.array_equal(QubitChain(4, 4.0, 0.1).eigensystem().vectors, U)


def test_eps_zero_basis_is_local_basis():
    es = QubitChain(3, 4.0, 0.0).eigensystem()
    order = np.argsort(cv.excitation_numbers(3), kind="stable")
    assert np.allclose(np.abs(es.vectors[order, :]), np.eye(8))
    assert sorted(len(g) for g in es.degenerate_groups) == [3, 3]


def test_mpmath_eigensystem_agrees():
    chain = QubitChain(3, 4.0, 5e-5)
    ef = chain.eigensystem()
    em = chain.eigensystem(dps=40)
    diff = max(abs(float(x) - y) for x, y in zip(em.energies, ef.energies))
    assert diff < 1e-14
    Um = np.array(em.vectors.tolist(), dtype=float)
    assert np.max(np.abs(Um - ef.vectors)) < 1e-14
    assert math.isclose(float(em.energies[-1]), 12.0, abs_tol=1e-30)


def test_chain_module_first_import_and_unpickling_in_a_fresh_process(tmp_path):
    """``import symcoll.chain`` as a process's first import was circular (model re-imported chain at its end), so a
    pickled QubitChain or map could not be loaded in a fresh process (a Dask worker, a saved N = 7 map)."""
    import pickle
    import subprocess
    import sys

    from symcoll import QubitChain

    f = tmp_path / "chain.pkl"
    f.write_bytes(pickle.dumps(QubitChain(3, 4.0, 0.1)))
    code = ("import pickle, sys; ch = pickle.load(open(sys.argv[1], 'rb')); "
            "from symcoll.model import QubitChain, MAX_CHAIN_QUBITS; "
            "assert isinstance(ch, QubitChain) and ch.N == 3 and MAX_CHAIN_QUBITS > 0; print('ok')")
    for prog in ("import symcoll.chain; print('ok')", code):
        out = subprocess.run([sys.executable, "-c", prog, str(f)], capture_output=True, text=True, timeout=120)
        assert out.returncode == 0 and out.stdout.strip() == "ok", out.stderr
