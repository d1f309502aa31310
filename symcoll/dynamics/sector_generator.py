"""The generator (71)/(67) of a compact map, built and solved sector by sector (issue 16).

``Lindbladian(system, compact_map, Gamma)`` returns a :class:`SectorLindbladian` when the map is
stored compactly (``collision_map(..., storage="compact")``, global (45) or local (54)-(56)):
no dense ``d^2 x d^2`` matrix and no dense ``d^4`` tensor is formed.  Same API as
:class:`~symcoll.dynamics.Lindbladian` for ``evolve``, ``steady_state``, ``spectral_gap``,
``apply``, ``describe``; ``superoperator()`` densifies only when it fits the memory limit.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.sparse as sps

from .. import conventions as cv
from ..budget import ErrorBudget
from ..model import check_density_matrix, check_map_system
from ..numeric import get_context
from . import error_budget, sectors as _sec
from ._arrays import hermitian_part, to_complex
from .gap import SpectralGap, eigenvalue_condition, gap_from_eigenvalues
from .generator import Lindbladian, _check_gamma, _check_times
from .results import Evolution, SteadyState
from .sector_solve import (DENSE_SECTOR_MAX, SLOW_MODES, propagate_sector, sector_gap, sector_steady_state,
                           slow_modes, steady_from_slow_modes)

GAP_MODES = 6
"""Slowest modes sought per large sector by :meth:`SectorLindbladian.spectral_gap` (a cached run with
more modes, e.g. the propagation's, is reused).  The gap needs only the rightmost eigenvalue of each
sector; 6 (not 12) halves the Arnoldi work (N = 8, Delta n = 1: 77 vs 131 applications of exp(L tau) at k = 4
vs 12) while keeping a margin of converged modes."""

GAP_TOL = 1e-10
"""ARPACK tolerance of the gap's own Arnoldi runs (1e-13 for the propagation's): N = 8, Delta n = 1, k = 6:
18602 instead of 27510 sparse products at 1e-8, eigen-residuals 1e-12 instead of 4e-14 (the residuals enter
the gap's error estimate directly)."""

STEADY_LU_MAX = 4000
"""Population sectors up to this size get the bordered sparse-LU solve (the LU of the N = 8 local sector, 12870, takes ~190 s with 3e7 non-zeros), larger ones the
slow-mode eigenvector of the Arnoldi run shared with the gap and the propagation."""

CLOSED_FORM_STEADY = True
"""Use the closed-form product steady state of the local map on uniform chains (:func:`_product_steady_state`);
tests switch it off to force the numerical paths."""

__all__ = ["SectorLindbladian", "is_compact"]


def _propagation_modes(gen, i, k):
    """Slow modes of a large sector for its propagation, or None for the rational Krylov path, by
    :data:`~symcoll.dynamics.sector_solve.LARGE_SECTOR_METHOD` (``"auto"``: within the product budget)."""
    from . import sector_solve as ss

    if ss.LARGE_SECTOR_METHOD == "rational-krylov":
        return None
    budget = None if ss.LARGE_SECTOR_METHOD == "slow-modes" else ss.AUTO_SLOW_MODE_PRODUCTS
    try:
        return gen.slow_modes(i, k, max_products=budget)
    except ss.SlowModesBudgetExceeded:
        return None


def is_compact(collision_map) -> bool:
    """A compact global/local map (``storage == "compact"``)."""
    return getattr(collision_map, "storage", None) == "compact" and not isinstance(collision_map, (list, tuple))


class SectorLindbladian(Lindbladian):
    """Generator (71) (or (67) for the local map) of a compact map, sector by sector (float64).

    See :mod:`symcoll.dynamics.sectors` for the sectors and :mod:`symcoll.dynamics.sector_solve`
    for the solvers and their error estimates.
    """

    def __init__(self, system, collision_map, Gamma, dps=None):
        if dps is not None or getattr(collision_map, "dps", None) is not None:
            raise ValueError("the sector generator of a compact map runs in float64 only (dps must be None); "
                             "use storage='dense' for the mpmath path")
        check_map_system(system, collision_map)
        self.system, self.map = system, collision_map
        self.maps, self.rates = [collision_map], [Gamma]
        self.Gamma_param = _check_gamma(Gamma)
        self.Gamma = float(Gamma)
        self.ctx = get_context(None)
        self.dps = None
        self.d = d = system.dim
        if collision_map.dim != d:
            raise ValueError(f"collision_map has dimension {collision_map.dim}, the system {d}")
        es = system.eigensystem(None)
        self.eigensystem = es
        self.energies = es.energies
        self.energies_float = np.asarray(to_complex(es.energies).real)
        self.eigensystem_vectors_float = to_complex(es.vectors)
        self.map_error, self.map_error_rigorous = error_budget.map_entry_error(collision_map)
        self.energy_error = error_budget.energy_rounding(self.ctx, es.energies)
        self._structure = None
        self._ss = None
        self._gap = None
        self._mats = {}
        self._slow = {}
        self._gaps = {}

    # ------------------------------------------------------------------ structure
    def structure(self) -> _sec.SectorStructure:
        """The :class:`~symcoll.dynamics.sectors.SectorStructure` (built once)."""
        if self._structure is None:
            self._structure = _sec.sector_structure(self)
        return self._structure

    def sector_matrix(self, i):
        """Sparse (CSC) matrix of sector ``i`` (cached while the generator lives)."""
        if i not in self._mats:
            self._mats[i] = self.structure().matrices[i]()
        return self._mats[i]

    def slow_modes(self, i, k=SLOW_MODES, tol=1e-13, max_products=None):
        """``(lam, V, residuals)`` of sector i by :func:`~symcoll.dynamics.sector_solve.slow_modes`
        (cached per ``(i, k)``: one Arnoldi run serves steady state, gap and propagation; ``tol`` is
        ARPACK's, used by the first run; the residuals returned are computed directly)."""
        if (i, k) not in self._slow:
            rects = self.structure().num_range
            self._slow[(i, k)] = slow_modes(self.sector_matrix(i), k, rect=None if rects is None else rects[i],
                                            tol=tol, max_products=max_products)
        return self._slow[(i, k)]

    def describe(self) -> dict:
        desc = dict(self.system.describe()) if hasattr(self.system, "describe") else {}
        st = self.structure()
        desc.update({"map_kind": getattr(self.map, "kind", "unknown"), "Gamma": self.Gamma,
                     "precision": "float64", "map_error_estimate": self.map_error,
                     "map_error_rigorous": self.map_error_rigorous, "storage": "compact (sector generator)",
                     "sector_basis": st.basis, "sectors": len(st.sectors), "max_sector": max(st.sizes()),
                     "equation": ("(71): drho/dt = -i[H(eps), rho] + Gamma (S - I) rho, hbar = 1; "
                                  "built sector by sector (issue 16)")})
        desc.setdefault("ladder", getattr(self.system, "ladder", None))
        return desc

    def _to_work(self, rho):
        """Eigenbasis matrix -> the structure's basis."""
        st = self.structure()
        return rho if st.basis == "eigen" else st.U @ rho @ st.U.conj().T

    def _to_eigen(self, rho):
        st = self.structure()
        if st.basis == "eigen":
            return rho
        return st.U.conj().T @ rho @ st.U  # batched matmul (einsum without optimize is O(d^4) per state)

    def superoperator_sparse(self):
        """The full generator as a sparse matrix in the structure's working basis
        (``describe()["sector_basis"]``: eigenbasis for (45), local basis for (54)-(56)), assembled
        from the sectors (column stacking); memory checked first."""
        st = self.structure()
        n = self.d ** 2
        nnz = sum(self.sector_matrix(i).nnz for i in range(len(st.sectors)))
        _sec.check_memory(f"the assembled sparse generator (n = {n})", 3 * nnz * 28)
        rows, cols, vals = [], [], []
        for i, idx in enumerate(st.sectors):
            M = sps.coo_array(self.sector_matrix(i))
            rows.append(idx[M.row]), cols.append(idx[M.col]), vals.append(M.data)
        return sps.csr_array((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(n, n))

    def superoperator(self):
        """Dense column-stacking generator in the **eigenbasis** (only when ``d^4`` complex fits the limit)."""
        d = self.d
        _sec.check_memory(f"the dense generator (d^4 = {d**4} entries)", 3 * 16 * d**4)
        L = self.superoperator_sparse().toarray()
        st = self.structure()
        if st.basis == "local":  # vec(U^H X U) = (U^T (x) U^H) vec X
            W = np.kron(st.U.T, st.U.conj().T)
            L = W @ L @ W.conj().T
        return L

    superoperator_float = superoperator

    def to_qutip(self):
        """The generator as a sparse ``qutip.Qobj`` in the structure's basis (column stacking)."""
        import qutip

        d = self.d
        return qutip.Qobj(self.superoperator_sparse(), dims=[[[d], [d]], [[d], [d]]], superrep="super")

    def apply(self, rho):
        """``L rho`` for a (d, d) matrix in the eigenbasis, sector by sector."""
        rho = np.asarray(rho, dtype=complex)
        if rho.shape != (self.d, self.d):
            raise ValueError(f"rho must have shape ({self.d}, {self.d}) (got {rho.shape})")
        x = cv.vec(self._to_work(rho))
        y = np.zeros_like(x)
        for i, idx in enumerate(self.structure().sectors):
            if np.any(x[idx]):
                y[idx] = self.sector_matrix(i) @ x[idx]
        return self._to_eigen(cv.unvec(y, self.d))

    # ------------------------------------------------------------------ error parts
    def map_norm_11(self) -> float:
        """``||dS||_{1->1} <= sqrt(d) ||dS||_{2->2} <= sqrt(d) schur e`` (Schur test on the exact zero
        pattern; a bound when the map's entry error is a bound)."""
        return math.sqrt(self.d) * self.structure().schur_S * self.map_error

    def _energy_delta(self):
        """Error of the Bohr frequencies used: the eigenvalue rounding estimate, plus (local basis) the
        mismatch ``||H U - U diag(eps)||`` of the sparse local Hamiltonian."""
        return self.energy_error + self.structure().h_mismatch * math.sqrt(self.d)

    # ------------------------------------------------------------------ steady state
    def steady_state(self) -> SteadyState:
        """Stationary state from the population sector only (bordered sparse LU, or the slow-mode
        eigenvector above ``STEADY_LU_MAX``), with its error estimates (README_derivations.md, issue 16)."""
        return _steady_state(self)

    # ------------------------------------------------------------------ gap
    def spectral_gap(self, k=GAP_MODES) -> SpectralGap:
        """Smallest ``|Re lambda|`` over the nonzero eigenvalues of L, sector by sector.

        Dense eigenvalues for sectors ``<= DENSE_SECTOR_MAX``; for larger ones the ``k`` eigenvalues of
        largest real part by Arnoldi on ``exp(L_s tau)`` (:meth:`slow_modes`, cached); one sector of each
        Hermitian-conjugate pair (their spectra are complex conjugates).  :class:`~symcoll.dynamics.gap.SpectralGap`,
        cached per ``k`` (the dense generator's gap reuses its cached :meth:`spectrum`).
        """
        if k not in self._gaps:
            self._gaps[k] = _spectral_gap(self, k)
        return self._gaps[k]

    # ------------------------------------------------------------------ propagation
    def evolve(self, rho0, times, basis="eigen", method="auto", hermitize=True, slow_modes=SLOW_MODES):
        """``rho(t) = exp(L t) rho0`` exactly in t, sector by sector (only sectors where rho0 is nonzero).

        ``method``: ``"auto"`` (eig per small sector, expm when ill-conditioned, slow modes for
        large sectors), ``"eig"``, ``"expm"``.  States are returned in the eigenbasis.
        """
        if basis not in ("eigen", "local"):
            raise ValueError(f"basis must be 'eigen' or 'local' (got {basis!r})")
        if method not in ("auto", "eig", "expm"):
            raise ValueError(f"method must be one of 'auto', 'eig', 'expm' for a compact map (got {method!r})")
        t = _check_times(times)
        check_density_matrix(rho0, self.d, "rho0")
        rho = to_complex(rho0)
        U = self.eigensystem_vectors_float
        if basis == "local":
            rho = U.conj().T @ rho @ U
        x = cv.vec(self._to_work(rho))
        st = self.structure()
        d, n = self.d, self.d ** 2
        p = st.population_sector()
        xss_full = cv.vec(self._to_work(to_complex(self.steady_state().state)))
        vecs = np.zeros((len(t), n), dtype=complex)
        rnd = np.zeros(len(t))
        infos = []
        for i, idx in enumerate(st.sectors):
            xs = x[idx]
            if not np.any(xs):
                continue  # exactly zero stays exactly zero: the sector is invariant
            xss = xss_full[idx] if i == p else np.zeros(len(idx), dtype=complex)
            big = len(idx) > DENSE_SECTOR_MAX
            out, r, info = propagate_sector(self.sector_matrix(i), xs, xss, t, d, method, slow_modes,
                                            modes=_propagation_modes(self, i, slow_modes) if big else None,
                                            rect=None if st.num_range is None else st.num_range[i])
            vecs[:, idx] = out
            rnd += r
            infos.append(info)
        states = self._to_eigen(cv.unvec(vecs, d))
        if hermitize:
            states = hermitian_part(self.ctx, states)
        ss_err = self.steady_state().error.total
        xm = t * self.Gamma * self.map_norm_11()
        xh = t * 2 * self._energy_delta()
        mapb, enb = error_budget.shares_times_expm1_ratio(xm, xh)  # Duhamel + Gronwall: exp(x) - 1 (module doc)
        err = ErrorBudget({
            "map": (mapb, "bound" if self.map_error_rigorous else "estimate",
                    "||dS||_1->1 <= sqrt(d) schur e (Schur test on the exact sector pattern), Duhamel + Gronwall "
                    "with the contractive CPTP semigroup; e is the map's "
                    + ("proven bound" if self.map_error_rigorous else "error estimate, so this is an estimate")),
            "energies": (enb, "estimate", "Bohr frequencies to delta_eps (eigenvalue rounding + local-basis "
                                          "Hamiltonian mismatch), 2 t delta_eps"),
            "rounding": (rnd + ss_err * (len(infos) > 0), "estimate",
                         "per sector: geev first-order estimate, expm backward error, the slow-mode budget "
                         "(Taylor phase + dropped remainder + eigen-residuals), or the rational Krylov Duhamel "
                         "defect (a truncation estimate) plus its rounding, plus the steady state's error"),
        })
        diag = {"sectors_propagated": len(infos), "sectors": len(st.sectors), "max_sector": max(st.sizes()),
                "per_sector": infos, "cond_V": max([f.get("cond_V", 1.0) for f in infos] or [1.0]),
                "n": n, "blocks": len(st.sectors)}
        used = sorted({f["method"] for f in infos})
        return Evolution(times=t, states=states, error=err, basis=basis, method="+".join(used) or "none",
                         diagnostics=diag, metadata=self.describe(), eigenvectors=self.eigensystem.vectors)


def _steady_state(self) -> SteadyState:  # body of SectorLindbladian.steady_state
    """Stationary state from the population sector only (one sparse LU of the bordered sector)."""
    if self._ss is not None:
        return self._ss
    st = self.structure()
    p = st.population_sector()
    idx = st.sectors[p]
    Ls = self.sector_matrix(p)
    d = self.d
    tr_pos = np.searchsorted(idx, np.arange(d) * (d + 1))
    if not np.array_equal(idx[tr_pos], np.arange(d) * (d + 1)):
        raise RuntimeError("the population sector does not hold every population")
    closed = _product_steady_state(self, Ls, idx)
    if closed is not None:
        self._ss = closed
        return closed
    if len(idx) <= STEADY_LU_MAX:
        x, info = sector_steady_state(Ls, tr_pos, d)
    else:  # sparse LU fills in almost completely here: the slow-mode eigenvector instead
        x, info = steady_from_slow_modes(Ls, tr_pos, modes=self.slow_modes(p))
    smin, normA = info["sigma_min"], info["norm_A"]
    if smin <= 64 * len(idx) * 2.2e-16 * normA:
        raise ValueError("the Lindbladian has no unique stationary state (bordered population sector "
                         f"singular: sigma_min ~ {smin:.2e}, ||A||_F = {normA:.2e})")
    v = np.zeros(d * d, dtype=complex)
    v[idx] = x
    state = hermitian_part(self.ctx, self._to_eigen(cv.unvec(v, d)))
    xnorm = float(np.linalg.norm(x))
    rounding = (info["residual"] + info["trace_residual"] + 2 * len(idx) * 2.2e-16 * normA * xnorm) / smin
    a = (self.Gamma * self.structure().schur_S * self.map_error + 2 * self._energy_delta()) / smin
    mapb = a * xnorm / (1 - a) if a < 1 else math.inf
    err = ErrorBudget({
        "rounding": (rounding, "estimate", "(||L x|| + trace residual + n u ||A|| ||x||) / sigma_min of the "
                                           "bordered population sector (sigma_min by inverse iteration)"),
        "map": (mapb, "estimate", "(Gamma ||dS||_2 + 2 delta_eps) ||x|| / sigma_min with the Schur-test "
                                  "||dS||_2 <= schur e and the Neumann factor 1/(1 - a)"),
    })
    self._ss = SteadyState(state, info["residual"], err, smin, {**self.describe(), "sector_solve": info})
    return self._ss


def _product_steady_state(self, Ls, idx):
    """Closed-form stationary state of the local map (54)-(56) on a uniform chain (eps > 0), or None.

    ``rho = (x)_i diag(p0, p1)`` with ``(p0, p1) = (c, b) / (b + c)``, ``b = S_1[|1><1| <- |0><0|]``,
    ``c = S_1[|0><0| <- |1><1|]`` (the local thermal state (73) when S_1 obeys detailed balance).
    *Stationary*: ``rho = f(N_exc)`` commutes with H(eps) (uniform h: H conserves N_exc), and
    ``S_1 (x) id`` fixes it because the phase-covariant, trace-preserving S_1 fixes ``diag(p0, p1)``.
    *Unique* (eps > 0, b, c > 0): Frigerio's theorem (Commun. Math. Phys. 63 (1978) 269): a faithful
    stationary state plus a trivial commutant of ``{H, L_k, L_k^dagger}``; the Kraus operators of S_1
    include ``sqrt(b)|1><0|`` and ``sqrt(c)|0><1|``, and the XX hopping propagates the commutant's
    triviality site by site from the bombarded **end** site (README_derivations.md, issue 16; for an
    inner site of a uniform chain reflection-odd modes can be dark, so other sites take the general path).
    In the eigenbasis it is
    ``diag(f(n_j))`` exactly (band-pure eigenvectors), so no basis change enters.
    Errors: ``"rounding"`` (bound): ``gamma_{3N} ||x||_F``; ``"map"``: ``||rho~ - rho||_1 <= 2 N e / (b + c)``
    (product states: ``||(x) a_i - (x) b_i||_1 <= sum ||a_i - b_i||_1``; ``|dp0| <= e/(b~ + c~)``),
    a bound when the map's entry error e is one.  The residual ``||L x||_2`` is computed as a check.
    """
    sysm, m = self.system, self.map
    if not CLOSED_FORM_STEADY:
        return None
    if not (getattr(sysm, "uniform", False) and float(getattr(sysm, "eps", 0.0)) > 0 and hasattr(m, "S1")
            and m.site in (1, m.N)):  # an end site: the uniqueness proof runs along the chain from it
        return None
    S1 = np.asarray(m._f(m.S1))
    b, c = complex(S1[1, 1, 0, 0]), complex(S1[0, 0, 1, 1])
    if not (b.real > 0 and c.real > 0 and b.imag == 0 and c.imag == 0):
        return None
    b, c = b.real, c.real
    N, d = sysm.N, self.d
    p0, p1 = c / (b + c), b / (b + c)
    nloc = cv.excitation_numbers(N)
    f = np.empty(N + 1)
    for n in range(N + 1):  # plain IEEE products (no pow): N factors, N - 1 roundings
        v = 1.0
        for fac in [p1] * n + [p0] * (N - n):
            v *= fac
        f[n] = v
    U = self.eigensystem_vectors_float
    nj = np.rint((np.abs(U) ** 2).T @ nloc).astype(np.int64)
    if np.any(np.abs(U)[nloc[:, None] != nj[None, :]] != 0):
        return None  # eigenvectors not band-pure: take the general path
    xs = cv.vec(np.diag(f[nloc]).astype(complex))[idx]
    resid = float(np.linalg.norm(Ls @ xs))
    normL = float(sps.linalg.norm(Ls))
    xnorm = float(np.linalg.norm(xs))
    e = self.map_error
    u = 2.0 ** -53
    check = 10 * (self.Gamma * self.structure().schur_S * e + 8 * len(idx) * u * normL) * xnorm + 1e-300
    if resid > check:
        return None  # not stationary to the map's accuracy: general path
    state = np.diag(f[nj]).astype(complex)
    gam = 3 * N * u / (1 - 3 * N * u)  # N factors with 2 roundings each (p0 = c/(b+c)), N - 1 products
    kind = "bound" if self.map_error_rigorous else "estimate"
    err = ErrorBudget({
        "rounding": (gam * xnorm, "bound", "float64 rounding of the closed form p0^(N-n) p1^n: gamma_(3N) ||x||_F"),
        "map": (2 * N * e / (b + c), kind, "||rho~ - rho||_1 <= 2 N e / (b~ + c~) (product states, "
                                          "|dp0| <= e/(b~+c~)); "
                                        + ("e is a proven bound" if self.map_error_rigorous else "e is an estimate")),
    })
    info = {"method": "closed form (product state, uniform chain; unique by Frigerio's theorem)",
            "residual": resid, "residual_check": check, "p1": p1, "norm_A": normL}
    return SteadyState(state, resid, err, math.nan, {**self.describe(), "sector_solve": info})


def _spectral_gap(self, k) -> SpectralGap:
    """Body of :meth:`SectorLindbladian.spectral_gap` (module level: the class stays within 250 lines)."""
    if self._gap is not None:
        return self._gap
    from . import fermionic

    why = "switched off (fermionic.QUASI_FREE_GAP)"
    if fermionic.QUASI_FREE_GAP:  # local map on an end site: quasi-free blocks (None if it does not apply)
        qg, why = fermionic.quasi_free_gap(self, k=k, tol=GAP_TOL)
        if qg is not None:
            self._gap = qg
            return qg
    st = self.structure()
    lam_all, res_all, owner, shifts = [], [], [], 0
    done = set()
    for i, idx in enumerate(st.sectors):
        if st.conj_partner[i] in done:
            continue
        done.add(i)
        Ls = self.sector_matrix(i)
        if len(idx) > DENSE_SECTOR_MAX:
            cached = [key for key in self._slow if key[0] == i and key[1] >= k]
            lam, _, res = self._slow[cached[0]] if cached else self.slow_modes(i, k, tol=GAP_TOL)
            sh = True
        else:
            lam, res, sh = sector_gap(Ls, k=k)
        lam_all.append(lam)
        res_all.append(np.zeros(len(lam)) if res is None else res)
        owner.append(np.full(len(lam), i))
        shifts += int(sh)
    lam, res, owner = np.concatenate(lam_all), np.concatenate(res_all), np.concatenate(owner)
    i0 = int(np.argmin(np.abs(lam)))
    rest = np.delete(np.arange(len(lam)), i0)
    j = rest[int(np.argmin(-lam[rest].real))]
    sj = int(owner[j])
    Ls = self.sector_matrix(sj)
    normL = float(sps.linalg.norm(Ls))
    kappa = eigenvalue_condition(Ls.toarray(), lam[j]) if Ls.shape[0] <= DENSE_SECTOR_MAX else None
    pert = self.Gamma * st.schur_S * self.map_error + 2 * self._energy_delta()
    diag = {"arnoldi_sectors": shifts, "sectors": len(st.sectors), "sector_of_gap": sj,
            "sector_label": st.labels[sj], "sector_size": int(Ls.shape[0]), "quasi_free_not_used": why,
            "method": "dense eigenvalues per sector" if shifts == 0 else
            "dense eigenvalues per small sector, Arnoldi on exp(L tau) (largest Re lambda) for large ones"}
    self._gap = gap_from_eigenvalues(lam, res, normL, diag, pert, kappa=kappa, n=Ls.shape[0])
    return self._gap
