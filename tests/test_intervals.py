"""symcoll.intervals: outward rounding encloses exact results; three-valued comparisons."""
from fractions import Fraction

import numpy as np
import pytest

from symcoll import intervals as iv


def _contains(I, q):
    return Fraction(float(I.lo)) <= q <= Fraction(float(I.hi))


@pytest.mark.parametrize("a,b", [(0.1, 0.2), (1e-300, 3.0), (-7.3, 0.3), (1 / 3, 2 / 3)])
def test_operations_enclose_exact_rationals(a, b):
    A, B = iv.point(a), iv.point(b)
    qa, qb = Fraction(a), Fraction(b)
    assert _contains(A + B, qa + qb)
    assert _contains(A - B, qa - qb)
    assert _contains(A * B, qa * qb)
    assert _contains(A / B, qa / qb)
    # the enclosure is not the rounded result alone: it is strictly wider than a point
    assert float((A * B).hi) > float((A * B).lo)


def test_three_valued_comparisons_and_logic():
    x = iv.Interval([0.0, 0.5, 0.9], [0.1, 0.7, 1.0])
    assert list(x.lt(0.6)) == [True, None, False]
    assert list(x.gt(0.2)) == [False, True, True]
    assert iv.all3([True, None]) is None and iv.all3([True, False, None]) is False and iv.all3([True]) is True
    assert iv.any3([False, None]) is None and iv.any3([None, True]) is True


def test_abs_max_sum_and_mid_rad():
    x = iv.Interval([-0.2, 0.3], [0.1, 0.4])
    a = abs(x)
    assert np.allclose(a.lo, [0.0, 0.3]) and np.allclose(a.hi, [0.2, 0.4])
    m = x.max()
    assert float(m.lo) == 0.3 and float(m.hi) == 0.4
    s = x.sum()
    assert float(s.lo) <= 0.1 and float(s.hi) >= 0.5
    y = iv.from_mid_rad(np.array([1.0, 2.0]), np.array([0.1, 0.0]))
    assert np.all(np.abs(y.mid - [1.0, 2.0]) <= y.rad)
    with pytest.raises(ZeroDivisionError):
        _ = iv.point(1.0) / iv.Interval(-1.0, 1.0)
    with pytest.raises(ValueError):
        iv.Interval(1.0, 0.0)


def test_from_arb_encloses_the_ball():
    from flint import arb

    b = arb(1) / 3
    I = iv.from_arb(b)
    assert float(I.lo) < 1 / 3 < float(I.hi) or float(I.lo) <= 1 / 3 <= float(I.hi)
    assert Fraction(float(I.lo)) <= Fraction(1, 3) <= Fraction(float(I.hi))
