"""Conventions: vectorisation (QuTiP's column stacking), ladder operators, Appendix C order."""
import numpy as np
import pytest

from symcoll import conventions as cv


def test_vec_is_column_stacking(rng):
    A = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    v = cv.vec(A)
    assert v[1] == A[1, 0] and v[3] == A[0, 1]  # vec[j + d k] = A[j, k]
    assert np.array_equal(cv.unvec(v), A)
    assert np.array_equal(v, A.flatten(order="F"))


def test_superoperator_of_sandwich(rng):
    """vec(A rho B) = (B^T kron A) vec(rho): the tensor of rho -> A rho B maps to that matrix."""
    d = 3
    A = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    B = rng.normal(size=(d, d)) + 1j * rng.normal(size=(d, d))
    tensor = np.einsum("ac,db->abcd", A, B)  # (A rho B)_{a b} = sum_{cd} A_ac rho_cd B_db
    sup = cv.tensor_to_superoperator(tensor)
    assert np.allclose(sup, np.kron(B.T, A))
    assert np.allclose(cv.superoperator_to_tensor(sup), tensor)
    rho = rng.normal(size=(d, d))
    assert np.allclose(cv.unvec(sup @ cv.vec(rho)), A @ rho @ B)


def test_ladder_conventions():
    assert np.array_equal(cv.sigma_plus("paper"), cv.SIGMA_X.real + (1j * cv.SIGMA_Y).real)
    assert np.allclose(cv.sigma_plus("paper"), cv.SIGMA_X + 1j * cv.SIGMA_Y)
    assert np.allclose(cv.sigma_minus("paper"), cv.SIGMA_X - 1j * cv.SIGMA_Y)
    assert np.allclose(cv.sigma_plus("unit"), [[0, 0], [1, 0]])  # |1><0| in order (|0>, |1>)
    with pytest.raises(ValueError, match="ladder must be one of"):
        cv.sigma_plus("half")


def test_pauli_algebra_and_counting():
    X, Y, Z = cv.SIGMA_X, cv.SIGMA_Y, cv.SIGMA_Z
    assert np.allclose(X @ Y - Y @ X, 2j * Z)
    assert np.allclose((Z + np.eye(2)) / 2, cv.NUMBER)  # (sigma_z + I)/2 counts excitations (47)


def test_appendix_c_order_gives_textbook_paulis():
    assert np.allclose(cv.to_appendix_c_order(cv.SIGMA_Z), np.diag([1, -1]))
    assert np.allclose(cv.to_appendix_c_order(cv.SIGMA_Y), [[0, -1j], [1j, 0]])
    assert np.allclose(cv.to_appendix_c_order(cv.sigma_plus("unit")), [[0, 1], [0, 0]])


def test_local_state_index_roundtrip():
    for N in (1, 3, 5):
        for i in range(2**N):
            assert cv.local_state_index(cv.local_state_bits(i, N)) == i
    assert cv.local_state_index((1, 0, 0)) == 4
    with pytest.raises(ValueError):
        cv.local_state_bits(8, 3)
