"""Detuned chains (issue 14): ``QubitChain(N, h=[h_1, ..., h_N], eps)``.

Oracles, each independent of the code under test:
* the Hamiltonian built here from Kronecker products of the Pauli matrices (Eqs. (47), (64));
* the closed-form two-qubit spectrum ``(h1+h2)/2 +- sqrt(((h1-h2)/2)^2 + (f^2 eps)^2)`` (f = 2 for the
  paper's ladder, 1 for unit ladders; derived in derivations/detuned_chain.py) at 30 digits;
* :class:`symcoll.oracles.local_map0.LocalMap0`: the local map (54)-(56) on qubit 1 from the closed
  forms (C30)-(C32) and ``mpmath.quad`` (no panel quadrature, no (C1) solve);
* :class:`symcoll.oracles.quad38.Quad38` on a generic :class:`symcoll.System` with the Hamiltonian
  built here (plain ``eigh``, not the band-by-band chain code) and an explicit V;
* the Gibbs state of H(eps) from ``numpy.linalg.eigvalsh`` of the Kronecker-built H.
"""
import math

import mpmath
import numpy as np
import pytest

from symcoll import DeltaCoupling, EffusionBath, QubitChain, System, collision_map

SX = np.array([[0.0, 1.0], [1.0, 0.0]])
SY = np.array([[0.0, -1j], [1j, 0.0]])
SZ = np.diag([-1.0, 1.0])  # order (|0>, |1>): sigma_z |1> = +|1>, so (sigma_z + 1)/2 counts excitations
BATH = EffusionBath(0.1, 0.1, 0.5)
G = 50


def _site(op, i, N):
    out = np.eye(1)
    for k in range(1, N + 1):
        out = np.kron(out, op if k == i else np.eye(2))
    return out


def _h_kron(hs, eps, ladder="paper"):
    """H(eps) = sum_i h_i (sigma_z^(i) + 1)/2 + eps sum_i [sigma_+^(i) sigma_-^(i+1) + h.c.], from Kronecker products."""
    N = len(hs)
    f = 1.0 if ladder == "paper" else 0.5  # paper: sigma_pm = sigma_x pm i sigma_y; unit: half of it
    sp, sm = f * (SX + 1j * SY), f * (SX - 1j * SY)
    H = sum(h * (_site(SZ, i + 1, N) + np.eye(2**N)) / 2 for i, h in enumerate(hs))
    for i in range(1, N):
        hop = _site(sp, i, N) @ _site(sm, i + 1, N)
        H = H + eps * (hop + hop.conj().T)
    assert np.max(np.abs(H.imag)) == 0
    return H.real


# ----------------------------------------------------------------------------- uniform list == scalar
@pytest.mark.parametrize("N", [2, 3])
def test_uniform_list_is_the_scalar_chain_bit_for_bit(N):
    a, b = QubitChain(N, 4, 0.1), QubitChain(N, [4] * N, 0.1)
    c = QubitChain(N, np.full(N, 4.0), 0.1)
    assert b.uniform and c.uniform and b.h_sites == (4,) * N
    assert a.fingerprint() == b.fingerprint() == c.fingerprint()
    assert a.name == b.name and b.h == 4
    for dps in (None, 20):
        ea, eb = a.eigensystem(dps), b.eigensystem(dps)
        assert np.array_equal(ea.energies, eb.energies) and np.array_equal(ea.vectors, eb.vectors)
        assert ea.degenerate_groups == eb.degenerate_groups
    assert np.array_equal(a.hamiltonian(), c.hamiltonian())


@pytest.mark.parametrize("N", [2, 3])
@pytest.mark.parametrize("kind", ["exact", "global", "local"])
def test_uniform_list_maps_equal_scalar_maps_bit_for_bit(N, kind):
    cp = DeltaCoupling(G)
    Sa = collision_map(QubitChain(N, 4.0, 0.1), BATH, cp, kind=kind)
    Sb = collision_map(QubitChain(N, [4.0] * N, 0.1), BATH, cp, kind=kind)
    assert np.array_equal(Sa.tensor, Sb.tensor)
    assert np.array_equal(Sa.eigensystem.energies, Sb.eigensystem.energies)
    assert Sa.error_estimate == Sb.error_estimate


def test_uniform_list_compact_local_map_equals_scalar():
    cp = DeltaCoupling(G, site=2)
    Sa = collision_map(QubitChain(3, 4.0, 0.1), BATH, cp, kind="local", storage="compact")
    Sb = collision_map(QubitChain(3, [4.0, 4.0, 4.0], 0.1), BATH, cp, kind="local", storage="compact")
    assert np.array_equal(Sa.S1, Sb.S1) and np.array_equal(Sa.U, Sb.U)


# ----------------------------------------------------------------------------- spectrum
@pytest.mark.parametrize("ladder,f2", [("paper", 4), ("unit", 1)])
@pytest.mark.parametrize("hs,eps", [((4.0, 4.5), 0.1), ((4.5, 4.0), 0.1), ((1.0, 3.0), 0.7), ((4.0, 4.5), 1e-7)])
def test_two_qubit_detuned_spectrum_closed_form(hs, eps, ladder, f2):
    ch = QubitChain(2, list(hs), eps, ladder=ladder)
    assert not ch.uniform and ch.h_sites == hs
    with mpmath.workdps(30):
        h1, h2, e = (mpmath.mpf(x) for x in (*hs, eps))  # the binary float values, as the chain reads them
        r = mpmath.sqrt(((h1 - h2) / 2) ** 2 + (f2 * e) ** 2)
        levels = [(mpmath.mpf(0), 0), ((h1 + h2) / 2 - r, 1), ((h1 + h2) / 2 + r, 1), (h1 + h2, 2)]
        levels.sort()  # strong hopping (h = (1, 3), eps = 0.7) puts a band-1 level below 0
        exact = [x for x, _ in levels]
        es = ch.eigensystem(30)
        assert max(abs(es.energies[i] - exact[i]) for i in range(4)) < mpmath.mpf(10) ** -27
    es = ch.eigensystem()
    ex = np.array([float(x) for x in exact])
    assert np.max(np.abs(es.energies - ex)) < 8 * np.finfo(float).eps * sum(hs)
    H = _h_kron(hs, eps, ladder)
    assert np.array_equal(ch.hamiltonian(), H)
    U = es.vectors
    assert np.max(np.abs(U.T @ H @ U - np.diag(es.energies))) < 1e-14 * sum(hs)
    assert np.max(np.abs(U.T @ U - np.eye(4))) < 1e-15
    assert list(es.bands) == [n for _, n in levels] and es.degenerate_groups == []


def test_three_qubit_detuned_eigensystem_against_kron():
    hs, eps = (4.0, 4.5, 3.7), 0.3
    ch = QubitChain(3, hs, eps)
    H = _h_kron(hs, eps)
    es = ch.eigensystem()
    w = np.linalg.eigvalsh(H)
    assert np.max(np.abs(es.energies - w)) < 1e-13
    assert np.max(np.abs(es.vectors.T @ H @ es.vectors - np.diag(es.energies))) < 1e-13
    # band labels: the excitation number of every eigenvector
    n_loc = np.array([bin(i).count("1") for i in range(8)])
    assert np.array_equal(es.bands, [n_loc[np.argmax(np.abs(es.vectors[:, j]))] for j in range(8)])
    # H_loc no longer commutes with H_int, the excitation number still commutes with both
    Hl = np.diag(ch.local_energies())
    Hi = ch.h_int_matrix()
    n = np.diag(n_loc.astype(float))
    assert np.max(np.abs(Hl @ Hi - Hi @ Hl)) > 0.1
    assert np.max(np.abs(n @ Hi - Hi @ n)) == 0 and np.max(np.abs(n @ Hl - Hl @ n)) == 0


def test_detuned_degeneracies_detected():
    # h = (1, 1, 2) at eps = 0: |100>, |010> (energy 1) and |110>, |001> (energy 2, two bands)
    es = QubitChain(3, [1, 1, 2], 0).eigensystem()
    assert list(es.energies) == [0, 1, 1, 2, 2, 3, 3, 4]
    assert es.degenerate_groups == [(1, 2), (3, 4), (5, 6)]


# ----------------------------------------------------------------------------- maps
def _local_oracle(h_site, site):
    """The local map S_1 (x) id of a two-qubit chain bombarded on ``site``, local basis, from LocalMap0."""
    from symcoll.oracles.local_map0 import LocalMap0

    L = LocalMap0(2, h=h_site, dps=20)  # acts on qubit 1; its other qubit is a spectator
    P = np.eye(4)[[0, 2, 1, 3]]  # swap the two qubits
    T = np.empty((4, 4, 4, 4), dtype=complex)
    for j in range(4):
        for k in range(4):
            rho = np.zeros((4, 4))
            rho[j, k] = 1
            if site == 2:
                rho = P @ rho @ P
            out = np.array(L.apply(rho.tolist()), dtype=complex)
            T[:, :, j, k] = P @ out @ P if site == 2 else out
    return T


@pytest.mark.parametrize("hs,site", [((4.5, 4.0), 1), ((4.0, 4.5), 2)])
@pytest.mark.parametrize("storage", ["dense", "compact"])
def test_detuned_local_map_is_site_map_of_coupled_h(hs, site, storage):
    ch = QubitChain(2, list(hs), 0.1)
    cm = collision_map(ch, BATH, DeltaCoupling(G, site=site), kind="local", storage=storage)
    U = cm.eigensystem.vectors
    H = _h_kron(hs, 0.1)
    assert np.max(np.abs(U.T @ H @ U - np.diag(cm.eigensystem.energies))) < 1e-14 * sum(hs)
    # the map's tensor, rotated back to the local basis: S(|j><k|) = U S_eig(U^T |j><k| U) U^T
    T = cm.tensor
    T_loc = np.einsum("pa,qb,abjk,xj,yk->pqxy", U, U, T, U, U)
    oracle = _local_oracle(str(hs[site - 1]), site)
    diff = np.max(np.abs(T_loc - oracle))
    assert diff < cm.error_estimate + 64 * np.finfo(float).eps
    # and it is not the map of the other site's energy (the test can tell the two apart)
    assert np.max(np.abs(T_loc - _local_oracle(str(hs[2 - site]), site))) > 1e3 * diff


def test_detuned_local_dense_equals_compact():
    ch = QubitChain(3, [4.0, 4.5, 3.8], 0.2)
    cp = DeltaCoupling(G, site=2)
    a = collision_map(ch, BATH, cp, kind="local", storage="dense")
    b = collision_map(ch, BATH, cp, kind="local", storage="compact")
    assert np.max(np.abs(a.tensor - b.tensor)) < a.error_estimate + b.error_estimate
    d = b.diagnostics()
    assert d["sum_rule"]["value"] < 1e-12 and d["sum_rule"]["applies"]


@pytest.mark.parametrize("hs", [(4.0, 4.5), (4.0, 4.5, 3.7)])
def test_detuned_global_map_fixes_gibbs_of_H_eps(hs):
    beta = float(BATH.beta)
    ch = QubitChain(len(hs), list(hs), 0.3)
    cm = collision_map(ch, BATH, DeltaCoupling(G), kind="global")
    w = np.linalg.eigvalsh(_h_kron(hs, 0.3))  # independent energies
    gibbs = np.diag(np.exp(-beta * (w - w[0])) / np.exp(-beta * (w - w[0])).sum())
    # |S(G) - G| <= sum_jk |error of S^{jk}| G_jk <= error * Tr G (G diagonal, positive)
    assert np.max(np.abs(cm.apply(gibbs) - gibbs)) < cm.error_estimate + 64 * np.finfo(float).eps
    # the Gibbs state of H_loc (same populations' order) is not fixed: the check can fail
    e0 = np.sort(ch.local_energies())
    g0 = np.diag(np.exp(-beta * e0) / np.exp(-beta * e0).sum())
    assert np.max(np.abs(cm.apply(g0) - g0)) > 1e-6


def test_detuned_exact_map_against_quad38_oracle():
    from symcoll.oracles.quad38 import Quad38

    hs, eps = (4.0, 4.5), 0.1
    cm = collision_map(QubitChain(2, list(hs), eps), BATH, DeltaCoupling(G), kind="exact")
    H = _h_kron(hs, eps)
    q = Quad38(System(H), G, 0.1, 0.1, 0.5, dps=20, coupling=DeltaCoupling(G, V=np.kron(SX, np.eye(2))))
    assert np.max(np.abs(np.array([float(x) for x in q.e]) - cm.eigensystem.energies)) < 1e-14
    worst = 0.0
    for jp, kp, j, k in [(1, 1, 0, 0), (0, 0, 1, 1), (2, 2, 1, 1), (1, 2, 1, 2), (0, 3, 1, 2), (0, 1, 2, 3)]:
        v, err = q.entry(jp, kp, j, k)
        worst = max(worst, abs(complex(v) - cm.tensor[jp, kp, j, k]))
        assert err < 1e-15
    assert worst < cm.error_estimate
    assert worst < 1e-11


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize("h,exc,match", [
    ([4.0], ValueError, "sequence of N = 2 values"),
    ([4.0, 4.5, 5.0], ValueError, "got 3 values"),
    ([4.0, -1.0], ValueError, r"h\[1\] \(site 2\) must be > 0"),
    ([4.0, 0.0], ValueError, r"h\[1\] \(site 2\) must be > 0"),
    ([math.nan, 4.0], ValueError, r"h\[0\] \(site 1\) must be finite"),
    ([math.inf, 4.0], ValueError, "finite"),
    ([[4.0, 4.5], [1, 2]], ValueError, "nested"),
    (["abc", 4.0], TypeError, r"h\[0\]"),
    ([True, 4.0], TypeError, r"h\[0\]"),
    (-4.0, ValueError, r"h must be > 0, allowed range \(0, inf\)"),
    ([], ValueError, "got 0 values"),
])
def test_bad_h(h, exc, match):
    with pytest.raises(exc, match=match):
        QubitChain(2, h, 0.1)


def test_detuned_refusals_are_clear():
    from symcoll.observables import local_thermal_ratio, local_thermal_state

    ch = QubitChain(2, [4.0, 4.5], 0.1)
    with pytest.raises(ValueError, match="detuned.*h_sites"):
        ch.h
    with pytest.raises(ValueError, match="detuned"):
        local_thermal_ratio(ch, 0.1)
    with pytest.raises(ValueError, match="uniform chains only"):
        collision_map(ch, BATH, DeltaCoupling(G), kind="global", certified=True)
    # the bombarded qubit's own energy in the local thermal state (73)
    rho = local_thermal_state(ch, 0.1, site=2)
    U = ch.eigensystem().vectors
    loc = U @ rho @ U.T
    assert abs(loc[1, 1] / loc[0, 0] - math.exp(-0.1 * 4.5)) < 1e-14
    # a map of the detuned chain is refused by the uniform one (fingerprint has the per-site h)
    from symcoll.model import check_map_system

    cm = collision_map(ch, BATH, DeltaCoupling(G), kind="global")
    with pytest.raises(ValueError, match="built for"):
        check_map_system(QubitChain(2, 4.0, 0.1), cm)
    assert ch.describe()["h_sites"] == [4.0, 4.5]


def test_evolve_h_list_option():
    import argparse

    from symcoll.evolve import parse_h

    assert parse_h("4") == 4.0 and parse_h("4, 4.5") == [4.0, 4.5]
    with pytest.raises(argparse.ArgumentTypeError, match="--h must be a number or a comma-separated list"):
        parse_h("4,x")


def test_evolve_cli_detuned_runs_and_names_h(capsys):
    from symcoll.cli import main

    assert main(["evolve", "--N", "2", "--h", "4,4.5", "--eps", "0.1", "--map", "global", "--times", "0,10"]) == 0
    out = capsys.readouterr().out
    assert "h=[4.0, 4.5]" in out
    assert main(["evolve", "--N", "3", "--h", "4,4.5"]) == 2
    assert "--h must be one value or a sequence of N = 3 values" in capsys.readouterr().err
