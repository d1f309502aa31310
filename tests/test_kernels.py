"""Kernels against a DIRECT evaluation of (C1) (literal matrix inversion, written here), cache and CLI."""
import json
import math
import subprocess
import sys
from pathlib import Path

import mpmath
import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, Scattering
from symcoll import kernels as K

ROOT = Path(__file__).resolve().parents[1]
PARAMS = [(4.0, 0.1, 50.0), (1.3, 0.7, -0.9)]  # (h, m, g): the paper's, and an O(1)-coupling case


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SYMCOLL_CACHE", str(tmp_path / "cache"))


def _local_H_V(N, h):
    Hdiag = np.array([h * bin(i).count("1") for i in range(2**N)])
    sx = np.array([[0.0, 1.0], [1.0, 0.0]])
    V = np.kron(sx, np.eye(2 ** (N - 1)))  # qubit 1 = most significant bit
    return Hdiag, V


def direct_C1_float(E, Hdiag, V, m, g, hbar=1.0):
    """Literal (C1): K^{1/2} [I + i m g/hbar^2 K^{-1} V]^{-1} K^{-1/2}, closed channels on the +i branch."""
    x = 2 * m * (E - Hdiag)
    k = np.where(x >= 0, np.sqrt(np.abs(x)) + 0j, 1j * np.sqrt(np.abs(x))) / hbar
    A = np.eye(len(k)) + 1j * m * g / hbar**2 * np.diag(1 / k) @ V
    s = np.diag(np.sqrt(k)) @ np.linalg.inv(A) @ np.diag(1 / np.sqrt(k))
    op = x >= 0
    return np.where(op[:, None] & op[None, :], s, 0), op


def direct_C1_mp(E, h, V, m, g, dps):
    """The same literal (C1) in a private mpmath context at ``dps`` digits (mpmath.inverse).

    The local energies n h are formed in mpmath from the binary value of h.
    """
    mp = mpmath.MPContext()
    mp.dps = dps
    d = V.shape[0]
    E, m, g, h = mp.mpf(E), mp.mpf(m), mp.mpf(g), mp.mpf(h)
    x = [2 * m * (E - h * bin(i).count("1")) for i in range(d)]
    k = [mp.sqrt(v) if v >= 0 else mp.mpc(0, mp.sqrt(-v)) for v in x]
    A = mp.matrix(d, d)
    for a in range(d):
        for b in range(d):
            A[a, b] = (1 if a == b else 0) + mp.mpc(0, 1) * m * g / k[a] * int(V[a, b])
    Ai = mp.inverse(A)
    s = [[mp.sqrt(k[a]) * Ai[a, b] / mp.sqrt(k[b]) if (x[a] >= 0 and x[b] >= 0) else mp.mpc(0) for b in range(d)] for a in range(d)]
    return s, mp


def _energies(rng, N, h, n):
    # random energies over all thresholds, plus explicit ones below the first thresholds
    return np.concatenate([[-0.7 * h, 0.37 * h], rng.uniform(-h, (N + 1.5) * h, n)])


@pytest.mark.parametrize("h,m,g", PARAMS)
@pytest.mark.parametrize("N", [1, 2, 3, 4])
def test_numpy_kernel_equals_direct_C1_float64(N, h, m, g, rng):
    Hdiag, V = _local_H_V(N, h)
    E = _energies(rng, N, h, 30)
    Sp = K.chain_kernel(N, +1)(E, h, m, g, 1.0)
    Sm = K.chain_kernel(N, -1)(E, h, m, g, 1.0)
    for i, e in enumerate(E):
        s, op = direct_C1_float(e, Hdiag, V, m, g)
        assert np.max(np.abs(Sp[i] - s)) < 1e-13
        sm = np.where(op[:, None] & op[None, :], s - np.eye(len(op)), 0)
        assert np.max(np.abs(Sm[i] - sm)) < 1e-13
    if N == 1:
        S1 = K.one_qubit_kernel(+1)(E, h, m, g, 1.0)
        assert np.max(np.abs(S1 - Sp)) < 1e-15


@pytest.mark.parametrize("N", [1, 2, 3, 4])
def test_mpmath_kernel_equals_direct_C1_50_digits(N, rng):
    h, m, g = PARAMS[N % 2]
    Hdiag, V = _local_H_V(N, h)
    E = _energies(rng, N, h, 2 if N == 4 else 4)
    S = K.chain_kernel(N, +1, backend="mpmath", dps=50)(E, h, m, g, 1)
    worst = 0
    for i, e in enumerate(E):
        s, mp = direct_C1_mp(float(e), h, V, m, g, 60)
        for a in range(2**N):
            for b in range(2**N):
                worst = max(worst, abs(mp.mpc(S[i, a, b]) - s[a][b]))
    assert worst < 1e-40, float(worst)


@pytest.mark.parametrize("N", [1, 2, 3, 4])
def test_kernel_equals_Scattering_on_QubitChain_eps0(N, rng):
    h, m, g = 4.0, 0.1, 50.0
    chain = QubitChain(N, h, 0)
    U = chain.eigensystem().vectors
    E = _energies(rng, N, h, 10)
    s_ref, _ = Scattering(chain, DeltaCoupling(g), m).s_plus(E)
    S = K.chain_kernel(N)(E, h, m, g, 1.0)
    assert np.max(np.abs(np.einsum("ai,nab,bj->nij", U, S, U) - s_ref)) < 1e-13


def test_mpmath_kernel_equals_Scattering_mp_N2():
    chain = QubitChain(2, 4, 0)
    E = [1.5, 6.25, 10.125]
    s_ref, _ = Scattering(chain, DeltaCoupling(50), 0.1, dps=50).s_plus(E)
    U = chain.eigensystem(50).vectors
    S = K.chain_kernel(2, backend="mpmath", dps=50)(E, 4, 0.1, 50, 1)  # same binary m as Scattering
    for i in range(3):
        Se = U.T @ S[i] @ U
        assert max(abs(Se[a, b] - s_ref[i, a, b]) for a in range(4) for b in range(4)) < 1e-40


def test_flux_unitarity_of_kernel_output(rng):
    E = rng.uniform(0, 18, 50)
    Sp = K.chain_kernel(3, +1)(E, 4.0, 0.1, 50.0, 1.0)
    Sm = K.chain_kernel(3, -1)(E, 4.0, 0.1, 50.0, 1.0)
    col = (np.abs(Sp) ** 2 + np.abs(Sm) ** 2).sum(axis=1)  # sum over outgoing k, both directions
    is_open = E[:, None] >= 4.0 * np.array([bin(i).count("1") for i in range(8)])[None, :]
    assert np.max(np.abs(np.where(is_open, col - 1, 0))) < 1e-13
    assert np.max(np.abs(Sp - np.swapaxes(Sp, 1, 2))) == 0  # symmetry s_kj = s_jk


def test_branch_closed_channel_below_threshold():
    # 0 < E < h: (C8) c^2 = -i g^2 m/(2 hbar^2 sqrt(E (h - E))); s00 = 1/(1 + c^2), typed here
    E, h, m, g = 1.0, 4.0, 0.1, 50.0
    c2 = -1j * g * g * m / (2 * math.sqrt(E * (h - E)))
    s = K.one_qubit_kernel(+1)(np.array([E]), h, m, g, 1.0)[0]
    assert abs(s[0, 0] - 1 / (1 + c2)) < 1e-15
    assert s[0, 1] == 0 and s[1, 0] == 0 and s[1, 1] == 0
    s_neg = K.one_qubit_kernel(+1)(-0.0, h, m, g, 1.0)  # E = -0.0: the open channel 0 at threshold
    assert np.all(np.isfinite(s_neg))


def test_c_pm_and_mu_eff_kernels():
    h, m, g = 4.0, 0.1, 50.0
    p = np.array([0.3, 0.8, 1.5, 3.0])
    cp = K.c_pm_kernel(+1)(p, h, m, g, 1.0)
    E = p**2 / (2 * m) + h  # (C6) with E -> E_p + h measured from the lower state
    assert np.max(np.abs(cp - g * math.sqrt(m / 2) / (E * (E - h)) ** 0.25)) < 1e-13
    cm = K.c_pm_kernel(-1)(p, h, m, g, 1.0)
    below = p < math.sqrt(2 * m * h)
    Eb = p[below] ** 2 / (2 * m)
    assert np.max(np.abs(cm[below] ** 2 - (-1j * g * g * m / (2 * np.sqrt(Eb * (h - Eb)))))) < 1e-10
    cm_mp = K.c_pm_kernel(-1, backend="mpmath", dps=40)(p, h, m, g, 1.0)
    assert max(abs(complex(a) - b) for a, b in zip(cm_mp, cm)) < 1e-12
    bath = EffusionBath(0.1, 0.1)
    q = np.array([-1.0, 0.0, 0.2, 1.0, 4.0])
    assert np.max(np.abs(K.mu_eff_kernel()(q, 0.1, 0.1) - bath.mu_eff(q))) < 1e-15
    mu_mp = K.mu_eff_kernel(backend="mpmath", dps=30)(q, 0.1, 0.1)
    assert max(abs(float(a) - b) for a, b in zip(mu_mp, bath.mu_eff(q))) < 1e-15


def test_cache_hits_and_keys(tmp_path):
    k1 = K.one_qubit_kernel(+1)
    assert not k1.cache_hit and k1.cache_path.is_file()
    assert k1.cache_path.parent == tmp_path / "cache" / "kernels"
    assert K.one_qubit_kernel(+1) is k1  # compiled once per process (in-process memo)
    K.clear_memo()
    k2 = K.one_qubit_kernel(+1)  # a new process: read from disk
    assert k2.cache_hit and k2.key == k1.key and k2.source == k1.source
    assert "Generated source" in k2.func.__doc__ and "def s_plus_1q" in k2.func.__doc__
    keys = {
        K.one_qubit_kernel(+1, backend="mpmath", dps=30).key,
        K.one_qubit_kernel(+1, backend="mpmath", dps=40).key,
        K.one_qubit_kernel(+1, cse=False).key,
        K.one_qubit_kernel(-1).key,
        k1.key,
    }
    assert len(keys) == 5
    E = np.linspace(0, 10, 7)
    assert np.array_equal(k1(E, 4.0, 0.1, 50.0, 1.0), k2(E, 4.0, 0.1, 50.0, 1.0))


def test_mpmath_kernel_exact_rationals_and_private_context():
    import sympy as sp

    x = sp.Symbol("x", real=True)
    k = K.make_kernel("third", (x,), sp.Rational(1, 3) * x + sp.Rational(1, 10), backend="mpmath", dps=60, real_out=True)
    body = k.source.split("def _third_scalar")[1]
    assert "_mp.mpf(1)/_mp.mpf(3)" in body and "0.1" not in body
    mp = mpmath.MPContext()
    mp.dps = 70
    before = mpmath.mp.dps
    val = k([1])[0]
    assert mpmath.mp.dps == before  # global precision untouched
    assert abs(val - (mp.mpf(1) / 3 + mp.mpf(1) / 10)) < mp.mpf(10) ** -59
    kn = K.make_kernel("third", (x,), sp.Rational(1, 3) * x, backend="numpy", real_out=True)
    assert kn(np.array([3.0]))[0] == pytest.approx(1.0, abs=1e-15)


def test_bad_input_messages():
    k = K.one_qubit_kernel(+1)
    with pytest.raises(ValueError, match="h must be > 0"):
        k(1.0, -4.0, 0.1, 50.0, 1.0)
    with pytest.raises(ValueError, match="g must be nonzero"):
        k(1.0, 4.0, 0.1, 0.0, 1.0)
    with pytest.raises(ValueError, match="E must be finite"):
        k(np.nan, 4.0, 0.1, 1.0, 1.0)
    with pytest.raises(ValueError, match="backend must be one of"):
        K.one_qubit_kernel(+1, backend="torch")
    with pytest.raises(ValueError, match="dps must be None"):
        K.one_qubit_kernel(+1, dps=30)
    with pytest.raises(ValueError, match="dps must be an integer >= 15"):
        K.one_qubit_kernel(+1, backend="mpmath", dps=5)
    with pytest.raises(ValueError, match="alpha must be"):
        K.chain_kernel(2, alpha=0)
    kmp = K.one_qubit_kernel(+1, backend="mpmath", dps=20)
    with pytest.raises(ValueError, match="m must be > 0"):
        kmp(1, 4, 0, 1, 1)


def test_cli_module_imports_without_sympy(tmp_path):
    out = tmp_path / "kern"
    r = subprocess.run([sys.executable, "-m", "symcoll", "kernels", "--out", str(out), "--N", "2"],
                       cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stdout and "s_plus_chain2_mp" in r.stdout
    code = (
        "import sys, json; sys.modules['sympy'] = None\n"
        f"sys.path.insert(0, {str(out)!r})\n"
        "import numpy as np, symcoll_kernels as k\n"
        "assert 'sympy' not in k.__dict__\n"
        "E = np.array([1.0, 5.5, 9.0])\n"
        "s = k.s_plus_chain2(E, 4.0, 0.1, 50.0, 1.0)\n"
        "smp = k.s_plus_chain2_mp([5.5], 4, 0.1, 50, 1, dps=30)\n"
        "print(json.dumps({'re': s.real.tolist(), 'im': s.imag.tolist(), 'mp': [str(smp[0, 0, 0].real), str(smp[0, 0, 0].imag)]}))\n"
    )
    r2 = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert r2.returncode == 0, r2.stderr
    data = json.loads(r2.stdout)
    S = np.array(data["re"]) + 1j * np.array(data["im"])
    Hdiag, V = _local_H_V(2, 4.0)
    for i, e in enumerate([1.0, 5.5, 9.0]):
        s, _ = direct_C1_float(e, Hdiag, V, 0.1, 50.0)
        assert np.max(np.abs(S[i] - s)) < 1e-13
    s, mp = direct_C1_mp(5.5, 4.0, V, 0.1, 50.0, 40)
    assert abs(mp.mpc(*data["mp"]) - s[0][0]) < 1e-25


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def test_property_flux_unitarity_and_symmetry_N2():
    kp, km = K.chain_kernel(2, +1), K.chain_kernel(2, -1)
    n_exc = np.array([0, 1, 1, 2])

    @settings(max_examples=60, deadline=None)
    @given(
        h=st.floats(0.05, 20.0),
        m=st.floats(0.01, 5.0),
        g=st.floats(-80.0, 80.0).filter(lambda x: abs(x) > 1e-3),
        E=st.floats(-5.0, 80.0),
    )
    def check(h, m, g, E):
        Sp = kp(np.array([E]), h, m, g, 1.0)[0]
        Sm = km(np.array([E]), h, m, g, 1.0)[0]
        is_open = E >= h * n_exc
        col = (np.abs(Sp) ** 2 + np.abs(Sm) ** 2).sum(axis=0)  # sum over outgoing channels and directions
        assert np.max(np.abs(np.where(is_open, col - 1, 0))) < 1e-12
        assert np.array_equal(Sp, Sp.T)
        assert np.all(Sp[~is_open, :] == 0) and np.all(Sp[:, ~is_open] == 0)

    check()
