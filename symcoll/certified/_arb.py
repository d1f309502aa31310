"""Small helpers around python-flint's Arb balls: precision, exact conversion, and ``(mid, rad)`` export.

Every function here keeps enclosures rigorous.  The only float64 steps are the exports
:func:`ball_mid_rad` and :func:`upper_float`, whose rounding is accounted for (see their notes).
"""
from __future__ import annotations

import contextlib
import math
import numbers

import numpy as np

try:  # python-flint is a declared dependency; a clear message if the install is broken
    import flint
    from flint import acb, acb_mat, arb, arb_mat
except ImportError as exc:  # pragma: no cover - exercised only on a broken install
    raise ImportError("the certified path needs python-flint >= 0.9 (pip install 'python-flint>=0.9')") from exc

__all__ = ["acb", "acb_mat", "arb", "arb_mat", "precision", "bits_for_dps", "to_arb", "upper_float",
           "ball_mid_rad", "mat_mid_rad", "is_finite"]

MIN_DPS = 15
MAX_DPS = 200


def bits_for_dps(dps: int) -> int:
    """Working precision in bits for ``dps`` decimal digits (plus 16 guard bits)."""
    return int(math.ceil(dps * math.log2(10))) + 16


@contextlib.contextmanager
def precision(dps):
    """Set flint's working precision to ``dps`` digits inside the block; restored afterwards."""
    if isinstance(dps, bool) or not isinstance(dps, numbers.Integral):
        raise TypeError(f"dps must be an integer number of digits in [{MIN_DPS}, {MAX_DPS}] (got {dps!r})")
    if not MIN_DPS <= int(dps) <= MAX_DPS:
        raise ValueError(f"dps must be in [{MIN_DPS}, {MAX_DPS}] digits for the certified path (got {dps})")
    old = flint.ctx.prec
    flint.ctx.prec = bits_for_dps(int(dps))
    try:
        yield flint.ctx.prec
    finally:
        flint.ctx.prec = old


def to_arb(x) -> arb:
    """A real input as an exact ball: floats and ints are converted exactly (every double is a dyadic
    rational); mpmath numbers through their exact binary representation."""
    if isinstance(x, arb):
        return x
    if isinstance(x, numbers.Integral):
        return arb(int(x))
    if isinstance(x, (float, np.floating)):
        xf = float(x)
        if not math.isfinite(xf):
            raise ValueError(f"cannot convert a non-finite number to a ball (got {x!r})")
        return arb(xf)
    try:  # mpmath mpf: exact man * 2**exp
        man, exp = x.man_exp
        return arb(int(man)) * arb(2) ** int(exp)
    except AttributeError:
        return arb(float(x))


def is_finite(z) -> bool:
    """True when a ball (arb or acb) has finite midpoint and radius."""
    if isinstance(z, acb):
        return z.real.is_finite() and z.imag.is_finite()
    return z.is_finite()


def upper_float(x: arb) -> float:
    """A float64 ``f >= every point of x`` (an upper bound; +inf for a non-finite ball).

    ``float()`` of Arb's upper endpoint rounds to nearest, so it may fall below the endpoint by
    half an ulp; stepping one ulp up (``math.nextafter``) makes it an upper bound.
    """
    if not x.is_finite():
        return math.inf
    f = float(x.upper())
    return math.nextafter(f, math.inf) if f != 0.0 else (0.0 if x.upper() <= 0 else 5e-324)


def _abs_upper(z) -> float:
    return upper_float(z.abs_upper() if isinstance(z, acb) else abs(z).upper())


def ball_mid_rad(z):
    """``(mid, rad)`` of a ball as ``(complex, float)`` with ``|true - mid| <= rad``.

    ``mid`` is the float64 rounding of the ball's midpoint; ``rad`` bounds ``|z - mid|`` over the
    whole ball, computed in ball arithmetic (so it includes the rounding of the midpoint to
    float64) and rounded up (:func:`upper_float`).
    """
    z = acb(z)
    if not is_finite(z):
        return complex("nan"), math.inf
    mid = complex(float(z.real.mid()), float(z.imag.mid()))
    rad = _abs_upper(z - acb(mid.real, mid.imag))
    return mid, rad


def mat_mid_rad(M):
    """``(mid, rad)`` numpy arrays (complex128, float64) of an acb_mat/arb_mat, entrywise as :func:`ball_mid_rad`."""
    r, c = M.nrows(), M.ncols()
    mid = np.empty((r, c), dtype=complex)
    rad = np.empty((r, c))
    for i in range(r):
        for j in range(c):
            mid[i, j], rad[i, j] = ball_mid_rad(M[i, j])
    return mid, rad
