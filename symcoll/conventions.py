"""Conventions shared by every symcoll module (one place, imported everywhere).

Paper: Tabanera-Bravo, Esposito, Barra, Parrondo, "Thermalization in spatially
extended open quantum systems: local versus global Markovian evolution" (the
seed paper).  Equation numbers below are the paper's.

Units
    ``HBAR = 1`` in all numerics.  The symbolic layer keeps ``hbar`` as a SymPy
    symbol where the paper does.

Local basis (Eqs. (10), (47), (64))
    ``|s_1 s_2 ... s_N>`` with ``s_i in {0, 1}``; ``s_i = 1`` is an excitation of
    energy ``h``.  The index of a local state is the binary number
    ``s_1 s_2 ... s_N`` (qubit 1 is the most significant bit), i.e. the Kronecker
    order ``qubit 1 (x) qubit 2 (x) ... (x) qubit N``.  One-qubit matrices are
    written in the order ``(|0>, |1>)`` unless said otherwise.

Pauli matrices
    ``sigma_z |1> = +|1>``, so ``H_loc = sum_i h (sigma_z^(i) + I)/2`` counts
    excitations (Eq. (47)).  In the order ``(|0>, |1>)`` this is
    ``sigma_z = diag(-1, +1)``, ``sigma_x = [[0, 1], [1, 0]]`` and
    ``sigma_y = [[0, i], [-i, 0]]``; in the order ``(|1>, |0>)`` used by the 2x2
    matrices of Appendix C ((C3)-(C31)) they are the textbook Pauli matrices.
    Use :func:`to_appendix_c_order` to convert a one-qubit matrix.

Ladder operators (Eq. (64))
    The paper *defines* ``sigma_pm = sigma_x pm i sigma_y`` which is twice the
    usual ladder operator: ``sigma_+ = 2 |1><0|``.  This fixes the hopping
    strength in (64): with ``ladder="paper"`` (default) the hopping amplitude is
    ``4 eps``; with ``ladder="unit"`` (``sigma_+ = |1><0|``) it is ``eps``.
    Every output of symcoll says which ladder convention it used.

Eigenbasis of H (Eq. (9))
    Eigenvalues ascending.  Within an exactly degenerate level the basis is the
    Gram-Schmidt orthonormalisation of the projections of the local basis
    vectors, taken in local-basis order (deterministic).  Phase rule: the first
    local-basis component whose modulus is at least half of the largest modulus
    of that eigenvector is made real and positive (robust against rounding,
    unlike "first non-zero component").

Superoperators
    Column-stacking vectorisation, as in QuTiP: ``vec(rho)[j + d*k] = rho[j, k]``,
    so that ``vec(A rho B) = (B^T (x) A) vec(rho)``.

Collision tensors (Eq. (17))
    ``tensor[j', k', j, k] = S^{jk}_{j'k'}`` so that
    ``(S rho)_{j'k'} = sum_{jk} tensor[j', k', j, k] rho_{jk}``.
"""
from __future__ import annotations

import numpy as np

HBAR = 1.0
"""Reduced Planck constant in numerics (natural units)."""

LADDER_CONVENTIONS = {
    "paper": 2.0,  # sigma_pm = sigma_x pm i sigma_y  (Eq. (64), literal)
    "unit": 1.0,  # sigma_+ = |1><0|
}
"""Ladder convention name -> factor ``f`` with ``sigma_+ = f |1><0|``."""

LADDER_DESCRIPTIONS = {
    "paper": "paper's sigma_pm = sigma_x pm i sigma_y (= 2|1><0|, hopping 4*eps)",
    "unit": "unit ladder operators sigma_+ = |1><0| (hopping eps)",
}

APPENDIX_C_ORDER = (1, 0)
"""One-qubit basis order of the 2x2 matrices printed in Appendix C."""

PHASE_RULE = (
    "first local-basis component with modulus >= 1/2 of the largest modulus is real and positive"
)

# One-qubit operators in the order (|0>, |1>).
SIGMA_X = np.array([[0.0, 1.0], [1.0, 0.0]], dtype=complex)
SIGMA_Y = np.array([[0.0, 1.0j], [-1.0j, 0.0]], dtype=complex)
SIGMA_Z = np.array([[-1.0, 0.0], [0.0, 1.0]], dtype=complex)
RAISE = np.array([[0.0, 0.0], [1.0, 0.0]])  # |1><0|
LOWER = RAISE.T.copy()  # |0><1|
NUMBER = np.array([[0.0, 0.0], [0.0, 1.0]])  # |1><1| = (sigma_z + I)/2


def check_ladder(ladder: str) -> str:
    """Validate a ladder convention name and return it."""
    if not isinstance(ladder, str) or ladder not in LADDER_CONVENTIONS:
        raise ValueError(
            f"ladder must be one of {sorted(LADDER_CONVENTIONS)} (got {ladder!r}); "
            "'paper' is sigma_pm = sigma_x pm i sigma_y as printed in Eq. (64)"
        )
    return ladder


def sigma_plus(ladder: str = "paper") -> np.ndarray:
    """One-qubit ``sigma_+`` in the order (|0>, |1>) for the given ladder convention."""
    return LADDER_CONVENTIONS[check_ladder(ladder)] * RAISE


def sigma_minus(ladder: str = "paper") -> np.ndarray:
    """One-qubit ``sigma_-`` in the order (|0>, |1>) for the given ladder convention."""
    return LADDER_CONVENTIONS[check_ladder(ladder)] * LOWER


def to_appendix_c_order(m2):
    """Reorder a one-qubit 2x2 matrix from (|0>, |1>) to Appendix C's (|1>, |0>) (an involution)."""
    return np.asarray(m2)[::-1, ::-1]


def local_state_index(bits) -> int:
    """Index of the local state ``|s_1 ... s_N>`` (qubit 1 most significant)."""
    idx = 0
    for b in bits:
        if b not in (0, 1):
            raise ValueError(f"local state bits must be 0 or 1 (got {b!r})")
        idx = 2 * idx + int(b)
    return idx


def local_state_bits(index: int, N: int) -> tuple:
    """Bits ``(s_1, ..., s_N)`` of the local state with the given index."""
    if not 0 <= index < 2**N:
        raise ValueError(f"index must be in [0, 2**N) = [0, {2**N}) (got {index})")
    return tuple((index >> (N - 1 - i)) & 1 for i in range(N))


def excitation_numbers(N: int) -> np.ndarray:
    """Number of excitations ``n = sum_i s_i`` of every local basis state (length 2**N)."""
    idx = np.arange(2**N)
    return np.array([bin(i).count("1") for i in idx])


def site_operator(op2, site: int, N: int) -> np.ndarray:
    """Embed a one-qubit operator (order (|0>,|1>)) on ``site`` (1-based) of an N-qubit chain."""
    if not 1 <= site <= N:
        raise ValueError(f"site must be in 1..N = 1..{N} (got {site})")
    out = np.array([[1.0]])
    for i in range(1, N + 1):
        out = np.kron(out, np.asarray(op2) if i == site else np.eye(2))
    return out


def vec(rho) -> np.ndarray:
    """Column-stacking vectorisation: ``vec(rho)[j + d*k] = rho[j, k]`` (QuTiP's order)."""
    rho = np.asarray(rho)
    return np.swapaxes(rho, -1, -2).reshape(rho.shape[:-2] + (-1,))


def unvec(v, d: int | None = None) -> np.ndarray:
    """Inverse of :func:`vec`."""
    v = np.asarray(v)
    n = v.shape[-1]
    if d is None:
        d = int(round(np.sqrt(n)))
    if d * d != n:
        raise ValueError(f"vector length {n} is not a square d*d")
    return np.swapaxes(v.reshape(v.shape[:-1] + (d, d)), -1, -2)


def tensor_to_superoperator(tensor) -> np.ndarray:
    """Column-stacking superoperator of a collision tensor ``tensor[j', k', j, k]``.

    ``sup[j' + d k', j + d k] = tensor[j', k', j, k]`` so ``vec(S rho) = sup @ vec(rho)``.
    """
    t = np.asarray(tensor)
    d = t.shape[0]
    # index (j', k') -> j' + d k'  means k' is the slow index: transpose to [k', j', k, j]
    return t.transpose(1, 0, 3, 2).reshape(d * d, d * d)


def superoperator_to_tensor(sup) -> np.ndarray:
    """Inverse of :func:`tensor_to_superoperator`."""
    sup = np.asarray(sup)
    d = int(round(np.sqrt(sup.shape[0])))
    return sup.reshape(d, d, d, d).transpose(1, 0, 3, 2)


def fix_phases(vectors, threshold: float = 0.5):
    """Apply the phase rule (see module doc) to the columns of ``vectors`` in place and return them.

    Works for numpy float/complex arrays and for object arrays of mpmath numbers.
    """
    V = vectors
    d, n = V.shape
    real = V.dtype.kind == "f"  # |x| is exact for real floats, so the vectorised search is identical
    for col in range(n):
        if real:
            mags = np.abs(V[:, col])
            first = [int(np.argmax(mags >= threshold * mags.max()))]
        else:
            mags = [abs(V[i, col]) for i in range(d)]
            vmax = max(mags)
            first = (i for i in range(d) if mags[i] >= threshold * vmax)
        for i in first:
            ph = V[i, col] / mags[i]
            if V.dtype == object:
                V[:, col] = [x / ph for x in V[:, col]]
            else:
                V[:, col] = V[:, col] / ph
            break
    return V
