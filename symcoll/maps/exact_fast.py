"""A faster engine for the exact map (38) in float64 (issue 16): interpolated rows, folded alpha sum, GK15.

Profile of the solved engine (:class:`~symcoll.maps.exact.ExactEngine`, N = 5, one BLAS thread):
13 s, of which 8.3 s accumulate the ``D x D`` sums (``D = d^2``), 1.2 s solve (C1); at N = 6 the
solves grow to ~50 s and the accumulation to ~330 s.  The accumulation is ``n_nodes D^2`` complex
multiply-adds whatever is done, so this engine cuts the number of node terms and the cost of each:

* **alpha folded** (C2): ``a^(+) = a^(-) + delta`` (delta = 1 on the diagonal pairs (j, j), all in
  the Bohr class Delta = 0, always open for E > 0), so
  ``sum_alpha a^alpha_A a^alpha*_B = 2 a^-_A a^-*_B + a^-_A delta_B + delta_A a^-*_B + delta_A delta_B``:
  one product of inner dimension n instead of 2n, plus a vector added to the d diagonal rows, one
  to the d diagonal columns and a constant to their crossing (:meth:`FastExactEngine._accumulate`);
* **pairs sorted by Bohr class**: the weight of (38) depends on a pair only through its Bohr
  frequency, so the rows of one class are one contiguous block, written by one matrix product;
* **the Hermitian H = T1 + T1^H accumulated directly** (round 2): the entry of (38) is
  ``(beta/2)(T1 + T1^H)`` and ``T1 + T1^H = sum_n W_n e^{X_AB} (p_A + p_B) sum_alpha Z^alpha_A Z^alpha*_B``
  (e^X is symmetric in A, B), so only the upper block triangle (row class c, column classes >= c)
  is formed and :meth:`FastExactEngine.finalize` mirrors it: half the products;
* **in place** (round 2): each class block of fine sums goes into the running sum while it is in
  cache (no ``D x D`` panel buffer; a rejected panel is subtracted again, :meth:`FastExactEngine.undo`),
  and the ``(n, U, U)`` weights are formed one row class at a time: two ``D x D`` arrays at most
  (:func:`symcoll.maps.memory.estimate_memory` with ``interpolate=True``);
* **Gauss-Kronrod (G10, K21)**, then bisection (:func:`fast_rule_pair`); a (G7, K15) first rung is
  available but off (``FIRST_RULE``: at N = 4 it failed on 29 of 59 panels, so it cost more than it saved);
* **closed classes skipped** (round 3): a pair (j', l) is open for E > eps_l - eps_j'; the classes are in
  ascending Delta, so those closed on a whole panel (p = 0 at every node, Z = 0 exactly) are a prefix whose
  rows, columns and class-pair sums are exact zeros: the class loop starts after them
  (:meth:`FastExactEngine.first_open_class`, ``SKIP_CLOSED``; bit-identical result, ~0.68 of the pair work
  at N = 6);
* **rows interpolated in the total energy** (:class:`symcoll.interpolation.RowInterpolant`, as the
  narrow kinds): no (C1) solve at the quadrature nodes.  The weight of (38) couples two pairs at
  different momenta, so the row error is propagated through the integrand node by node
  (:meth:`FastExactEngine._interp_error`), not with the narrow kinds' weight bound.
"""
from __future__ import annotations

import numpy as np

from ..quadrature import rule_pair
from ..scattering import channel_wave_numbers
from .exact import ExactEngine

__all__ = ["FastExactEngine", "fast_rule_pair"]

# Gauss-Kronrod (G7, K15) on [-1, 1], QUADPACK's table (qk15): nodes descending to 0, K15 and G7 weights
_XGK15 = (0.991455371120812639206854697526329, 0.949107912342758524526189684047851,
          0.864864423359769072789712788640926, 0.741531185599394439863864773280788,
          0.586087235467691130294144838258730, 0.405845151377397166906606412076961,
          0.207784955007898467600689403773245, 0.0)
_WGK15 = (0.022935322010529224963732008058970, 0.063092092629978553290700663189204,
          0.104790010322250183839876322541518, 0.140653259715525918745189590510238,
          0.169004726639267902826583426598550, 0.190350578064785409913256402421014,
          0.204432940075298892414161999234649, 0.209482141084727828012999174891714)
_WG7 = (0.129484966168869693270611432679082, 0.279705391489276667901467771423780,
        0.381830050505118944950369775488975, 0.417959183673469387755102040816327)

_GK15 = None


def _gk15_01():
    """(G7, K15) nodes on [0, 1] and the weights ``(15, 2)``: column 0 K15, column 1 G7 (zero off its nodes)."""
    xh = np.array(_XGK15)
    x = np.concatenate([xh, -xh[-2::-1]])
    wk = np.concatenate([_WGK15, _WGK15[-2::-1]])
    wgh = np.zeros(8)
    wgh[1::2] = _WG7
    wg = np.concatenate([wgh, wgh[-2::-1]])
    return (x + 1) / 2, np.stack([wk / 2, wg / 2], axis=1)


def fast_rule_pair(ctx, level):
    """Rule ladder of :class:`FastExactEngine`: level 0 (G7, K15), level 1 (G10, K21), then None (bisect).

    As in :func:`symcoll.quadrature.rule_pair`, the finer rule is returned and ``|fine - coarse|`` is
    the error *estimate* (of the coarser rule, hence conservative for the finer one).
    """
    global _GK15
    if level == 0 and FIRST_RULE == "gk15":
        if _GK15 is None:
            _GK15 = _gk15_01()
        return _GK15
    if level == 0 or (level == 1 and FIRST_RULE == "gk15"):
        global _GK21_SORTED
        if _GK21_SORTED is None:
            t, W = rule_pair(ctx, 0)
            order = np.argsort(W[:, 1] == 0, kind="stable")  # the coarse rule's nodes first (views, no copies)
            _GK21_SORTED = (t[order], W[order])
        return _GK21_SORTED
    return None


_GK21_SORTED = None


FIRST_RULE = "gk21"
"""First rule pair of :func:`fast_rule_pair`: ``"gk21"`` (G10, K21) or ``"gk15"`` (G7, K15, then K21).
Measured at N = 4, tol 1e-12: (G7, K15) failed on 29 of 59 panels (|K15 - G7| ~ 1e-14 ... 1e-11 where
K21 - G10 gives ~1e-17), so starting with it cost more node terms (22 + 0.42 * 31 > 31)."""


SKIP_CLOSED = True
"""Skip the Bohr classes closed on the whole panel (:meth:`FastExactEngine.first_open_class`, round 3): their
sums are exact zeros, so the result is the same to the last bit; False runs the full class loop (tests)."""


XU_CACHE_BYTES = 64 * 2**20
"""Largest ``(n, U, U)`` array of class-pair weights e^X formed at once per panel (else row class by row class)."""


CLASS_WORKERS = None
"""Threads over the row classes of a panel (:meth:`FastExactEngine._accumulate`; each class block is a row block of
the running sum, so the threads write disjoint rows and the result is bit-identical) and over the two node halves of
the class-pair sums (:func:`_class_pair_sums_halves`).  None (default): two if the process may run on two or more
CPUs, else one; an integer fixes it; the environment variable ``SYMCOLL_MAP_THREADS`` overrides both.  BLAS stays at
one thread per worker (:class:`symcoll.maps.integrate._blas_threads`).  Measured on the 2-core machine, idle: a warm
all-open panel at N = 7 takes 1.9-2.1 s with two workers against 3.3-3.5 s serial (README_derivations, "Exact map at
N = 7 in threads")."""

SPLIT_MIN_D = 4096
"""Panels of maps with fewer pairs ``D = d^2`` than this stay serial (N <= 5: thread start-up and the GIL cost more
than they save)."""


def _workers():
    """Worker threads of a panel: ``SYMCOLL_MAP_THREADS`` if set, else :data:`CLASS_WORKERS`, else two on a machine
    where this process may use two or more CPUs (``os.sched_getaffinity``), else one."""
    import os

    raw = os.environ.get("SYMCOLL_MAP_THREADS")
    if raw is None:
        if CLASS_WORKERS is not None:
            return int(CLASS_WORKERS)
        try:
            cpus = len(os.sched_getaffinity(0))
        except AttributeError:  # not on Linux
            cpus = os.cpu_count() or 1
        return min(2, cpus)
    try:
        k = int(raw)
    except ValueError:
        raise ValueError(f"SYMCOLL_MAP_THREADS must be a positive integer (got {raw!r})") from None
    if k < 1:
        raise ValueError(f"SYMCOLL_MAP_THREADS must be a positive integer (got {raw!r})")
    return k


def _run_split(fn, classes, sizes, starts, D):
    """``[fn(part) for part in parts]``: the classes dealt to :func:`_workers` threads in contiguous runs of equal
    work (class c costs ``size_c (D - start_c)`` products), serially for one worker or small maps."""
    classes = list(classes)
    k = _workers()
    if k <= 1 or D < SPLIT_MIN_D or len(classes) < 2 * k:
        return [fn(classes)]
    from concurrent.futures import ThreadPoolExecutor

    work = np.array([sizes[c] * (D - starts[c]) for c in classes], dtype=float)
    cum = np.cumsum(work)
    cuts = np.searchsorted(cum, cum[-1] * np.arange(1, k) / k)
    parts = [p for p in np.split(np.array(classes), cuts) if len(p)]
    with ThreadPoolExecutor(max_workers=len(parts)) as ex:
        return list(ex.map(fn, parts))


def _class_pair_sums(Xu, Pc, w0, mU, mV, mZ, kb, ks):
    """Per class pair (c, c'): ``sum_n w0_n e^{X_n(c, c')} mU_n(c) mV_n(c')`` (magnitude, rounding estimate) and
    ``sum_n w0_n e^{X_n(c, c')} p_n(c) (mZ(c) mV(c') + mV(c) mZ(c') + mZ(c) mZ(c'))`` (propagated row error,
    :meth:`FastExactEngine.interp_error`); node by node with ``(U, U)`` buffers (``Xu`` None: e^X of
    (38)+(41) formed per node).  The second sum is evaluated as
    ``w0 p mZ(c) (mV + mZ)(c') + w0 p mV(c) mZ(c')`` (the same terms, regrouped: two outer products instead of
    three, no temporaries; round 3)."""
    n, U = Pc.shape
    absT1 = np.zeros((U, U))
    pend = np.zeros((U, U))
    t = np.empty((U, U))
    t2 = np.empty((U, U))
    a1 = w0[:, None] * mU
    a2 = w0[:, None] * Pc * mZ
    a3 = w0[:, None] * Pc * mV
    b2 = mV + mZ
    for i in range(n):
        if Xu is not None:
            Xi = Xu[i]
        else:
            sm = Pc[i][:, None] + Pc[i][None, :]
            df = Pc[i][:, None] - Pc[i][None, :]
            Xi = np.exp(sm * sm * kb - df * df * ks)
        np.multiply(a1[i][:, None], mV[i][None, :], out=t)
        t *= Xi
        absT1 += t
        np.multiply(a2[i][:, None], b2[i][None, :], out=t)
        np.multiply(a3[i][:, None], mZ[i][None, :], out=t2)
        t += t2
        t *= Xi
        pend += t
    return absT1, pend


def _class_pair_sums_halves(Xu, Pc, w0, mU, mV, mZ, kb, ks, D):
    """:func:`_class_pair_sums` as the sum of its two node halves (nodes ``[0, n/2)`` and ``[n/2, n)``), run in two
    threads when :func:`_workers` allows it and ``D >=`` :data:`SPLIT_MIN_D` (numpy releases the GIL in the
    ``(U, U)`` passes; ~0.4 s of a 3.4 s panel at N = 7 when serial).  The halves are always summed in this order, so
    the result does not depend on the number of threads."""
    n = Pc.shape[0]
    h = (n + 1) // 2
    parts = [slice(0, h), slice(h, n)]

    def run(sl):
        return _class_pair_sums(None if Xu is None else Xu[sl], Pc[sl], w0[sl], mU[sl], mV[sl], mZ[sl], kb, ks)

    if _workers() >= 2 and D >= SPLIT_MIN_D and n > 1:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(max_workers=2) as ex:
            (a0, p0), (a1, p1) = ex.map(run, parts)
    else:
        (a0, p0), (a1, p1) = run(parts[0]), run(parts[1])
    a0 += a1
    p0 += p1
    return a0, p0


class FastExactEngine(ExactEngine):
    """Float64 engine for the whole exact map (38) with interpolated s-matrix rows.

    Same integrand and result layout as :class:`~symcoll.maps.exact.ExactEngine` (``sel`` is not
    supported: :func:`symcoll.maps.exact_entries` keeps the solved engine).  ``interp`` (a
    :class:`~symcoll.interpolation.RowInterpolant` holding every row) must be set before the
    quadrature.  After it, :attr:`interp_error` is the estimate of the largest entry error caused
    by the interpolation (:meth:`_interp_error`).
    """

    rule_pair = staticmethod(fast_rule_pair)

    def __init__(self, ctx, energies, V_eig, m, g, beta, sigma_p):
        if ctx.is_mp:
            raise ValueError("FastExactEngine is float64 only (dps=None)")
        super().__init__(ctx, energies, V_eig, m, g, beta, sigma_p, None)
        d = self.d
        self.sizes = np.array([len(c) for c in self.xmembers], dtype=int)
        self.perm = np.concatenate(self.xmembers) if self.xmembers else np.zeros(0, dtype=int)
        self.starts = np.concatenate([[0], np.cumsum(self.sizes)])
        self.cls_sorted = np.repeat(np.arange(len(self.sizes)), self.sizes)
        pos = np.empty(self.D, dtype=int)
        pos[self.perm] = np.arange(self.D)
        self.pos = pos  # pos[A] = place of pair A in the sorted order
        self.diag_pos = np.sort(pos[np.arange(d) * (d + 1)])  # sorted places of the pairs (j, j)
        c0 = self.cls_sorted[self.diag_pos]
        if d and not np.all(c0 == c0[0]):
            raise AssertionError("the diagonal pairs must form one Bohr class (Delta = 0)")
        self.c0 = int(c0[0]) if d else 0
        self._zeta = None
        self._pending = None
        # the accumulator holds H = T1 + T1^H itself (upper block triangle, see _accumulate), the entry is
        # (beta/2) H: |fine - coarse| of H times beta/2 (ExactEngine: beta times that of T1)
        self.err_factor = float(beta) / 2
        self.interp_error_T1 = None  # (U, U): summed propagated row error of T1 per class pair
        self._last = None
        self.pair_work = [0, 0]  # [sum over panels of (D - first open pair)^2, of D^2]: work done / full (round 3)

    # -- rows ------------------------------------------------------------------------
    def rows(self, a, u):
        """``a^(+)``, ``a^(-)`` (C1)-(C2) and the momenta at ``E_n = a + u_n`` from the interpolant.

        Also stores ``self._zeta[n, j']``: the interpolant's estimate of
        ``max_l sqrt(Re K_j') |X_interp - X|_{j'l}`` (open l) for row j' at node n.
        """
        ctx = self.ctx
        d, n = self.d, len(u)
        base = ctx.snap_small(a - self._thr_rows, self.snap_tol)
        X = (base[None, :, :] + u[:, None, None]) * (2 * self.m)
        _, ReK, Kh = channel_wave_numbers(ctx, X, self.hbar, complex_k=False)
        zeta = np.zeros((n, d))
        x = self.interp.rows_at(a, u, self.jps, err=zeta)
        r = np.arange(d)
        ap = Kh[:, r, r][:, :, None] * x * Kh
        am = ap.copy()
        am[:, r, r] -= 1.0
        self.evals += n * d
        self._zeta = zeta
        return ap, am, ReK * self.hbar

    def _node_bytes(self):
        U = len(self.sizes)
        return self.D * 96 + U * U * 16

    # -- accumulation ---------------------------------------------------------------
    def _accumulate(self, P, Ap, Am, Wn, total, sign=1.0):
        """Weighted node sums of ``H = T1 + T1^H`` (the entry of (38) is ``(beta/2) H``), pairs in class order.

        ``T1[A, B] = sum_n W_n e^{X_AB} p_A sum_alpha Z^alpha_A Z^alpha*_B`` with ``Z = a / sqrt(p)``
        (38), as :meth:`ExactEngine._accumulate`; e^X is symmetric, so
        ``H[A, B] = sum_n W_n e^{X_AB} (p_A + p_B) sum_alpha Z^alpha_A Z^alpha*_B`` is Hermitian and only
        the blocks (row class c, column classes c' >= c) are formed.  With alpha folded (module
        docstring, ``Z^+ = Z^- + delta / sqrt(p_0)``), for ``Z = Z^-``::

            H = 2 sum_n W_n e^X (p_A + p_B) Z_A Z*_B                  (class blocks, upper triangle)
                + h_B on the diagonal rows,        h_B = sum_n W_n e^{X(0, B)} (p_0 + p_B) Z*_B / sqrt(p_0)
                + conj(h_A) on the diagonal columns
                + 2 s on their crossing,           s = sum_n W_n e^{X(0, 0)}

        (``p_0 = sqrt(2 m E)``, the momentum of the class Delta = 0).  Fine and coarse sums are
        formed class block by class block (``s x D``, s the class size: cache-sized), their largest
        difference is kept and the fine block is added to the running sum ``total`` (flat ``D^2``)
        at once: no ``D x D`` panel buffer and no separate pass adding it (issue 16, round 2).  The
        panel is therefore in ``total`` before :func:`symcoll.maps.integrate._adaptive` decides on
        it; a rejected panel is taken out again by :meth:`undo` (the same fine sums with ``sign =
        -1``: rounding-level residue, inside the rounding estimate).  Returns ``((None, max |fine -
        coarse|), scale)``.
        """
        ctx = self.ctx
        n = P.shape[0]
        perm, sizes, starts = self.perm, self.sizes, self.starts
        U = len(sizes)
        Ps = P[:, perm]
        Am_s = Am[:, perm]
        Pc = Ps[:, starts[:-1]]  # (n, U): one momentum per class (the members share it)
        Pp = np.repeat(Pc, sizes, axis=1)
        is_open = Pp > 0
        sq = np.sqrt(np.where(is_open, Pp, 1.0))
        Zm = np.where(is_open, Am_s / sq, 0.0)  # Z^- (n, D)
        Rm = np.conj(Zm)
        kb = -float(self.beta) / (8 * float(self.m))
        ks = 1 / (2 * float(self.sigma_p) ** 2)

        # classes closed at every node of the panel (p = 0: Z = 0 exactly) contribute exact zeros to every
        # sum below; the classes are in ascending Delta = eps_j' - eps_l, i.e. descending threshold
        # -Delta, so the closed ones are a prefix [0, c_lo) and are skipped (round 3)
        c_lo = self.first_open_class(Pc) if SKIP_CLOSED else 0
        Uo = U - c_lo
        if sign > 0:
            self.pair_work[0] += (self.D - int(starts[c_lo])) ** 2
            self.pair_work[1] += self.D ** 2
        Xu = None
        if n * Uo * Uo * 8 <= XU_CACHE_BYTES:  # N <= 6: all class pairs at once (30 MiB at N = 6)
            sm = Pc[:, c_lo:, None] + Pc[:, None, c_lo:]
            df = Pc[:, c_lo:, None] - Pc[:, None, c_lo:]
            Xu = np.exp(sm * sm * kb - df * df * ks)  # (n, Uo, Uo) (38)+(41), open classes only

        def xrow(c, c1=0):
            """``e^{X(c, c')}`` of (38)+(41) for ``c' >= c1``, ``(n, U - c1)``: from ``Xu`` or one row class
            at a time (no ``(n, U, U)`` array: ~0.4 GiB at N = 7); symmetric in (c, c')."""
            if Xu is not None and c >= c_lo and c1 >= c_lo:
                return Xu[:, c - c_lo, c1 - c_lo:]
            sm = Pc[:, c, None] + Pc[:, c1:]
            df = Pc[:, c, None] - Pc[:, c1:]
            return np.exp(sm * sm * kb - df * df * ks)

        wk, wg = Wn[:, 0], Wn[:, 1]
        ng = int(np.count_nonzero(wg))
        if np.any(wg[ng:] != 0):
            raise AssertionError("the coarse rule's nodes must come first (fast_rule_pair)")
        c0 = self.c0
        dpos = self.diag_pos
        p0 = Pc[:, c0]
        sp0 = np.sqrt(p0)
        # delta corrections (fine, coarse) of H = T1 + T1^H: h_B on the diagonal rows, conj(h_A) on the
        # diagonal columns, 2 s on their crossing
        X0 = xrow(c0)
        Wr = np.repeat(X0 * (p0[:, None] + Pc), sizes, axis=1)  # (n, D): e^{X(0, B)} (p_0 + p_B)
        hv = [(w / sp0) @ (Wr * Rm) for w in (wk, wg)]
        sv = [2 * float(np.sum(w * X0[:, c0])) for w in (wk, wg)]
        D = self.D
        tot = total.reshape(D, D)
        # (rows of one class) x (nodes): contiguous left operands of the products
        LkT = np.ascontiguousarray((Zm * (2 * sign * wk)[:, None]).T)
        LgT = np.ascontiguousarray((Zm[:ng] * (2 * sign * wg[:ng])[:, None]).T)
        smax = int(sizes.max()) if U else 0
        cls_sorted = self.cls_sorted

        def class_rows(classes):
            """The class blocks of ``classes`` (rows of class c, columns c' >= c) into ``tot``; returns their
            largest ``|fine - coarse|``.  Own buffers: two calls on disjoint classes write disjoint rows of
            ``tot`` and may run in two threads (:data:`CLASS_WORKERS`)."""
            fbuf = np.empty(smax * D, dtype=complex)
            cbuf = np.empty(smax * D, dtype=complex) if sign > 0 else None
            abuf = np.empty(smax * D)
            mbuf = np.empty(n * D, dtype=complex)
            rbuf = np.empty(n * D)
            diff = 0.0
            for c in classes:
                s0, s1 = starts[c], starts[c + 1]
                k, w = s1 - s0, D - s0  # rows of class c, columns of the classes c' >= c (upper block triangle)
                M = mbuf[:n * w].reshape(n, w)
                wc = xrow(c, c) * (Pc[:, c, None] + Pc[:, c:])  # e^{X(c, c')} (p_c + p_c')
                # the class weights spread over the member columns, into a reused buffer (round 3: a fresh
                # np.repeat array per class cost page faults, ~10 % of the time as system time)
                Wrep = rbuf[:n * w].reshape(n, w)
                np.take(wc, cls_sorted[s0:] - c, axis=1, out=Wrep, mode="clip")
                np.multiply(Rm[:, s0:], Wrep, out=M)
                F = fbuf[:k * w].reshape(k, w)
                np.matmul(LkT[s0:s1], M, out=F)
                blocks = [(0, F)]
                if cbuf is not None:
                    C = cbuf[:k * w].reshape(k, w)
                    np.matmul(LgT[s0:s1], M[:ng], out=C)
                    blocks.append((1, C))
                dcol = dpos[dpos >= s0] - s0
                for j, blk in blocks:
                    if dcol.size:
                        blk[:, dcol] += sign * np.conj(hv[j][s0:s1])[:, None]
                    if c == c0:
                        rows = dpos - s0
                        blk[rows, :] += sign * hv[j][None, s0:]
                        blk[np.ix_(rows, dcol)] += sign * sv[j]
                if cbuf is not None:
                    np.subtract(C, F, out=C)
                    A = abuf[:k * w].reshape(k, w)
                    np.abs(C, out=A)
                    diff = max(diff, float(A.max()))
                tot[s0:s1, s0:] += F  # the class block, still in cache, into the running sum
            return diff

        diff = max(_run_split(class_rows, range(c_lo, U), sizes, starts, D))
        if sign < 0:
            return None
        # magnitude scale (rounding estimate), as ExactEngine: per class pair, max over members and alpha
        Zp = Zm.copy()
        Zp[:, dpos] += 1.0 / sp0[:, None]
        Zf = np.maximum(np.abs(Zm), np.abs(Zp))
        mV = np.maximum.reduceat(Zf, starts[:-1], axis=1) if D else np.zeros((n, 0))
        mU = mV * Pc
        w0 = np.abs(wk)
        # interpolation: propagated row error of this panel (added when the panel is accepted)
        zeta = self._zeta[:, self.perm // self.d]  # (n, D): error estimate of Z_A from row j' of A
        zeta = np.where(is_open, zeta, 0.0) / np.sqrt(float(self.hbar))
        mZ = np.maximum.reduceat(zeta, starts[:-1], axis=1) if D else np.zeros((n, 0))
        absT1 = np.zeros((U, U))
        pend = np.zeros((U, U))
        o = slice(c_lo, U)  # closed classes: mU = mV = mZ = 0, so their rows and columns stay zero
        absT1[o, o], pend[o, o] = _class_pair_sums_halves(Xu, Pc[:, o], w0, mU[:, o], mV[:, o], mZ[:, o], kb, ks,
                                                          self.D)
        absT1 *= 2
        scale = (absT1 + absT1.T) * (float(self.beta) / 2)
        self._pending = 2 * pend
        return (None, diff), scale

    def first_open_class(self, Pc):
        """First class (in the engine's ascending-Delta order) open at some node of the panel: ``Pc[:, c] > 0``
        for some node.  Every class before it is closed at all nodes (``p = 0``), so its ``Z`` are exactly 0 and
        it adds exact zeros to the panel's sums (:meth:`_accumulate` skips it).  Never after the class Delta = 0
        (open for every E > 0)."""
        is_open = np.any(Pc > 0, axis=0)
        first = int(np.argmax(is_open)) if is_open.any() else Pc.shape[1]
        return min(first, self.c0)

    def on_accept(self):
        """Called by :func:`symcoll.maps.integrate._adaptive` for an accepted panel."""
        if self.interp_error_T1 is None:
            self.interp_error_T1 = np.zeros_like(self._pending)
        self.interp_error_T1 += self._pending

    in_place = True
    """:func:`symcoll.maps.integrate._adaptive` passes its running sum to :meth:`panel` and calls
    :meth:`undo` on a rejected panel."""

    def panel(self, a, b, t, W, left=True, right=True, total=None):
        """All nodes of the panel in one chunk (21 nodes: ``n D`` complex per array), added to ``total``."""
        from ..quadrature import map_rule

        if total is None:
            raise ValueError("FastExactEngine.panel adds to the running sum: pass total (flat, D^2 complex)")
        u, Wn = map_rule(a, b, t, W, self.ctx, left, right)
        ap, am, P = self.rows(a, u)
        k = len(u)
        args = (P.reshape(k, self.D), ap.reshape(k, self.D), am.reshape(k, self.D), Wn)
        self._last = args
        return self._accumulate(*args, total)

    def undo(self, total):
        """Subtract the last panel's fine sums from ``total`` (the panel was rejected)."""
        self._accumulate(*self._last, total, sign=-1.0)
        self._last = None

    def interp_error(self):
        """Estimate of the largest entry error of the map caused by the interpolated rows.

        ``|dT1_AB| <= sum_n |W_n| e^{X_AB} p_A sum_alpha (|dZ_A| |Z^a_B| + |Z^a_A| |dZ_B| + |dZ_A| |dZ_B|)``
        (``dZ^+ = dZ^-``), with ``|dZ_A| <= zeta`` of row j' (the interpolant's sampled estimate, so the
        whole is an *estimate*), maxima over the members of each Bohr class; the entry is
        ``(beta/2)(T1 + T1^H)``, so its error is at most ``(beta/2)(|dT1_AB| + |dT1_BA|)``.
        """
        if self.interp_error_T1 is None:
            return 0.0
        E = self.interp_error_T1
        return float(np.max(E + E.T)) * float(self.beta) / 2

    def finalize(self, flat):
        """``(beta/2) H`` back in pair order: the lower block triangle mirrored (``H_{BA} = conj(H_{AB})``),
        the diagonal class blocks made exactly Hermitian, then permuted row block by row block (one
        extra ``D x D``)."""
        self._last = None
        D = self.D
        Hs = flat.reshape(D, D)
        starts = self.starts
        for c in range(len(self.sizes)):
            s0, s1 = starts[c], starts[c + 1]
            blk = Hs[s0:s1, s0:s1]
            blk[...] = (blk + blk.conj().T) / 2
            if s0:
                Hs[s0:s1, :s0] = Hs[:s0, s0:s1].conj().T
        out = np.empty((D, D), dtype=complex)
        pos = self.pos
        half = float(self.beta) / 2
        step = max(1, (32 * 2**20) // max(16 * D, 1))
        for s0 in range(0, D, step):
            rows = pos[s0:s0 + step]  # sorted places of the pairs A = s0 .. s0 + step
            out[s0:s0 + step] = Hs[rows][:, pos] * half
        return out.reshape(-1)
