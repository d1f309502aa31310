"""Degenerate levels and Bohr classes of a spectrum, decided in the working precision.

The narrow-packet selection rule (44) keeps the entries of (45) with ``Delta_{j'j} = Delta_{k'k}``;
(38) and (45) depend on the energies only, so degenerate groups are snapped to a common value.
"""
from __future__ import annotations

import numpy as np

from ..numeric import FloatContext, Tolerances

_FLOAT64 = FloatContext()


def _cluster_sorted(values, tol, ctx=None):
    """Group indices of values into clusters whose consecutive sorted gaps are <= tol.

    Sorting uses float64 copies; the gaps are computed in the context's precision (two
    mpmath numbers that agree to 30 digits must not be split by float64 rounding).
    Returns the groups and the array of all consecutive gaps (float).
    """
    ctx = ctx or _FLOAT64
    vals = np.asarray(values)
    vf = ctx.float_array(vals)
    order = np.argsort(vf, kind="stable")
    groups, cur = [], [order[0]]
    srt = vals[order]
    gaps = ctx.abs_float(srt[1:] - srt[:-1])  # in the context's precision, then to float
    for i in range(1, len(order)):
        if gaps[i - 1] <= tol:
            cur.append(order[i])
        else:
            groups.append(cur)
            cur = [order[i]]
    groups.append(cur)
    return groups, gaps


def _snap_energies(ctx, es):
    """Energies with every degenerate group replaced by its mean (exact covariance inside levels)."""
    e = ctx.array(es.energies)
    for grp in es.degenerate_groups:
        idx = list(grp)
        mean = sum(e[i] for i in idx) / len(idx)
        for i in idx:
            e[i] = mean
    return e


def _bohr_classes(ctx, e, what="Delta_{j'j} = Delta_{k'k}"):
    """Classes of pairs (j', j) with equal Bohr frequency ``Delta_{j'j}`` (tolerance tied to the spectrum).

    Raises ValueError when two Bohr frequencies differ by more than the tolerance but by
    less than 1e3 times it (ambiguous: the narrow-packet selection (44) is then ill-defined
    at this precision).
    """
    d = len(e)
    ef = ctx.float_array(e)
    scale = float(np.max(np.abs(ef))) if d else 1.0
    tol = Tolerances(ctx.eps).bohr_equality(scale, d)
    delta = (e[:, None] - e[None, :]).reshape(-1)
    groups, gaps = _cluster_sorted(delta, tol, ctx)
    amb = gaps[(gaps > tol) & (gaps <= 1e3 * tol)]
    if amb.size:
        raise ValueError(
            f"cannot decide {what}: two Bohr frequencies differ by {amb.min():.3e}, between the "
            f"equality tolerance {tol:.1e} and 1e3 times it; the narrow-packet selection rule (44) "
            "is ambiguous at this precision (use dps=... or the exact map)"
        )
    return [np.array(sorted(g), dtype=int) for g in groups], tol
