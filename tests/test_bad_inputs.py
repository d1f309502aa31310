"""Catalogue of bad and unusual inputs (issue 10): each gets a clear error naming the parameter.

Part 1 lists inputs through the Python API with the expected exception type and a pattern its
message must contain (the parameter's name and, where there is one, the allowed range).  Part 2
holds the regression tests of the reliability holes found by the bad-input audit, each of
which failed on the code the audit was run against:

* a collision map built for another system is refused by its consumers (item 1);
* exact maps (38) that are not completely positive warn at build time (item 2);
* a complex Hermitian H is refused by the maps (item 3);
* the detailed-balance diagnostic cannot overflow to NaN (item 4);
* the default map tolerance follows the working precision (item 7).

The command-line catalogue is in ``tests/test_cli_outputs.py``.
"""
import math
import warnings

import numpy as np
import pytest

from symcoll import (DeltaCoupling, EffusionBath, Lindbladian, NotCompletelyPositiveWarning, QubitChain, System,
                     SymcollWarning, collision_map)
from symcoll.dynamics import TensorMap, perturbative_coherences
from symcoll.numeric import Tolerances

BETA, M, G, SIGMA, H = 0.1, 0.1, 50.0, 0.5, 4.0
BATH = EffusionBath(BETA, M, SIGMA)
CPL = DeltaCoupling(G)


def _chain(N=2, h=H, eps=0.1, ladder="paper"):
    return QubitChain(N, h, eps, ladder=ladder)


# ============================================================================ part 1: catalogue
CATALOGUE = [
    # (id, call, exception, pattern the message must contain)
    ("N zero", lambda: QubitChain(0, H, 0.1), ValueError, r"N must be in 1\.\."),
    ("N float", lambda: QubitChain(2.0, H, 0.1), TypeError, r"N must be an integer"),
    ("N bool", lambda: QubitChain(True, H, 0.1), TypeError, r"N must be an integer"),
    ("h zero", lambda: QubitChain(2, 0.0, 0.1), ValueError, r"h must be > 0"),
    ("h negative", lambda: QubitChain(2, -4.0, 0.1), ValueError, r"h must be > 0"),
    ("h nan", lambda: QubitChain(2, math.nan, 0.1), ValueError, r"h must be finite"),
    ("h inf", lambda: QubitChain(2, math.inf, 0.1), ValueError, r"h must be finite"),
    ("h string", lambda: QubitChain(2, "four", 0.1), TypeError, r"h must be a real number"),
    ("h complex", lambda: QubitChain(2, 4 + 1j, 0.1), TypeError, r"h must be a real number"),
    ("eps negative", lambda: QubitChain(2, H, -1e-3), ValueError, r"eps must be >= 0"),
    ("eps nan", lambda: QubitChain(2, H, math.nan), ValueError, r"eps must be finite"),
    ("ladder", lambda: QubitChain(2, H, 0.1, ladder="half"), ValueError, r"ladder"),
    ("beta zero", lambda: EffusionBath(0.0, M, SIGMA), ValueError, r"beta must be > 0"),
    ("beta negative", lambda: EffusionBath(-0.1, M, SIGMA), ValueError, r"beta must be > 0"),
    ("m zero", lambda: EffusionBath(BETA, 0.0, SIGMA), ValueError, r"m must be > 0"),
    ("m inf", lambda: EffusionBath(BETA, math.inf, SIGMA), ValueError, r"m must be finite"),
    ("sigma_p negative", lambda: EffusionBath(BETA, M, -0.5), ValueError, r"sigma_p must be >= 0"),
    ("sigma_p nan", lambda: EffusionBath(BETA, M, math.nan), ValueError, r"sigma_p must be finite"),
    ("g zero", lambda: DeltaCoupling(0.0), ValueError, r"g must be nonzero"),
    ("g nan", lambda: DeltaCoupling(math.nan), ValueError, r"g must be finite"),
    ("site zero", lambda: DeltaCoupling(G, site=0), ValueError, r"site must be in 1\.\.N"),
    ("site float", lambda: DeltaCoupling(G, site=1.5), TypeError, r"site must be an integer"),
    ("site beyond N", lambda: collision_map(_chain(2), BATH, DeltaCoupling(G, site=3), kind="global"),
     ValueError, r"site must be in 1\.\.N = 1\.\.2"),
    ("V complex", lambda: DeltaCoupling(G, V=[[0, 1j], [-1j, 0]]), ValueError, r"V must be real symmetric"),
    ("V not Hermitian", lambda: DeltaCoupling(G, V=[[0, 1], [0, 0]]), ValueError, r"V must be Hermitian"),
    ("H not square", lambda: System(np.zeros((2, 3))), ValueError, r"H must be a square"),
    ("H not Hermitian", lambda: System([[0, 1], [0, 0]]), ValueError, r"H must be Hermitian"),
    ("H nan", lambda: System([[0, math.nan], [math.nan, 1]]), ValueError, r"H must have finite entries"),
    ("kind", lambda: collision_map(_chain(), BATH, CPL, kind="secular"), ValueError, r"kind must be one of"),
    ("tol zero", lambda: collision_map(_chain(), BATH, CPL, kind="global", tol=0.0), ValueError,
     r"tol must be in \(0, 1e-3\]"),
    ("tol too loose", lambda: collision_map(_chain(), BATH, CPL, kind="global", tol=0.1), ValueError,
     r"tol must be in \(0, 1e-3\]"),
    ("tol below float64", lambda: collision_map(_chain(), BATH, CPL, kind="global", tol=1e-16), ValueError,
     r"tol=1\.0e-16 is below what float64"),
    ("tol string", lambda: collision_map(_chain(), BATH, CPL, kind="global", tol="1e-9"), TypeError, r"tol must be"),
    ("dps too low", lambda: collision_map(_chain(), BATH, CPL, kind="global", dps=10), ValueError,
     r"dps must be >= 15"),
    ("dps float", lambda: collision_map(_chain(), BATH, CPL, kind="global", dps=30.0), TypeError,
     r"dps must be an integer"),
    ("storage", lambda: collision_map(_chain(), BATH, CPL, kind="global", storage="sparse"), ValueError,
     r"storage must be one of"),
    ("compact exact", lambda: collision_map(_chain(), BATH, CPL, kind="exact", storage="compact"), ValueError,
     r"storage='compact' is available for kind='global' and kind='local' only"),
    ("smatrix", lambda: collision_map(_chain(), BATH, CPL, kind="global", smatrix="guess"), ValueError,
     r"smatrix must be one of"),
    ("exact at sigma_p 0", lambda: collision_map(_chain(), EffusionBath(BETA, M, 0.0), CPL, kind="exact"),
     ValueError, r"sigma_p = 0 is the narrow-packet limit"),
    ("local on a System", lambda: collision_map(System(np.diag([0.0, 1.0])), BATH, DeltaCoupling(G, V=np.eye(2)),
                                                kind="local"), ValueError, r"kind='local' needs a QubitChain"),
    ("complex H in a map", lambda: collision_map(System([[0, 0.3j], [-0.3j, 1.0]]), BATH,
                                                 DeltaCoupling(G, V=[[0, 1], [1, 0]]), kind="global"),
     ValueError, r"H must be real symmetric"),
    ("Gamma negative", lambda: Lindbladian(_chain(), _global_map(), -1.0), ValueError, r"Gamma.*\[0, inf\)"),
    ("Gamma nan", lambda: Lindbladian(_chain(), _global_map(), math.nan), ValueError, r"Gamma"),
    ("map of another h", lambda: Lindbladian(_chain(h=5.0), _global_map(), 1.0), ValueError,
     r"collision_map was built for QubitChain\(N=2, h=4\.0"),
    ("map without system", lambda: Lindbladian(_chain(), _NoSystem(_global_map().tensor), 1.0), TypeError,
     r"collision_map must record the system"),
    ("times negative", lambda: Lindbladian(_chain(), _global_map(), 1.0).evolve(_ground(4), [-1.0]), ValueError,
     r"times"),
    ("rho0 trace", lambda: Lindbladian(_chain(), _global_map(), 1.0).evolve(2 * _ground(4), [1.0]), ValueError,
     r"trace 1"),
    ("rho0 shape", lambda: Lindbladian(_chain(), _global_map(), 1.0).evolve(_ground(2), [1.0]), ValueError,
     r"shape"),
]

_MAPS = {}


def _global_map():
    if "g" not in _MAPS:
        _MAPS["g"] = collision_map(_chain(), BATH, CPL, kind="global")
    return _MAPS["g"]


def _ground(d):
    r = np.zeros((d, d), dtype=complex)
    r[0, 0] = 1
    return r


class _NoSystem:
    """A duck-typed map with a tensor but no record of its system."""

    def __init__(self, tensor):
        self.tensor = tensor
        self.error_estimate = 0.0


@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in CATALOGUE], ids=[c[0] for c in CATALOGUE])
def test_bad_input_catalogue(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


# ============================================================================ part 2: regressions
# -- item 1: a map remembers its system --------------------------------------------------------
@pytest.mark.parametrize("other", [dict(h=5.0), dict(eps=1e-3), dict(ladder="unit")],
                         ids=["h", "eps", "ladder"])
def test_map_of_another_chain_is_refused(other):
    """A map of a chain differing only in h, eps or the ladder has the same eigenvectors but
    other energies: the audit found steady states off by 3e-3..3e-2 with errors ~1e-9 reported."""
    S = _global_map()
    chain_b = _chain(**other)
    with pytest.raises(ValueError, match=r"collision_map was built for QubitChain\(N=2, h=4\.0, eps=0\.1"):
        Lindbladian(chain_b, S, 1.0)
    with pytest.raises(ValueError, match="built for"):
        perturbative_coherences(S, np.full(4, 0.25), system=chain_b)


def test_map_of_equal_chain_and_user_tensor_accepted():
    S = _global_map()
    Lindbladian(QubitChain(2, 4, 0.1), S, 1.0)  # another object, same parameters
    Lindbladian(_chain(), TensorMap(S.tensor, _chain()), 1.0)
    with pytest.raises(ValueError, match="built for"):
        Lindbladian(_chain(eps=0.2), TensorMap(S.tensor, _chain()), 1.0)


def test_map_of_another_generic_system_is_refused():
    V = [[0.0, 1.0], [1.0, 0.0]]
    S = collision_map(System(np.diag([0.0, 3.0]), name="A"), BATH, DeltaCoupling(G, V=V), kind="global")
    with pytest.raises(ValueError, match="built for A, not for B"):
        Lindbladian(System(np.diag([0.0, 3.5]), name="B"), S, 1.0)
    Lindbladian(System(np.diag([0.0, 3.0]), name="A again"), S, 1.0)


# -- item 2: exact maps that are not completely positive warn ---------------------------------
@pytest.mark.parametrize("sigma_p", [2.0, 5.0, 1e6])
def test_exact_map_not_cp_warns(sigma_p):
    """sigma_p >= 2 sqrt(m/beta): Choi eigenvalues ~ -1e-4..-1e-3 against an error ~1e-13."""
    bath = EffusionBath(BETA, M, sigma_p)
    with pytest.warns(NotCompletelyPositiveWarning, match=r"not completely positive.*incident state \(41\)"):
        S = collision_map(_chain(2, eps=0.1), bath, CPL, kind="exact")
    # the reported defect is the Choi matrix's own smallest eigenvalue (independent dense eigvalsh)
    lam = np.linalg.eigvalsh(S.choi().astype(complex))[0]
    assert lam < -1e-5
    assert S.cp_defect == pytest.approx(-lam, rel=1e-6, abs=1e-12)
    assert issubclass(NotCompletelyPositiveWarning, SymcollWarning)


def test_generic_system_not_cp_warns():
    """A generic 3-level system at sigma_p = 0.95 sqrt(m/beta) (audit: Choi eigenvalue -3.7e-8; this
    seed gives -8.9e-7, other seeds are CP at 0.95 and not at 1.5)."""
    rng = np.random.default_rng(4)
    A = rng.normal(size=(3, 3))
    Hs = np.diag([0.0, 2.5, 6.0]) + 0.3 * (A + A.T)
    B = rng.normal(size=(3, 3))
    V = (B + B.T) / 2
    bath = EffusionBath(BETA, M, 0.95 * math.sqrt(M / BETA))
    with pytest.warns(NotCompletelyPositiveWarning):
        S = collision_map(System(Hs), bath, DeltaCoupling(G, V=V), kind="exact")
    assert S.info["min_choi_eigenvalue"] < -100 * S.info["choi_noise_estimate"]


def test_cp_maps_do_not_warn():
    """Narrow sigma_p: CP within the numerical noise; global maps are CP by construction."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", NotCompletelyPositiveWarning)
        S = collision_map(_chain(2, eps=1e-3), EffusionBath(BETA, M, 0.1), CPL, kind="exact")
        G_ = collision_map(_chain(2), EffusionBath(BETA, M, 5.0), CPL, kind="global")
    assert S.cp_defect <= 100 * S.info["choi_noise_estimate"]
    assert G_.cp_defect is None
    assert np.linalg.eigvalsh(G_.choi())[0] > -1e-12


# -- item 3: complex Hermitian H ---------------------------------------------------------------
def test_complex_hermitian_H_refused_by_maps():
    """Detailed balance (42)-(43) needs s_{j'j} = s_{jj'}, i.e. a real symmetric H (audit: violated by 3.9e-2)."""
    Hc = np.array([[0.0, 0.5j, 0.0], [-0.5j, 2.0, 0.3], [0.0, 0.3, 5.0]])
    V = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    for kind in ("exact", "global"):
        with pytest.raises(ValueError, match=r"H must be real symmetric.*detailed balance \(42\)-\(43\)"):
            collision_map(System(Hc), BATH, DeltaCoupling(G, V=V), kind=kind)
    # the same spectrum written as a real symmetric matrix is accepted
    S = collision_map(System(np.abs(Hc)), BATH, DeltaCoupling(G, V=V), kind="global")
    assert S.diagnostics()["detailed_balance"]["value"] < 1e-12


# -- item 4: detailed balance at large beta h ----------------------------------------------------
@pytest.mark.parametrize("N, beta, h", [(1, 1.0, 800.0), (2, 1.0, 800.0)])
def test_detailed_balance_diagnostic_finite_at_large_beta_h(N, beta, h):
    """exp(+beta h) overflowed (inf * 0 = NaN) in the downward direction of Eq. (30)."""
    S = collision_map(QubitChain(N, h, 0.1), EffusionBath(beta, M, SIGMA), CPL, kind="global")
    db = S.diagnostics()["detailed_balance"]["value"]
    assert math.isfinite(db)
    # independent check of Eq. (30) on the upward jumps, computed here from the tensor
    e = np.asarray(S.eigensystem.energies, dtype=float)
    d = len(e)
    P = np.array([[S.tensor[a, a, b, b].real for b in range(d)] for a in range(d)])
    want = max(abs(P[a, b] - math.exp(-beta * (e[a] - e[b])) * P[b, a])
               for a in range(d) for b in range(d) if e[a] >= e[b])
    assert db == pytest.approx(want, abs=1e-300)
    assert db < 1e-12


# -- item 7: the default tolerance follows the precision ------------------------------------------
def test_default_tol_tied_to_dps():
    """dps=30 with the default tol used to stop at the float64 target (error ~4e-14)."""
    S = collision_map(QubitChain(1, H, 0.0), BATH, CPL, kind="global", dps=30)
    assert Tolerances.map_default(30) == 1e-22
    assert S.error_estimate <= 1e-22
    # and the float64 map agrees with it within the float64 map's reported error
    F = collision_map(QubitChain(1, H, 0.0), BATH, CPL, kind="global")
    ref = np.array([complex(x) for x in S.tensor.reshape(-1)]).reshape(F.tensor.shape)
    assert np.max(np.abs(F.tensor - ref)) <= F.error_estimate


def test_dps_far_above_tol_warns():
    with pytest.warns(SymcollWarning, match=r"dps=80 is far more than tol=1\.0e-12 needs"):
        collision_map(QubitChain(1, H, 0.0), BATH, CPL, kind="global", dps=80, tol=1e-12)
    assert Tolerances.map_default(None) == 1e-12
    assert Tolerances.map_default(15) == 1e-12
    assert Tolerances.map_default(10000) == 1e-40


def test_cp_defect_reported_in_evolve_output(capsys):
    """Item 2: `symcoll evolve` and results.json state the CP defect (no warning printed)."""
    from symcoll.cli import main
    from symcoll.paper import run_one

    with warnings.catch_warnings():
        warnings.simplefilter("error", NotCompletelyPositiveWarning)  # recorded, never raised
        res = run_one(QubitChain(1, 4.0, 0.0), EffusionBath(BETA, M, 2.0), CPL, 1.0, "exact", [1.0, 10.0])
    cp = res["complete_positivity"]
    assert cp["checked"] and cp["warned"] and cp["min_choi_eigenvalue"] < -1e-5
    assert "incident state (41)" in cp["message"]
    assert run_one(QubitChain(1, 4.0, 0.0), BATH, CPL, 1.0, "global", [1.0])["complete_positivity"]["checked"] is False
    assert main(["evolve", "--N", "1", "--eps", "0", "--sigma-p", "2", "--times", "1,10"]) == 0
    out = capsys.readouterr().out
    assert "NOT completely positive" in out and "smallest Choi eigenvalue -" in out
