"""The faster exact map (38) (issue 16): interpolated s-matrix rows, folded alpha sum (FastExactEngine).

Checked against two independent computations: the solved engine (every (C1) row solved at every
node, K21/G10 with the unfolded sum over alpha: ``smatrix="solve"``) and the 30-digit mpmath path
(:func:`symcoll.maps.exact_entries` at ``dps=30``).  Paper parameters (Sec. VI E).
"""
import warnings

import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, collision_map
from symcoll.maps import exact_entries, memory
from symcoll.maps.options import EXACT_INTERPOLATE_AUTO_MIN_DIM

BATH = EffusionBath(0.1, 0.1, 0.5)
COUPLING = DeltaCoupling(50.0)
H = 4.0
_CACHE = {}


def cmap(N, eps, smatrix, tol=1e-12):
    key = (N, eps, smatrix, tol)
    if key not in _CACHE:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # NotCompletelyPositiveWarning: a property of (41), tested elsewhere
            _CACHE[key] = collision_map(QubitChain(N, H, eps), BATH, COUPLING, kind="exact", smatrix=smatrix, tol=tol)
    return _CACHE[key]


@pytest.mark.parametrize("N, eps", [(3, 0.1), (3, 5e-5), (4, 0.1)])
def test_interpolated_exact_equals_solved(N, eps):
    Si, Ss = cmap(N, eps, "interpolate"), cmap(N, eps, "solve")
    assert Si.info["smatrix"] == "interpolate" and Ss.info["smatrix"] == "solve"
    part = Si.error_parts["interpolation"]
    assert part["kind"] == "estimate" and part["value"] > 0
    diff = float(np.max(np.abs(Si.tensor - Ss.tensor)))
    # both maps carry their own (estimated) errors; they must agree within the sum
    assert diff <= Si.error_estimate + Ss.error_estimate
    assert Si.error_estimate <= 1e-12


def test_interpolated_exact_vs_30_digits():
    """N = 2: entries of the interpolated float64 map against exact_entries at 30 digits (rows 0 and 1)."""
    pairs = [(0, 0), (1, 1), (1, 2), (0, 3), (1, 0)]
    blk, est_mp, _ = exact_entries(QubitChain(2, H, 0.1), BATH, COUPLING, pairs, dps=30, tol=1e-16)
    ref = np.array(blk.tolist(), dtype=complex)
    S = cmap(2, 0.1, "interpolate")
    T = S.tensor
    ours = np.array([[T[a[0], b[0], a[1], b[1]] for b in pairs] for a in pairs])
    err = float(np.max(np.abs(ours - ref)))
    assert est_mp < 1e-15
    assert err <= S.error_estimate + est_mp
    assert err < 1e-13


def test_interpolation_estimate_honest_at_loose_tol():
    """tol = 1e-7: the tables are built to ~tol/8, so interpolation errors are visible; the interpolated
    map must stay within its reported budget of the solved map at 1e-12."""
    Si = cmap(3, 0.1, "interpolate", tol=1e-7)
    Ss = cmap(3, 0.1, "solve")
    diff = float(np.max(np.abs(Si.tensor - Ss.tensor)))
    assert diff <= Si.error_estimate + Ss.error_estimate
    assert Si.error_parts["interpolation"]["value"] <= Si.error_estimate


def test_auto_uses_interpolation_for_exact_from_threshold():
    assert EXACT_INTERPOLATE_AUTO_MIN_DIM == 16
    assert cmap(3, 0.1, "auto").info["smatrix"] == "solve"
    S4 = collision_map(QubitChain(2, H, 0.1), BATH, COUPLING, kind="exact", smatrix="interpolate")
    assert S4.info["rules"].startswith("GK")


def test_trace_preservation_interpolated():
    """(38) conserves the trace exactly (README, trace_preservation): sum_j' S^{jk}_{j'j'} = delta_jk."""
    S = cmap(3, 5e-5, "interpolate")
    d = S.dim
    tr = np.einsum("aajk->jk", S.tensor)
    assert float(np.max(np.abs(tr - np.eye(d)))) <= d * S.error_estimate


def test_exact_N7_refused_up_front_with_the_number():
    ch = QubitChain(7, H, 0.1)
    need = memory.estimate_memory(128, "exact", None)
    assert need > memory.MAX_BYTES
    with pytest.raises(ValueError, match=r"needs about [0-9.]+ GiB.*above the limit of 8 GiB"):
        collision_map(ch, BATH, COUPLING, kind="exact")


def test_interpolate_mpmath_refused():
    with pytest.raises(ValueError, match="float64 only"):
        collision_map(QubitChain(2, H, 0.1), BATH, COUPLING, kind="exact", smatrix="interpolate", dps=20)


def test_exact_h0_interpolated_equals_solved():
    """(38) with H(0) in the scattering (degenerate levels snapped), rotated to H(eps): same engine."""
    ch = QubitChain(3, H, 0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        Si = collision_map(ch, BATH, COUPLING, kind="exact_h0", smatrix="interpolate")
        Ss = collision_map(ch, BATH, COUPLING, kind="exact_h0", smatrix="solve")
    assert Si.info["smatrix"] == "interpolate"
    assert float(np.max(np.abs(Si.tensor - Ss.tensor))) <= Si.error_estimate + Ss.error_estimate
