"""Closed intervals of float64 arrays with outward rounding: the claims of ``report.md`` on enclosures.

:class:`Interval` holds ``lo <= x <= hi`` elementwise.  ``+ - * /``, ``abs``, ``max``/``min`` round
outward: each IEEE 754 operation is correctly rounded to nearest (error <= half an ulp), so
stepping the computed endpoint one ulp outward (``numpy.nextafter``) keeps the true result
inside.  Comparisons return three-valued answers: True (holds for every point), False (fails
for every point) or None (undecided: the intervals straddle the criterion).

Intervals come from enclosures ``(mid, rad)`` (:func:`from_mid_rad`, e.g. of a certified state) or
from Arb balls (:func:`from_arb`).  Functions that need more than the four operations (log of
(75)) are evaluated in Arb and imported here.
"""
from __future__ import annotations

import numpy as np

__all__ = ["Interval", "from_mid_rad", "from_arb", "point", "lt", "gt", "all3", "any3"]


def _down(x):
    return np.nextafter(x, -np.inf)


def _up(x):
    return np.nextafter(x, np.inf)


class Interval:
    """``[lo, hi]`` elementwise (numpy arrays or scalars); NaN endpoints mean "not defined"."""

    __array_priority__ = 1000

    def __init__(self, lo, hi=None):
        lo = np.asarray(lo, dtype=float)
        hi = lo if hi is None else np.asarray(hi, dtype=float)
        self.lo, self.hi = np.broadcast_arrays(lo, hi)
        self.lo, self.hi = np.array(self.lo), np.array(self.hi)
        bad = self.lo > self.hi
        if np.any(bad):
            raise ValueError("an interval needs lo <= hi")

    # -- access ------------------------------------------------------------------------
    @property
    def shape(self):
        return self.lo.shape

    def __getitem__(self, k):
        return Interval(self.lo[k], self.hi[k])

    def __len__(self):
        return len(self.lo)

    @property
    def mid(self):
        return (self.lo + self.hi) / 2

    @property
    def rad(self):
        """Half-width rounded up: ``|x - mid| <= rad`` for every x in the interval."""
        return _up(np.maximum(_up(self.hi - self.mid), _up(self.mid - self.lo)))

    def __repr__(self):
        return f"Interval(lo={self.lo!r}, hi={self.hi!r})"

    # -- arithmetic --------------------------------------------------------------------
    def __add__(self, o):
        o = _iv(o)
        return Interval(_down(self.lo + o.lo), _up(self.hi + o.hi))

    __radd__ = __add__

    def __neg__(self):
        return Interval(-self.hi, -self.lo)

    def __sub__(self, o):
        return self + (-_iv(o))

    def __rsub__(self, o):
        return _iv(o) - self

    def __mul__(self, o):
        o = _iv(o)
        c = np.stack([self.lo * o.lo, self.lo * o.hi, self.hi * o.lo, self.hi * o.hi])
        return Interval(_down(c.min(axis=0)), _up(c.max(axis=0)))

    __rmul__ = __mul__

    def __truediv__(self, o):
        o = _iv(o)
        if np.any((o.lo <= 0) & (o.hi >= 0)):
            raise ZeroDivisionError("interval division by an interval containing 0")
        c = np.stack([self.lo / o.lo, self.lo / o.hi, self.hi / o.lo, self.hi / o.hi])
        return Interval(_down(c.min(axis=0)), _up(c.max(axis=0)))

    def __rtruediv__(self, o):
        return _iv(o) / self

    def __abs__(self):
        lo = np.where(self.lo >= 0, self.lo, np.where(self.hi <= 0, -self.hi, 0.0))
        hi = np.maximum(np.abs(self.lo), np.abs(self.hi))
        return Interval(lo, hi)

    def max(self, axis=None):
        """Interval of ``max(x)`` over the axis: ``[max lo, max hi]``."""
        return Interval(np.max(self.lo, axis=axis), np.max(self.hi, axis=axis))

    def min(self, axis=None):
        return Interval(np.min(self.lo, axis=axis), np.min(self.hi, axis=axis))

    def sum(self, axis=None):
        """Sum with outward rounding: ``n`` additions err by at most ``n`` half-ulps of the partial sums;
        the result is widened by ``n * eps * sum |x|`` (Higham, Accuracy and Stability, eq. (4.4))."""
        lo, hi = np.sum(self.lo, axis=axis), np.sum(self.hi, axis=axis)
        n = self.lo.size if axis is None else self.lo.shape[axis]
        mag = np.sum(np.maximum(np.abs(self.lo), np.abs(self.hi)), axis=axis)
        slack = _up(n * np.finfo(float).eps * mag)
        return Interval(_down(lo - slack), _up(hi + slack))

    # -- three-valued comparisons ------------------------------------------------------
    def lt(self, o):
        """True where every point is < o, False where none is, None (object array) where undecided."""
        return _tri(self.hi < _iv(o).lo, self.lo >= _iv(o).hi)

    def gt(self, o):
        return _tri(self.lo > _iv(o).hi, self.hi <= _iv(o).lo)


def _tri(yes, no):
    yes, no = np.asarray(yes), np.asarray(no)
    out = np.full(yes.shape, None, dtype=object)
    out[yes] = True
    out[no & ~yes] = False
    return out if out.shape else out.item()


def _iv(x):
    return x if isinstance(x, Interval) else Interval(x)


def point(x):
    """A degenerate interval ``[x, x]`` (x exact)."""
    return Interval(x)


def from_mid_rad(mid, rad):
    """``[mid - rad, mid + rad]`` rounded outward (real parts)."""
    mid, rad = np.asarray(mid, dtype=float), np.asarray(rad, dtype=float)
    return Interval(_down(mid - rad), _up(mid + rad))


def from_arb(x):
    """An Interval from an arb ball (or a list/array of them): its endpoints rounded outward."""
    import flint

    if isinstance(x, flint.arb):
        return Interval(_down(float(x.lower())), _up(float(x.upper())))
    items = [from_arb(v) for v in x]
    return Interval([i.lo for i in items], [i.hi for i in items])


def lt(a, b):
    """Three-valued ``a < b`` for floats or Intervals."""
    return _iv(a).lt(b)


def gt(a, b):
    return _iv(a).gt(b)


def all3(values):
    """Three-valued AND: False if any False, None if any None, else True."""
    vals = list(np.asarray(values, dtype=object).ravel()) if not isinstance(values, (bool, type(None))) else [values]
    if any(v is False or v is np.False_ for v in vals):
        return False
    if any(v is None for v in vals):
        return None
    return True


def any3(values):
    """Three-valued OR."""
    vals = list(np.asarray(values, dtype=object).ravel()) if not isinstance(values, (bool, type(None))) else [values]
    if any(v is True or v is np.True_ for v in vals):
        return True
    if any(v is None for v in vals):
        return None
    return False
