"""Array conversions shared by the dynamics modules (complex128 and mpmath object arrays).

No equation of its own: helpers for the states and generators of Eqs. (7)/(71), including the
Hermitian projection of a state (the exact rho(t) of (71) is Hermitian).
"""
from __future__ import annotations

import numpy as np


def to_complex(a) -> np.ndarray:
    """float/complex/object(mpmath) array -> complex128."""
    a = np.asarray(a)
    if a.dtype == object:
        return np.array([complex(x) for x in a.reshape(-1)], dtype=complex).reshape(a.shape)
    return a.astype(complex)


def hermitian_part(ctx, a):
    """``(a + a^dagger)/2`` on the last two axes, in the number type of ``ctx``.

    Orthogonal projection onto Hermitian matrices: the exact states are Hermitian, so the
    projection never increases the error of an entry, nor the Frobenius error.
    """
    a = np.asarray(a)
    return (a + ctx.conj(np.swapaxes(a, -1, -2))) / 2


def in_context(ctx, a):
    """``a`` in the number type of ``ctx`` (a conversion, so it depends on the type).

    float64: complex128.  mpmath: arrays of mpmath numbers are kept as given; others are
    converted exactly (through complex128) to ``ctx.mp.mpc``.
    """
    a = np.asarray(a)
    if not ctx.is_mp:
        return to_complex(a)
    return a if a.dtype == object else ctx.array(to_complex(a), complex=True)
