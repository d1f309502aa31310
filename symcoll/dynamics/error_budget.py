"""Error budget of an evolution under Eq. (71): what the map's error and the energies' rounding do.

Per time, on the largest absolute entry of rho(t) (eigenbasis):

* ``map`` (**estimate**; first order in the map's entry error ``e``, itself an estimate for the
  float64 and mpmath maps): the first-order response of the actual trajectory,
  ``max_x sum_ab Gamma e |M_xab(t)|`` with ``M_xab(t) = int_0^t [exp(L(t-s))]_xa [exp(Ls) x]_b ds``
  computed mode by mode from the eigen-decomposition of every invariant block
  (:func:`first_order_response`).  It is the supremum of the first-order change of rho(t) over
  all map errors with ``|dS_ab| <= e`` inside the blocks, so it sees the state's actual size
  and every mode's actual decay instead of ``t``.  The row of the stationary mode (the trace
  functional) uses the exact map's trace preservation: ``1^T dS = delta tau^T``, the computed
  map's own trace defect (:func:`trace_defect`), and, when the propagator sets the stationary
  eigenvalue to 0, only ``delta tau^T (y(s) - y_inf)`` remains (no growth like t).  The
  higher orders are added by Gronwall on top: ``f(t) + expm1(x) max_{s <= t} f(s)`` with ``x`` of
  the norm chain below (:func:`gronwall_higher_orders`; finite at every t).
* ``energies`` (**estimate**): the eigenvalues of H carry rounding ``delta_eps`` (estimated
  ``4 d u max|eps_j|``); ``dL_aa = -i (d eps_j - d eps_k)`` at coherences, first-order response
  as above with weight ``2 delta_eps`` on the coherences only.
* ``rounding`` (**estimate**): first-order perturbation theory of the propagation method
  (:meth:`symcoll.dynamics.propagate.Propagator.propagate`), checked against the
  ``dps = 50`` path in the tests.

The state-independent norm chain (used by ``Lindbladian.map_error_propagated`` without an
initial state, and for the Gronwall factor): ``||dS||_{1->1} <= sqrt(d) d^2 e`` (trace norm
``<= sqrt(d)`` Frobenius, Frobenius of the (d^2, d^2) matrix ``<= d^2 e``); Duhamel's formula with
the true CPTP semigroup (contractive in trace norm) and Gronwall give ``||rho'(t) - rho(t)||_1
<= exp(x) - 1``, ``x = Gamma t ||dS||_{1->1} + 2 t delta_eps`` (a bound when e is a bound).  Proof: with
``T(t) = exp(L t)``, ``||T(t)||_{1->1} <= 1`` (CPTP; on all operators, as ``||.||_{1->1} <= ||.||_diamond = 1``),
the perturbation ``B = Gamma dS - i [dH, .]`` with ``||B||_{1->1} <= a = x/t`` and ``T'`` the perturbed
semigroup, Duhamel's formula ``T'(t) = T(t) + int_0^t T(t - s) B T'(s) ds`` gives for ``u = ||T' - T||``:
``1 + u(t) <= 1 + a int_0^t (1 + u(s)) ds``, so ``1 + u(t) <= exp(a t)`` (Gronwall); equivalently the k-th
Dyson term is at most ``x^k / k!``.  (Until issue 16 the looser ``x/(1 - x) = sum_k x^k`` was used, infinite
for ``x >= 1``: the exact map at N = 7 reaches x = 1 at t = 6.3e6.)

Measured against 30-digit references (tests/test_estimate_honesty.py, N = 2, 3, paper
parameters): estimate / true error 50-800 for states up to t = 1e5, up to ~5e3 when L has a
slow mode (eps = 3e-3) that errors of size e could excite but the actual map error does not;
the norm chain was up to 6e7.
"""
from __future__ import annotations

import math

import numpy as np

from ..budget import ErrorBudget
from .lean_spectrum import LeanSpectrum
from .tolerances import DynamicsTolerances

__all__ = ["map_entry_error", "energy_rounding", "map_norm_11", "propagated_errors", "trace_defect",
           "duhamel_kernel", "first_order_response", "first_order_errors", "first_order_applies",
           "response_flops", "evolution_budget", "gronwall_higher_orders", "expm1_ratio",
           "shares_times_expm1_ratio"]


def map_entry_error(cmap):
    """``(e, rigorous)``: the map's entry error and whether it is a proven bound.

    Reads ``cmap.error`` (an :class:`ErrorBudget`); a duck-typed map with only a float
    ``error_bound`` is taken at its word (a bound).

    Raises
    ------
    ValueError
        The error is not a float >= 0.
    """
    budget = getattr(cmap, "error", None)
    if isinstance(budget, ErrorBudget):
        e, rigorous = budget.total, budget.rigorous
    else:
        e, rigorous = getattr(cmap, "error_bound", 0.0), True
        e = 0.0 if e is None else e
    try:
        e = float(e)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"collision_map's entry error must be a float >= 0 (got {e!r})") from exc
    if not e >= 0:
        raise ValueError(f"collision_map's entry error must be a float >= 0 (got {e!r})")
    return e, bool(rigorous)


def energy_rounding(ctx, energies) -> float:
    """Rounding **estimate** ``delta_eps = 4 d u max(max_j |eps_j|, 1)`` of the eigenvalues of H
    (band-by-band ``eigh`` is backward stable), ``u = ctx.eps``."""
    ef = np.asarray(ctx.to_float(energies), dtype=float)
    return 4.0 * len(ef) * ctx.eps * max(float(np.max(np.abs(ef))), 1.0)


def map_norm_11(d, e) -> float:
    """``||dS||_{1->1} <= sqrt(d) d^2 e`` from the map's entry error ``e`` (see the module doc)."""
    return math.sqrt(d) * d * d * e


def propagated_errors(times, Gamma, norm_11, energy_error, spectrum, split=False):
    """Part of the per-time error from the map's error and the energies' rounding.

    ``x = x_map + x_H`` with ``x_map = Gamma t ||dS||_{1->1}`` (a bound when the map's entry
    error is a bound, else an estimate) and ``x_H = 2 t delta_eps``
    (``||[dH, .]||_{1->1} <= 2 delta_eps``, with ``delta_eps`` a rounding estimate of the
    eigenvalues of H; t is replaced by ``min(t, cond(V) (1 - exp(-gap t)) / gap)`` since
    ``[dH, rho]`` is traceless and decays with the spectral gap of L); the total is
    ``exp(x) - 1`` (Duhamel + Gronwall, module doc), shared as ``x_map g(x)`` and ``x_H g(x)`` with
    ``g(x) = expm1(x)/x``.

    Parameters
    ----------
    times : (T,) float array
    Gamma : float
    norm_11 : float
        :func:`map_norm_11`.
    energy_error : float
        :func:`energy_rounding`.
    spectrum : FloatSpectrum
        Gives the relaxation gap and ``cond(V)``.
    split : bool
        Return the two shares ``(x_map g(x), x_H g(x))`` instead of their sum.
    """
    t = np.asarray(times, dtype=float)
    xm = t * float(Gamma) * norm_11
    # [dH, rho] is traceless: beyond the relaxation time its effect saturates
    # (||exp(L s) X|| <= cond(V) exp(-gap s) ||X|| for traceless X)
    gap = spectrum.relaxation_gap()
    if gap > DynamicsTolerances().relaxation_gap_floor(spectrum.normL):
        teff = np.minimum(t, spectrum.condV * -np.expm1(-gap * t) / gap)
    else:
        teff = t
    xh = teff * 2.0 * energy_error
    fm, fh = shares_times_expm1_ratio(xm, xh)
    return (fm, fh) if split else fm + fh


def shares_times_expm1_ratio(xm, xh):
    """The two shares ``(x_map g, x_H g)``, ``g = expm1(x_map + x_H)/(x_map + x_H)``, of ``exp(x) - 1`` (module doc);
    a zero share stays 0 where ``g`` overflows.  The map share alone is ``>= expm1(x_map)`` (g increases), the bound
    on what dS alone does; how the cross terms are split between the shares is a convention."""
    g = expm1_ratio(np.asarray(xm, dtype=float) + np.asarray(xh, dtype=float))
    with np.errstate(invalid="ignore"):
        return np.where(xm == 0, 0.0, xm * g), np.where(xh == 0, 0.0, xh * g)


def expm1_ratio(x):
    """``expm1(x)/x`` (1 at x = 0, inf where exp(x) overflows) for ``x >= 0``."""
    x = np.asarray(x, dtype=float)
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        return np.where(x == 0, 1.0, np.expm1(x) / np.where(x == 0, 1.0, x))  # NaN stays NaN


def gronwall_higher_orders(f, x, times):
    """First-order response ``f(t)`` plus Gronwall's bound on the higher orders, ``f(t) + expm1(x) max_{s <= t} f(s)``.

    With ``delta`` the full error of the trajectory, ``delta_1`` its first-order part (``f``) and
    ``a = x/t`` the trace-norm size of the perturbation (module doc), Duhamel's formula gives
    ``delta(t) = delta_1(t) + int_0^t T(t - s) B delta(s) ds``, so ``u = ||delta||`` obeys
    ``u(t) <= f(t) + a int_0^t u(s) ds`` and Gronwall's inequality
    ``u(t) <= f(t) + a int_0^t f(s) exp(a (t - s)) ds <= f(t) + (exp(a t) - 1) max_{s <= t} f(s)``.
    The maximum is taken over the requested times up to t (an estimate of the supremum; the mode-wise
    responses of :class:`~symcoll.dynamics.lean_spectrum.LeanSpectrum` increase with t, so there it is
    exact), ``f`` is the largest entry, not the trace norm, and it is the first-order response of the
    computed generator, not of the exact one: the result is an **estimate**.  Where f does not decrease
    it is ``f (1 + expm1(x)) <= f / (1 - x)``, the former factor (issue 16)."""
    f = np.asarray(f, dtype=float)
    order = np.argsort(np.asarray(times, dtype=float), kind="stable")
    fmax = np.empty_like(f)
    fmax[order] = np.maximum.accumulate(f[order])
    with np.errstate(over="ignore", invalid="ignore"):
        return f + np.where(fmax == 0, 0.0, np.expm1(np.asarray(x, dtype=float)) * fmax)


def trace_defect(ctx, tensor) -> np.ndarray:
    """``|delta tau_b|`` per column ``b = j + d k`` of the computed map, plus its evaluation rounding.

    ``delta tau_b = sum_j' S'^{jk}_{j'j'} - delta_jk`` is the trace defect of the computed map
    ``S'`` on ``|j><k|``.  The exact maps (38), (45), (54)-(56) are trace preserving (Kraus form,
    Appendix B), so ``1^T dS = delta tau^T`` exactly for ``dS = S' - S``.  The sum is formed in
    the map's own arithmetic; ``d u sum_j' |S'^{jk}_{j'j'}|`` is added for its rounding (the
    standard bound of a sum of d terms, to first order in u).
    """
    T = np.asarray(tensor)
    d = T.shape[0]
    diag = T[np.arange(d), np.arange(d)]  # [j', j, k] -> S^{jk}_{j'j'}
    tr = diag.sum(axis=0) - np.eye(d)
    tau = np.asarray(ctx.abs_float(tr), dtype=float) + d * ctx.eps * np.asarray(ctx.abs_float(diag), dtype=float).sum(
        axis=0)
    return vec_float(tau)


def vec_float(a):
    """Column stacking of a float (d, d) array (``[j + d k] = a[j, k]``)."""
    return np.asarray(a).T.reshape(-1)


def _expm1_over(w):
    """``(exp(w) - 1) / w`` elementwise (complex, ``Re w <= 0``), 1 at w = 0, stable near 0."""
    w = np.asarray(w, dtype=complex)
    out = np.ones_like(w)
    small = np.abs(w) < 1e-4
    ws = w[small]
    out[small] = 1 + ws / 2 + ws * ws / 6
    wl = w[~small]
    out[~small] = (np.exp(wl) - 1) / wl
    return out


def duhamel_kernel(lam, t):
    """``phi_ij(t) = int_0^t exp(lam_i (t - s)) exp(lam_j s) ds`` (divided difference of exp).

    Evaluated as ``t exp(a t) (exp(w) - 1)/w`` with ``a`` the eigenvalue of larger real part
    and ``w = (b - a) t``, ``Re w <= 0``: no overflow, no cancellation.
    """
    li = lam[:, None]
    lj = lam[None, :]
    first = np.real(li) >= np.real(lj)
    a = np.where(first, li, lj)
    b = np.where(first, lj, li)
    t = np.asarray(t, dtype=float)
    if t.ndim:  # (T,) times -> (T, n, n)
        t = t[:, None, None]
    return t * np.exp(a * t) * _expm1_over((b - a) * t)


def _abs_integral(lam, t):
    """``int_0^t |exp(lam s)| ds = t (exp(Re lam t) - 1)/(Re lam t)`` (``<= min(t, 1/|Re lam|)``);
    ``(T, n)`` for ``(T,)`` times ``t`` and ``(n,)`` eigenvalues."""
    t = np.asarray(t, dtype=float)[:, None]
    return t * np.real(_expm1_over(np.minimum(np.real(lam), 0.0)[None, :] * t))


FULL_TENSOR_MAX_BLOCK = 128
"""Blocks of L up to this size may get the full first-order response ``sum_ab |M_xab|`` (cost
``nb^4`` per time); larger blocks the triangle inequality over modes (cost ``nb^2`` per time,
measured 2-3x larger on N = 2, 3)."""

FULL_RESPONSE_BUDGET = 2.5e9
"""Most ``sum nb^4 * len(times)`` spent on full responses (smallest blocks first; ~1-2 s): N = 3
exact at 141 times fits, the many blocks of N >= 5 global maps fall back to the triangle bound."""


RESPONSE_FLOP_BUDGET = 1.0e12
"""Most real floating-point operations :func:`first_order_response` spends on exact responses (``~8 nb^3``
per block and time: two ``(nb, nb)`` products per time; ~2 min of one core), smallest blocks first.
Blocks beyond it get the mode-wise bound :func:`_modewise_response` (``O(nb^2)`` per time; never
smaller than the exact response).  N = 5 exact at 141 times (blocks of at most 1024: ~1.5e11) stays
exact; N = 6 exact (one block of 4096: ~8e13, and (141, 4096, 4096) arrays of 35 GiB before the chunking)
takes the mode-wise bound."""

RESPONSE_CHUNK_BYTES = 256 * 2**20
"""Largest ``(times, nb, nb)`` complex work array of :func:`first_order_response` (it works through
the times in chunks of this size; each of its three such arrays)."""


def response_flops(spectrum, n_times) -> float:
    """Real flops of the exact :func:`first_order_response` for ``n_times`` times: ``8 nb^3`` per block and time."""
    return float(sum(8.0 * float(len(bk.idx)) ** 3 for bk in spectrum.blocks)) * n_times


def first_order_applies(spectrum) -> bool:
    """Whether :func:`first_order_errors` uses the first-order response (else the norm chain): a safe
    eigen-decomposition (every block's V invertible, ``cond_2(V)`` below ``COND_V_MAX``)."""
    return bool(spectrum.invertible and DynamicsTolerances.eig_is_safe(spectrum.condV))


def _exact_blocks(spectrum, n_times):
    """Which blocks get the exact response under :data:`RESPONSE_FLOP_BUDGET` (smallest first)."""
    sizes = [len(bk.idx) for bk in spectrum.blocks]
    exact = [False] * len(sizes)
    spent = 0.0
    for b in sorted(range(len(sizes)), key=lambda k: sizes[k]):
        cost = 8.0 * float(sizes[b]) ** 3 * n_times
        if spent + cost <= RESPONSE_FLOP_BUDGET:
            exact[b] = True
            spent += cost
    return exact


def _min_kernel_sums(I, w, order):
    """``u[t, i] = sum_j min(I[t, i], I[t, j]) w_j`` for ``(T, n)`` values ``I`` ascending in j along ``order`` at
    every t (``I_j(t)`` decreases with the decay rate of mode j), in ``O(T n)``: in that order
    ``u_i = sum_{l <= p_i} I_l w_l + I_i sum_{l > p_i} w_l`` at the position ``p_i`` of i (ties: equal terms)."""
    Is, ws = I[:, order], w[order]
    head = np.cumsum(Is * ws[None, :], axis=1)
    tail = ws.sum() - np.cumsum(ws)
    u = np.empty_like(I)
    u[:, order] = head + Is * tail[None, :]
    return u


def _modewise_response(lam, V, W, Wg, c, od, T):
    """Mode-wise upper bounds of the two responses of :func:`first_order_response` for one block (unweighted).

    ``|phi_ij(t)| <= int_0^t e^{Re lam_i (t-s)} e^{Re lam_j s} ds <= min(I_i(t), I_j(t))`` with
    ``I_k(t) = int_0^t e^{Re lam_k s} ds`` (both exponentials <= 1 for ``Re lam <= 0``; a rounding-level
    positive real part is taken as 0), so with ``r_i = sum_a |Wg_ia|``, ``s_j = sum_b |V_bj|``:
    ``sum_ab |M_xab| <= sum_i |V_xi| r_i sum_j min(I_i, I_j) |c_j| s_j`` (triangle inequality in i, j, a, b);
    and for the energies ``sum_a od_a |sum_i V_xi W_ia B_ia| <= sum_i |V_xi| (sum_a od_a |W_ia|) sum_j
    min(I_i, I_j) |c_j| max_a |V_aj|``.  ``O(T nb^2)`` (one ``(T, nb) x (nb, nb)`` product each) instead of
    ``O(T nb^3)``; never below the exact response (tests/test_estimate_honesty.py)."""
    aV = np.abs(V)
    I = _abs_integral(lam, T)  # (T, nb)
    order = np.argsort(np.minimum(np.real(lam), 0.0), kind="stable")  # fastest decay first: I ascending
    um = _min_kernel_sums(I, np.abs(c) * aV.sum(axis=0), order)
    uh = _min_kernel_sums(I, np.abs(c) * aV.max(axis=0), order)
    resp_map = (um * np.abs(Wg).sum(axis=1)[None, :]) @ aV.T
    resp_en = (uh * (np.abs(W) @ od)[None, :]) @ aV.T
    return resp_map, resp_en


def _full_blocks(spectrum, n_times):
    """Which blocks get the full response under :data:`FULL_RESPONSE_BUDGET`."""
    sizes = [len(bk.idx) for bk in spectrum.blocks]
    full = [False] * len(sizes)
    spent = 0.0
    for b in sorted(range(len(sizes)), key=lambda k: sizes[k]):
        cost = float(sizes[b]) ** 4 * n_times
        if sizes[b] <= FULL_TENSOR_MAX_BLOCK and spent + cost <= FULL_RESPONSE_BUDGET:
            full[b] = True
            spent += cost
    return full


def first_order_response(spectrum, x, times, map_weight, energy_weight, tau=None, snapped=False,
                         offdiag=None):
    """First-order response of ``vec rho(t) = exp(L t) x`` to entrywise-bounded perturbations of L.

    For a perturbation ``dL`` of the generator, Duhamel's formula gives to first order
    ``d x(t) = int_0^t exp(L (t - s)) dL exp(L s) x ds``; with ``L = V diag(lam) V^{-1}``
    (``W = V^{-1}``, ``c = W x``), per entry::

        d x_x(t) = sum_ab dL_ab M_xab(t),
        M_xab(t) = sum_ij V_xi W_ia phi_ij(t) V_bj c_j      (:func:`duhamel_kernel`).

    If ``|dL_ab| <= B_ab`` then ``|d x_x(t)| <= sum_ab B_ab |M_xab(t)|``: this sees the actual
    state (a perturbation acting on a small or decayed component does little) and the actual
    decay of every mode (``|phi_ij| <= min(t, 1/|Re lam|)``-like instead of ``t``).

    Two perturbations (Eq. (71): ``L = -i[H, .] + Gamma (S - I)``):

    * the map, ``dL = Gamma dS`` with ``|dS_ab| <= map_weight`` for a, b in one invariant block
      (the exact map has the same zero pattern as the computed one: the selection rules of (45)
      and (54)-(56) are exact);
    * the energies, ``dL_aa = -i (d eps_j - d eps_k)`` at ``a = j + d k``, bounded by
      ``energy_weight`` (``2 delta_eps``) for ``j != k`` and 0 for the populations.

    Trace preservation: the exact maps are trace preserving, so the component of ``dS y`` along
    the stationary left eigenvector (the trace functional) is ``delta tau^T y`` (``tau``: see
    :func:`trace_defect`), not ``map_weight * sum |y|``.  When the propagator sets the
    stationary eigenvalue to exactly 0 (``snapped``), the constant part ``delta tau^T rho_ss``
    (a first-order shift of that eigenvalue, growing like t) is removed as well, leaving
    ``|rho_ss,x| Gamma sum_b tau_b int_0^t |y_b(s) - rho_ss,b| ds``.

    Parameters
    ----------
    spectrum : FloatSpectrum
    x : (n,) complex array
        ``vec rho(0)`` (eigenbasis).
    times : (T,) float array
    map_weight : float
        ``Gamma e`` with e the map's entry error.
    energy_weight : float
        ``2 delta_eps``.
    tau : (n,) float array or None
        ``Gamma |delta tau_b|`` (None: no trace preservation used, the stationary row is treated
        like the others).
    snapped : bool
        The propagator set the stationary eigenvalue to 0.
    offdiag : (n,) bool array
        Positions ``j + d k`` with ``j != k``.

    Returns
    -------
    (map_share, energy_share) : two (T,) float arrays
        ``max_x`` of each first-order response (max-abs entry of rho(t)).
    """
    T = np.asarray(times, dtype=float)
    n = len(x)
    fm = np.zeros((len(T), n))
    fh = np.zeros((len(T), n))
    xc = np.asarray(x, dtype=complex)
    full = _full_blocks(spectrum, len(T))
    exact = _exact_blocks(spectrum, len(T))
    for b, bk in enumerate(spectrum.blocks):
        idx, lam, V = bk.idx, bk.lam.copy(), bk.V
        W = bk.Vinv if bk.Vinv is not None else np.linalg.pinv(V)
        nb = len(idx)
        c = W @ xc[idx]
        j0 = spectrum.j0 if b == spectrum.b0 else None
        if j0 is not None and snapped:
            lam[j0] = 0.0
        Wg = W.copy()
        use_tau = j0 is not None and tau is not None
        if use_tau:
            Wg[j0, :] = 0.0  # the stationary row is handled by the trace defect below
        od = offdiag[idx].astype(float)
        if not exact[b]:  # beyond RESPONSE_FLOP_BUDGET: the mode-wise bound, O(T nb^2)
            rm, rh = _modewise_response(lam, V, W, Wg, c, od, T)
            fh[:, idx] = energy_weight * rh
            fm[:, idx] = map_weight * rm
        else:
            step = max(1, RESPONSE_CHUNK_BYTES // (16 * nb * nb))  # times per chunk: (step, nb, nb) arrays
            for lo in range(0, len(T), step):
                sl = slice(lo, lo + step)
                phi = duhamel_kernel(lam, T[sl])  # (chunk, nb, nb)
                Bm = (phi * c[None, None, :]) @ V.T  # B[t, i, b] = sum_j phi_ij(t) c_j V_bj
                del phi
                # energies: dL diagonal on the coherences a: sum_a |sum_i V_xi W_ia B_ia| 2 delta_eps
                Tdiag = V[None] @ (W[None] * Bm)
                fh[sl, idx] = energy_weight * (np.abs(Tdiag) @ od)
                del Tdiag
                if map_weight > 0:
                    if full[b]:  # sum_ab |M_xab|, one time at a time (nb^3 memory)
                        for a_t in range(Bm.shape[0]):
                            K = (Wg[:, :, None] * Bm[a_t][:, None, :]).reshape(nb, nb * nb)
                            fm[lo + a_t, idx] = map_weight * np.abs(V @ K).sum(axis=1)
                    else:  # sum_ab |sum_i V_xi W_ia B_ib| <= sum_i |V_xi| (sum_a |W_ia|) (sum_b |B_ib|)
                        fm[sl, idx] = map_weight * ((np.abs(Wg).sum(axis=1)[None, :] * np.abs(Bm).sum(axis=2))
                                                    @ np.abs(V).T)
        if use_tau:
            amp = np.abs(V * c[None, :])
            if snapped:  # int_0^t |y_b(s) - y_b(inf)| ds <= sum_{j != j0} |V_bj c_j| int |exp(lam_j s)| ds
                amp[:, j0] = 0.0
            integ = _abs_integral(lam, T) @ amp.T  # (T, nb): int_0^t |y_b(s) (- y_b(inf))| ds
            # row j0 of W is the trace functional over 1^T v_j0: its term is
            # V_x,j0 W_j0,a (dS y)_a summed over a = |V_x,j0 w| delta tau^T (y - y_inf)
            fm[:, idx] += np.outer(integ @ tau[idx], np.abs(V[:, j0]) * np.abs(W[j0, :]).max())
    return fm.max(axis=1), fh.max(axis=1)


def first_order_errors(generator, times, x0, snapped=False, split=False):
    """Map and energies shares of an evolution's error from :func:`first_order_response`.

    Falls back to :func:`propagated_errors` when an eigenvector matrix of L is singular or has
    ``cond_2(V) > COND_V_MAX`` (where ``method="auto"`` switches to ``"expm"`` too;
    :func:`first_order_applies`).  Blocks beyond :data:`RESPONSE_FLOP_BUDGET` get the mode-wise bound.

    ``map_weight = Gamma e`` (e the map's entry error), ``energy_weight = 2 delta_eps``,
    ``tau = Gamma |delta tau|`` (:func:`trace_defect`); each share gets Gronwall's higher orders
    (:func:`gronwall_higher_orders`, with ``x`` of the norm chain of :func:`propagated_errors`).
    """
    g = generator
    d = g.d
    t = np.asarray(times, dtype=float)
    Gam = float(g.Gamma_param)
    spec = g.spectrum()
    if not first_order_applies(spec):
        # near-defective L (the mode expansion is not trustworthy) or too large: the state-independent chain
        return propagated_errors(t, Gam, map_norm_11(d, g.map_error), g.energy_error, spec, split)
    # |delta tau_b| <= d e as well (a column sum of d entries of dS): e = 0 means no trace defect
    tau = Gam * np.minimum(trace_defect(g.ctx, g.tensor), d * g.map_error)
    offdiag = vec_float(~np.eye(d, dtype=bool))
    if isinstance(spec, LeanSpectrum):  # one block, the mode-wise bound from chunks of |V| and |V^-1|
        fm, fh = spec.first_order_response(x0, t, Gam * g.map_error, 2.0 * g.energy_error, tau, snapped, offdiag)
    else:
        fm, fh = first_order_response(spec, x0, t, Gam * g.map_error, 2.0 * g.energy_error, tau, snapped, offdiag)
    x = t * Gam * map_norm_11(d, g.map_error) + 2.0 * t * g.energy_error
    fm, fh = gronwall_higher_orders(fm, x, t), gronwall_higher_orders(fh, x, t)
    return (fm, fh) if split else fm + fh


def evolution_budget(map_share, energies_share, rounding, map_rigorous, first_order=False) -> ErrorBudget:
    """The :class:`ErrorBudget` of an :class:`~symcoll.dynamics.Evolution`: ``map``, ``energies``
    (the two shares of :func:`first_order_errors` when ``first_order``, else of
    :func:`propagated_errors`) and the propagator's ``rounding`` estimate.

    The first-order map share is an estimate even for a map whose error is a proven bound (it
    drops second order beyond the Gronwall factor and uses a float64 eigen-decomposition)."""
    if first_order and map_rigorous and not np.any(np.asarray(map_share)):
        map_part = (map_share, "bound", "the map's proven entry error is 0: no map error to propagate")
        en_note = ("eigenvalues of H to ~4 d u max|eps_j|: first-order response to dL_aa = -i(d eps_j - d eps_k) "
                   "on the coherences of the trajectory")
    elif first_order:
        map_part = (map_share, "estimate",
                    "first-order response of the trajectory to map errors |dS_ab| <= e within the invariant "
                    "blocks (Duhamel kernel per eigenmode, or its mode-wise bound |phi_ij| <= min(I_i, I_j) for "
                    "blocks beyond RESPONSE_FLOP_BUDGET; stationary row from the computed map's trace defect), "
                    "plus Gronwall's higher orders expm1(x) max_{s <= t} (first order), x = Gamma t sqrt(d) d^2 e "
                    "+ 2 t delta_eps; e is the map's error "
                    + ("bound" if map_rigorous else "estimate"))
        en_note = ("eigenvalues of H to ~4 d u max|eps_j|: first-order response to dL_aa = -i(d eps_j - d eps_k) "
                   "on the coherences of the trajectory")
    else:
        map_part = (map_share, "bound" if map_rigorous else "estimate",
                    "map entries via ||dS||_1->1 <= sqrt(d) d^2 e, Duhamel + Gronwall; "
                    + ("e is the map's proven bound" if map_rigorous
                       else "e is the map's error estimate, so this is an estimate"))
        en_note = "eigenvalues of H to ~4 d u max|eps_j|, dephasing 2 delta_eps min(t, cond(V)/gap)"
    return ErrorBudget({
        "map": map_part,
        "energies": (energies_share, "estimate", en_note),
        "rounding": (np.asarray(rounding, dtype=float), "estimate",
                     "first-order perturbation theory of the propagation method"),
    })
