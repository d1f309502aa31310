"""Arb kernels and the certified (C1)-(C2) solve in balls (issue 12, "Kernels in Arb").

Checks, at 128 bits: the arb kernels (closed forms (C4)-(C8), (C24)-(C28), (C32), (40)) and the
ball solve of (C1) (acb_mat.solve) overlap, and both CONTAIN independent 50-digit mpmath values
(the mpmath kernels, and symcoll.scattering.Scattering(dps=50), a matrix solve by Gaussian
elimination); the radii are small (< 1e-25) so that containment is a real test.  Also: rationals
stay exact, thresholds that a ball straddles are refused, the CLI target and the cache.

The 50-digit references differ from the exact values by about 1e-48, far below the radii
(about 1e-38), so "the ball contains the reference" is what a correct enclosure gives.
"""
import importlib.util
import warnings
from fractions import Fraction

import mpmath
import numpy as np
import pytest
import sympy as sp
from flint import acb, acb_mat, arb, arb_mat, ctx, fmpq

from symcoll import DeltaCoupling, QubitChain, Scattering
from symcoll import kernels as K
from symcoll.certified.scattering import s_matrices_ball
from symcoll.cli import main as cli
from symcoll.errors import KernelCacheWarning

PREC = 128
RAD_MAX = 1e-25
PARAMS = [(4.0, 0.1, 50.0), (1.3, 0.7, -0.9)]  # (h, m, g): the paper's, and an O(1)-coupling case


@pytest.fixture(autouse=True)
def _cache_and_prec(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOLL_CACHE", str(tmp_path / "cache"))
    K.clear_memo()
    old = ctx.prec
    ctx.prec = PREC
    yield
    ctx.prec = old
    K.clear_memo()


def _point(z):
    """An mpmath number (or float/int) as an exact acb point (converted at 600 bits: no rounding)."""
    with ctx.workprec(600):  # (mpmath.mpc(z) would round z to the global 15-digit context)
        return acb(z)


def _contains(ball, z):
    return acb(ball).contains(_point(z))


def _local(N, h):
    """Channel energies n h of the local basis (qubit 1 most significant) and V = sigma_x on qubit 1, exact."""
    d = 2**N
    energies = [arb(h) * bin(i).count("1") for i in range(d)]
    V = arb_mat(d, d, [1 if (i ^ j) == d // 2 else 0 for i in range(d) for j in range(d)])
    return energies, V


def _energies(N, h):
    """Below every threshold, between thresholds, exactly at one, above all (binary-exact floats)."""
    return [-0.7 * h, 0.37 * h, h, 1.5 * h, (N - 0.25) * h, (N + 0.625) * h]


@pytest.mark.parametrize("h,m,g", PARAMS)
@pytest.mark.parametrize("N", [1, 2, 3])
def test_arb_kernel_and_ball_solve_overlap_and_contain_mpmath_eps0(N, h, m, g):
    d = 2**N
    energies, V = _local(N, h)
    for alpha in (+1, -1):
        kb = K.chain_kernel(N, alpha, backend="arb")
        km = K.chain_kernel(N, alpha, backend="mpmath", dps=50)
        for E in _energies(N, h):
            A = kb(E, h, m, g, 1)
            R = km(E, h, m, g, 1)
            sp_, sm_, is_open = s_matrices_ball(energies, V, m, g, E)
            B = sp_ if alpha == +1 else sm_
            assert is_open == [E >= h * bin(i).count("1") for i in range(d)]
            for i in range(d):
                for j in range(d):
                    assert acb.overlaps(A[i, j], B[i, j]), (N, alpha, E, i, j, A[i, j], B[i, j])
                    assert _contains(A[i, j], R[i, j]), (N, alpha, E, i, j, A[i, j], R[i, j])
                    assert _contains(B[i, j], R[i, j]), (N, alpha, E, i, j, B[i, j], R[i, j])
                    assert float(A[i, j].rad()) < RAD_MAX and float(B[i, j].rad()) < RAD_MAX
            if N == 1:
                A1 = K.one_qubit_kernel(alpha, backend="arb")(E, h, m, g, 1)
                assert all(acb.overlaps(A1[i, j], A[i, j]) for i in range(2) for j in range(2))


@pytest.mark.parametrize("ladder", ["paper", "unit"])
@pytest.mark.parametrize("N,eps", [(2, 0.0), (3, 0.0), (2, 0.1), (3, 0.1)])
def test_ball_solve_contains_Scattering_dps50(N, eps, ladder):
    # eigenbasis of H(eps) from Scattering at 50 digits (its binary values are the ball inputs, exactly)
    h, m, g = 4.0, 0.1, 50.0
    sc = Scattering(QubitChain(N, h, eps, ladder), DeltaCoupling(g), m, dps=50)
    d = 2**N
    with ctx.workprec(600):
        energies = [arb(e) for e in sc.energies]
        V = acb_mat([[acb(sc.V_eig[i, j]) for j in range(d)] for i in range(d)])
    Es = [-2.0, 1.5, 6.25, 10.125, 4 * N + 3.0]
    s_ref, sm_ref, open_ref = sc.s_both(Es)
    for n, E in enumerate(Es):
        sp_, sm_, is_open = s_matrices_ball(energies, V, m, g, E)
        assert is_open == list(open_ref[n])
        for i in range(d):
            for j in range(d):
                assert _contains(sp_[i, j], s_ref[n, i, j]), (E, i, j, sp_[i, j], s_ref[n, i, j])
                assert _contains(sm_[i, j], sm_ref[n, i, j]), (E, i, j, sm_[i, j], sm_ref[n, i, j])
                assert float(sp_[i, j].rad()) < RAD_MAX


def test_one_qubit_closed_channel_against_C8_typed_here():
    # 0 < E < h: (C8) c^2 = -i g^2 m / (2 sqrt(E (h - E))), s00 = 1/(1 + c^2) (hbar = 1), at 60 digits
    E, h, m, g = 1.0, 4.0, 0.1, 50.0
    mp = mpmath.MPContext()
    mp.dps = 60
    c2 = mp.mpc(0, -1) * mp.mpf(g) ** 2 * mp.mpf(m) / (2 * mp.sqrt(mp.mpf(E) * (mp.mpf(h) - mp.mpf(E))))
    s00 = 1 / (1 + c2)
    A = K.one_qubit_kernel(+1, backend="arb")(E, h, m, g, 1)
    assert _contains(A[0, 0], s00)
    B, _, is_open = s_matrices_ball([0, h], arb_mat([[0, 1], [1, 0]]), m, g, E)
    assert is_open == [True, False]
    assert _contains(B[0, 0], s00)
    assert A[0, 1] == 0 and A[1, 1] == 0 and B[0, 1] == 0 and B[1, 1] == 0  # closed: exactly 0


def test_c_pm_and_mu_eff_arb_contain_mpmath():
    h, m, g = 4.0, 0.1, 50.0
    p = [0.3, 0.8, 1.5, 3.0]  # sqrt(2 m h) = 0.894...: both sides of the c_- threshold
    for sign in (+1, -1):
        A = K.c_pm_kernel(sign, backend="arb")(p, h, m, g, 1)
        R = K.c_pm_kernel(sign, backend="mpmath", dps=50)(p, h, m, g, 1)
        for a, r in zip(A, R):
            assert _contains(a, r) and float(a.rad()) < RAD_MAX
    q = [-1.0, 0, 0.25, 2.0]
    A = K.mu_eff_kernel(backend="arb")(q, 10.0, 0.1)
    R = K.mu_eff_kernel(backend="mpmath", dps=50)(q, 10.0, 0.1)
    for a, r in zip(A, R):
        assert _contains(a, r) and float(a.rad()) < RAD_MAX
    assert A[0] == 0 and A[1] == 0  # p <= 0: exactly 0


def test_rationals_stay_exact_in_balls():
    # 1/3 through a float would miss 7/3 by ~1e-17, far outside a 128-bit ball
    x = sp.Symbol("x", real=True)
    k = K.make_kernel("third", (x,), sp.Rational(1, 3) * x + 2, backend="arb", real_out=True)
    r = k([1, 3, fmpq(1, 7)])
    assert r[0].contains(acb(fmpq(7, 3))) and float(r[0].rad()) < 1e-35
    assert r[1].contains(3) and r[2].contains(acb(fmpq(43, 21)))
    assert "1/3" not in k.source and "_arb_q(1, 3)" in k.source


@pytest.mark.parametrize("tenth", [Fraction(1, 10), sp.Rational(1, 10), fmpq(1, 10)])
def test_exact_rational_inputs_are_not_rounded_to_float(tenth):
    # m = 1/10 exactly: contains the 50-digit value at m = '0.1' and not the one at the float 0.1
    kb = K.chain_kernel(1, +1, backend="arb")
    km = K.chain_kernel(1, +1, backend="mpmath", dps=50)
    A = kb(6.25, 4, tenth, 50, 1)
    assert _contains(A[0, 1], km(6.25, 4, "0.1", 50, 1)[0, 1])
    assert not _contains(A[0, 1], km(6.25, 4, 0.1, 50, 1)[0, 1])


def test_generated_arb_source_stays_in_ball_arithmetic():
    k = K.chain_kernel(3, +1, backend="arb")
    body = k.source[k.source.index("def _s_plus_chain3_scalar"):]
    for bad in ("mpmath", "1j", "float(", "math.", "numpy.sqrt", "sympy"):
        assert bad not in body, bad
    assert "_arb_csqrt(" in body and "_arb_cond(" in body


def test_complex_E_continues_the_real_convention():
    # E + i*1e-30: the continuation is continuous onto the real axis in open and closed channels
    h, m, g = 4.0, 0.1, 50.0
    kb = K.chain_kernel(2, +1, backend="arb")
    for E in (1.5, 6.25):
        Ar = kb(E, h, m, g, 1)
        Ac = kb(acb(E, arb(10) ** -30), h, m, g, 1)
        for i in range(4):
            for j in range(4):
                assert abs(Ac[i, j] - Ar[i, j]).upper() < 1e-25, (E, i, j, Ac[i, j], Ar[i, j])


def test_threshold_inside_ball_is_refused():
    h, m, g = 4.0, 0.1, 50.0
    E = arb(4, 1e-20)  # contains the threshold h of channel 1
    energies, V = _local(2, h)
    with pytest.raises(ValueError, match="threshold"):
        K.chain_kernel(2, +1, backend="arb")(E, h, m, g, 1)
    with pytest.raises(ValueError, match="channel 1 is open cannot be decided"):
        s_matrices_ball(energies, V, m, g, E)
    with pytest.raises(ValueError, match="threshold"):
        K.mu_eff_kernel(backend="arb")(arb(0, 1e-30), 10, 0.1)


def test_bad_inputs_give_clear_errors():
    energies, V = _local(1, 4.0)
    with pytest.raises(TypeError, match="V_eig must be a python-flint acb_mat or arb_mat"):
        s_matrices_ball(energies, np.eye(2), 0.1, 50, 1.0)
    with pytest.raises(ValueError, match="V_eig must be 2 x 2"):
        s_matrices_ball(energies, arb_mat(3, 3), 0.1, 50, 1.0)
    with pytest.raises(ValueError, match=r"m must be > 0"):
        s_matrices_ball(energies, V, -0.1, 50, 1.0)
    with pytest.raises(ValueError, match="g must be real"):
        s_matrices_ball(energies, V, 0.1, acb(50, 1), 1.0)
    with pytest.raises(ValueError, match="at least one channel"):
        s_matrices_ball([], V, 0.1, 50, 1.0)
    with pytest.raises(ValueError, match=r"h must be > 0"):
        K.chain_kernel(1, backend="arb")(1.0, 0, 0.1, 50, 1)
    with pytest.raises(ValueError, match="dps must be None for the arb backend"):
        K.chain_kernel(1, backend="arb", dps=30)
    with pytest.raises(ValueError, match="prec must be an integer"):
        K.chain_kernel(1, backend="arb")(1.0, 4, 0.1, 50, 1, prec=3)
    with pytest.raises(ValueError, match=r"backend must be one of \['arb', 'mpmath', 'numpy'\]"):
        K.chain_kernel(1, backend="julia")


def test_prec_argument_sets_the_working_precision():
    A64 = K.chain_kernel(1, backend="arb")(1.5, 4, 0.1, 50, 1, prec=64)
    A256 = K.chain_kernel(1, backend="arb")(1.5, 4, 0.1, 50, 1, prec=256)
    assert ctx.prec == PREC  # restored
    assert 1e-25 < float(A64[0, 0].rad()) < 1e-15 and float(A256[0, 0].rad()) < 1e-70
    assert acb.overlaps(A64[0, 0], A256[0, 0])


def _load_module(path):
    spec = importlib.util.spec_from_file_location(path.stem, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_target_arb_writes_a_ball_module(tmp_path, capsys):
    out = tmp_path / "k"
    assert cli(["kernels", "--out", str(out), "--N", "2", "--target", "arb"]) == 0
    assert "symcoll_kernels_arb.py" in capsys.readouterr().out
    assert sorted(p.name for p in out.iterdir()) == ["symcoll_kernels_arb.py"]  # no numpy/mpmath module asked for
    path = out / "symcoll_kernels_arb.py"
    text = path.read_text()
    assert "import sympy" not in text and "import symcoll" not in text and "import mpmath" not in text
    mod = _load_module(path)
    assert "s_plus_chain2_arb" in mod.__all__ and "mu_eff_arb" in mod.__all__
    R = K.chain_kernel(2, -1, backend="mpmath", dps=50)(6.25, 4, 0.1, 50, 1)
    A = mod.s_minus_chain2_arb(6.25, 4, 0.1, 50, 1)
    assert all(_contains(A[i, j], R[i, j]) for i in range(4) for j in range(4))


def test_cli_default_and_both_targets(tmp_path):
    assert cli(["kernels", "--out", str(tmp_path / "a"), "--N", "1"]) == 0
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == ["symcoll_kernels.py"]
    assert cli(["kernels", "--out", str(tmp_path / "b"), "--N", "1", "--target", "numpy,arb"]) == 0
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == ["symcoll_kernels.py", "symcoll_kernels_arb.py"]
    mod = _load_module(tmp_path / "b" / "symcoll_kernels.py")
    assert "s_plus_1q" in mod.__all__ and not any(n.endswith("_mp") for n in mod.__all__)


def test_cli_unknown_target_lists_the_targets(tmp_path, capsys):
    assert cli(["kernels", "--out", str(tmp_path / "k"), "--target", "arb,julia"]) == 2
    err = capsys.readouterr().err
    assert "target must be a comma-separated list of numpy, mpmath, arb" in err and "'julia'" in err
    assert not (tmp_path / "k").exists() or not any((tmp_path / "k").iterdir())
    with pytest.raises(ValueError, match="numpy, mpmath, arb"):
        K.parse_targets("")


def test_cache_keeps_arb_source_apart_and_checks_it():
    kn = K.chain_kernel(2, +1)
    ka = K.chain_kernel(2, +1, backend="arb")
    assert ka.cache_path != kn.cache_path and "-arb-" in ka.cache_path.name and ka.key != kn.key
    good = ka.cache_path.read_bytes()
    assert b"_arb_csqrt" in good and b"_np_csqrt" not in good
    # tamper with a constant of the arb body (header intact): must be rejected and rebuilt
    assert good.count(b"2*m") > 0
    ka.cache_path.write_bytes(good.replace(b"2*m", b"3*m", 1))
    K.clear_memo()
    with pytest.warns(KernelCacheWarning, match="rejected"):
        k2 = K.chain_kernel(2, +1, backend="arb")
    assert not k2.cache_hit
    R = K.chain_kernel(2, +1, backend="mpmath", dps=50)(6.25, 4, 0.1, 50, 1)
    A = k2(6.25, 4, 0.1, 50, 1)
    assert all(_contains(A[i, j], R[i, j]) for i in range(4) for j in range(4))
    K.clear_memo()
    with warnings.catch_warnings():
        warnings.simplefilter("error", KernelCacheWarning)
        k3 = K.chain_kernel(2, +1, backend="arb")
    assert k3.cache_hit and k3.source == k2.source
