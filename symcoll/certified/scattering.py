"""The (C1)-(C2) solve in Arb ball arithmetic (python-flint): s-matrices as enclosures.

For a unit of mass m hitting a system through ``g V delta(x)`` (Eq. (65)), in the eigenbasis
of H with channel energies ``eps_j`` and ``hbar = 1`` (:data:`symcoll.conventions.HBAR`),

    s^(+)(E) = K^{1/2} (K + i m g V)^{-1} K^{1/2},       K = diag(sqrt(2 m (E - eps_j)))     (C1)
    s^(-)(E) = s^(+)(E) - I   on the open channels                                           (C2)

(the threshold-safe second form of (C1) in :mod:`symcoll.scattering`).  Closed channels
(``eps_j > E``) take the evanescent branch ``K_j = +i sqrt(2 m (eps_j - E))`` inside the solve
(DESIGN.md "Branch pitfall") and their rows and columns of s are then exactly 0, as in
:class:`symcoll.scattering.Scattering`.

Why every entry is an enclosure (proof).  Let the inputs be balls (exact for ints, floats,
Fractions; the given radius for arb/acb).  (i) ``X_j = 2 m (E - eps_j)`` is computed with Arb's
ball operations, each of which returns a ball containing the exact result for every point of
its operands, so the ball ``X_j`` contains the exact ``X_j`` for every point of the inputs.
(ii) The open/closed decision is made only when the whole ball ``X_j`` lies in ``[0, inf)`` or
in ``(-inf, 0)`` (otherwise ValueError), so the decision holds for every point of the inputs.
(iii) ``K_j`` is the arb target's ``_arb_csqrt`` (:func:`symcoll.kernels.arb_runtime`): the
branch of (ii) with Arb's square root, or ``exp(i pi/4) sqrt(-i X)`` which equals the
convention at every real point; either way an enclosure.  ``K_j^{1/2}`` on open channels is the
square root of a real ball >= 0 (enclosure).  (iv) ``A = K + i m g V`` is formed entrywise in
balls; ``acb_mat.solve(A, B)`` returns a ball matrix containing ``A'^{-1} B'`` for every point
matrix ``A'`` of A and ``B'`` of B, having proved every such ``A'`` invertible, or raises
``ZeroDivisionError`` (Arb's contract; we turn it into ValueError).  (v) The product with
``K^{1/2}`` and the subtraction of I are ball operations.  Hence each returned entry contains
the exact (C1)/(C2) value at every point of the input balls.  No float64 step occurs.
"""
from __future__ import annotations

from ..kernels import arb_runtime

__all__ = ["s_matrices_ball"]


def _flint():
    import flint

    return flint


def _ball_matrix(V_eig, d):
    flint = _flint()
    if isinstance(V_eig, flint.arb_mat):
        V = flint.acb_mat(V_eig)
    elif isinstance(V_eig, flint.acb_mat):
        V = V_eig
    else:
        raise TypeError(f"V_eig must be a python-flint acb_mat or arb_mat (got {type(V_eig).__name__}); "
                        "build it with flint.acb_mat(rows) from exact numbers or balls")
    if V.nrows() != d or V.ncols() != d:
        raise ValueError(f"V_eig must be {d} x {d} to match the {d} channel energies (got {V.nrows()} x {V.ncols()})")
    for i in range(d):
        for j in range(d):
            if not V[i, j].is_finite():
                raise ValueError(f"V_eig[{i}, {j}] must be finite (got {V[i, j]})")
    return V


def s_matrices_ball(energies, V_eig, m, g, E, prec=None):
    """``(s^(+), s^(-), is_open)`` at one total energy E, Eqs. (C1)-(C2), in Arb balls.

    Parameters
    ----------
    energies : sequence of arb (or exact numbers)
        Channel energies ``eps_j``: the eigenvalues of H (any order; the s-matrices use the same).
    V_eig : flint.acb_mat or flint.arb_mat (d x d)
        The coupling operator V of (65) in the same eigenbasis.
    m : number or arb
        Mass of the incident units, certainly > 0.
    g : number or arb
        Coupling strength of (65), real.
    E : number, arb or acb
        Total energy.  A complex E gives the analytic continuation of s^(+) (open pattern from Re E;
        closed channels ``K = exp(i pi/4) sqrt(-i X)``), e.g. for quadrature on Bernstein ellipses.
    prec : int or None
        Working precision in bits for this call (None: the current ``flint.ctx.prec``).

    Returns
    -------
    s_plus, s_minus : flint.acb_mat (d x d)
        Balls containing ``s^(+)_{kj}(E)`` and ``s^(-)_{kj}(E)``; rows and columns of closed channels
        are exactly 0 (as in :class:`symcoll.scattering.Scattering`).
    is_open : list of bool
        ``is_open[j]``: channel j is open, ``E >= eps_j`` (decided for the whole ball).

    Raises
    ------
    ValueError
        A channel whose openness cannot be decided (the ball ``E - eps_j`` contains 0), m not certainly
        > 0, a non-real m, g or eps_j, a V_eig of the wrong size, or ``K + i m g V`` not provably
        invertible at this precision.
    TypeError
        V_eig not a flint matrix, or a number of an unsupported type.
    """
    flint = _flint()
    rt = arb_runtime()
    with rt["_arb_prec"](prec):
        try:
            eps = list(energies)
        except TypeError:
            raise TypeError(f"energies must be a sequence of channel energies (got {type(energies).__name__})") from None
        d = len(eps)
        if d == 0:
            raise ValueError("energies must hold at least one channel energy (got an empty sequence)")
        eps = [rt["_arb_num"](f"energies[{j}]", e, (), ()) for j, e in enumerate(eps)]
        V = _ball_matrix(V_eig, d)
        m_ = rt["_arb_num"]("m", m, ("m",), ())
        g_ = rt["_arb_num"]("g", g, (), ())
        E_ = rt["_arb_num"]("E", E, (), ())
        X = [2 * m_ * (E_ - e) for e in eps]  # 2 m (E - eps_j), hbar = 1
        is_open = []
        for j, x in enumerate(X):
            r = x.real
            if r >= 0:
                is_open.append(True)
            elif r < 0:
                is_open.append(False)
            else:
                raise ValueError(
                    f"E is within its ball radius of the threshold of channel {j} (eps_{j} = {eps[j].real}): "
                    f"E - eps_{j} = {(E_ - eps[j]).real} contains 0, so whether channel {j} is open cannot be "
                    "decided; move E off the threshold, narrow the input balls or raise the precision")
        K = [rt["_arb_csqrt"](x) for x in X]  # closed channels: +i sqrt(|X|) (evanescent)
        Kh = [K[j].sqrt() if is_open[j] else flint.acb(0) for j in range(d)]  # K^{1/2}, 0 on closed channels
        img = flint.acb(0, 1) * m_ * g_
        A = flint.acb_mat([[(K[i] if i == j else 0) + img * V[i, j] for j in range(d)] for i in range(d)])
        B = flint.acb_mat([[Kh[i] if i == j else 0 for j in range(d)] for i in range(d)])
        try:
            Y = A.solve(B)  # (K + i m g V)^{-1} K^{1/2}
        except ZeroDivisionError:
            raise ValueError(
                f"K + i m g V could not be proven invertible at {flint.ctx.prec} bits (E = {E_}); raise the "
                "precision (prec=...) or narrow the input balls") from None
        zero = flint.acb(0)
        sp = [[Kh[k] * Y[k, j] if (is_open[k] and is_open[j]) else zero for j in range(d)] for k in range(d)]
        sm = [[sp[k][j] - 1 if (k == j and is_open[k]) else sp[k][j] for j in range(d)] for k in range(d)]
        return flint.acb_mat(sp), flint.acb_mat(sm), is_open
