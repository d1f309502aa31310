"""The public constructors: :func:`collision_map` (dense or compact storage) and :func:`exact_entries`."""
from __future__ import annotations

import warnings

import numpy as np

from ..budget import ErrorBudget
from ..model import to_ctx
from ..numeric import Tolerances, get_context
from . import memory
from .compact import _GlobalBlocks, _LocalSite
from .diagnostics import _check_complete_positivity
from .integrate import _integrate, _interp_table_bytes
from .options import _resolve_smatrix, _resolve_storage, _setup
from .spectrum import _bohr_classes, _snap_energies
from .tensor import CollisionMap, _rotate

__all__ = ["collision_map", "exact_entries"]


def _class_blocks_dense(ctx, classes, flat, D):
    """``(D, D)`` matrix of pairs with the Bohr-class blocks of a narrow map (45) in place, zero elsewhere."""
    T2 = ctx.zeros((D, D), complex=True)
    pos = 0
    for c in classes:
        k = len(c)
        T2[np.ix_(c, c)] = flat[pos:pos + k * k].reshape(k, k)
        pos += k * k
    return T2


def collision_map(system, bath, coupling, kind="exact", dps=None, tol=None, storage="auto",
                  smatrix="auto", progress=None, certified=False) -> CollisionMap:
    """Collision map ``S^{jk}_{j'k'}`` of ``system`` bombarded by ``bath`` units through ``coupling``.

    Parameters
    ----------
    system : System or QubitChain
        System Hamiltonian (real symmetric for detailed balance).
    bath : EffusionBath
        ``beta``, ``m``, ``sigma_p`` of Eqs. (40)-(41).
    coupling : DeltaCoupling
        ``g V delta(x)`` of Eq. (65).
    kind : {"exact", "global", "local", "exact_h0"}
        * ``"exact"``: Eq. (38) with the Gaussian incident state (41) (needs ``sigma_p > 0``).
        * ``"global"``: Eq. (45), the narrow-packet limit (44): entries only where
          ``Delta_{j'j} = Delta_{k'k}`` (decided with :meth:`Tolerances.bohr_equality`).
        * ``"local"``: the paper's local map, Eqs. (54)-(56) (used in (67) and Figs. 3-4):
          the formula (45) evaluated with the scattering matrices and energies of
          ``H(0) = H_loc`` (selection rule: equal band jumps ``Delta^(0)_{j'j} = Delta^(0)_{k'k}``,
          lower limit ``sqrt(2 m h)`` in (55) -- printed ``sqrt(2 m hbar)``, a typo), expressed in
          the eigenbasis of ``H(eps)``.  This is the paper's "local" because (54)-(56) are the
          eps -> 0 limit of (52)-(53), which already assume (48): sigma_p narrow with respect to
          inter-band momentum changes, so inter-band coherence terms are dropped.
        * ``"exact_h0"``: Eq. (38) with ``H(0)`` in the scattering and finite sigma_p (keeps the
          inter-band coherence terms that (48) drops; differs from "local" by ~1e-2 at the
          paper's parameters), rotated likewise.
        Chains only for "local" and "exact_h0".
    dps : int or None
        None for float64; otherwise mpmath at ``dps >= 15`` digits (same algorithm).
    tol : float in (0, 1e-3] or None
        Target for ``error_estimate`` (quadrature estimate + tail bound + rounding estimate).
        None (default): tied to the precision, ``1e-12`` in float64 and ``10**-(dps - 8)`` at
        ``dps`` digits (between ``1e-40`` and ``1e-12``; :meth:`Tolerances.map_default`).  A
        ``dps`` far above what ``tol`` needs warns (:class:`SymcollWarning`): the reported
        error is set by ``tol``, not by the working precision.
    storage : {"auto", "dense", "compact"}
        ``"dense"``: the ``(d, d, d, d)`` tensor.  ``"compact"`` (kinds "global" and "local"):
        no ``d^4`` array; "global" keeps one matrix per Bohr class (the only nonzero entries of
        (45)), "local" keeps the site-qubit map ``S_1`` (2x2x2x2) and the eigenvectors of H(eps)
        (in the local basis, with V = sigma_x on one site, (54)-(56) is ``S_1 (x) id_rest``).
        ``.apply`` and ``.diagnostics`` then work blockwise; ``.tensor``, ``.superoperator()``,
        ``.choi()``, ``.kraus()`` densify only when the dense tensor fits :data:`MAX_BYTES`
        (else ValueError with the GiB needed).  ``"auto"``: dense when the dense estimate fits
        :data:`MAX_BYTES` and N <= 6, compact otherwise (global/local only).
    smatrix : {"auto", "solve", "interpolate"}
        ``"solve"``: the rows of s^(+-) (C1)-(C2) are solved for at every quadrature node (d
        solves of size d per node).  ``"interpolate"`` (float64; every kind, for the exact kinds
        with :class:`symcoll.maps.exact_fast.FastExactEngine`, issue 16):
        they are read off piecewise Chebyshev interpolants of ``(K(T) + i m g V)^{-1}`` in the
        total energy T, tabulated once between the levels of H
        (:mod:`symcoll.interpolation`); the interpolation error enters ``error_parts`` as
        ``"interpolation"`` (an estimate checked against direct solves).  ``"auto"``:
        interpolate when allowed and ``d >= INTERPOLATE_AUTO_MIN_DIM`` (32), for kind "exact" from
        ``d >= EXACT_INTERPOLATE_AUTO_MIN_DIM`` (16).
    progress : None, True or callable
        Progress of the quadrature: a callable receives the fraction (0..1] of the integration
        range done; ``True`` draws a tqdm bar on stderr; None (default) reports nothing.
    certified : bool
        ``True``: build the map in Arb ball arithmetic (:mod:`symcoll.certified.maps`): a
        :class:`symcoll.certified.CertifiedMap` whose every entry is an enclosure
        (``.enclosure()`` -> ``(mid, rad)``, ``.error_bound`` a proven bound).  Kinds "exact",
        "global", "local"; dense storage; ``dps`` is then the working precision (default 20
        digits) and ``tol`` the target radius (default ``10^-(dps-5)``).

    Returns
    -------
    CollisionMap (or CertifiedMap when ``certified=True``)

    Raises
    ------
    TypeError, ValueError
        Bad kinds of inputs / values (unknown kind, tol out of range, V of wrong shape, sigma_p = 0
        for the exact kinds, ambiguous Bohr equalities for "global", memory above 8 GiB).

    Notes
    -----
    Degenerate levels (chains with N >= 4): (38) and (45) depend on the energies only, so the
    tensor is covariant under unitary rotations inside a degenerate level.  The energies of a
    degenerate group are snapped to their mean before integrating, which makes the covariance
    exact and the Bohr classes of (45) unambiguous; the tensor refers to the canonical basis of
    each level given by ``system.eigensystem(dps)``.

    Examples
    --------
    >>> from symcoll import QubitChain, EffusionBath, DeltaCoupling, collision_map
    >>> S = collision_map(QubitChain(1, h=4, eps=0), EffusionBath(0.1, 0.1, 0.5), DeltaCoupling(50), kind="global")
    >>> round(S.diagnostics()["trace_preservation"]["value"], 10)
    0.0
    """
    if not isinstance(certified, bool):
        raise TypeError(f"certified must be True or False (got {certified!r})")
    if certified:
        return _certified(system, bath, coupling, kind, dps, tol, storage, smatrix, progress)
    with _progress_reporter(progress, kind) as report:
        return _collision_map(system, bath, coupling, kind, dps, tol, storage, smatrix, report)


def _certified(system, bath, coupling, kind, dps, tol, storage, smatrix, progress):
    """``collision_map(..., certified=True)``: refuse the options the ball path does not have, then build."""
    from ..certified.maps import CERTIFIED_KINDS, certified_collision_map

    if storage not in ("auto", "dense"):
        raise ValueError(f"certified=True builds the dense tensor: use storage='dense' or 'auto' (got storage={storage!r}); "
                         "compact certified maps do not exist yet")
    if smatrix not in ("auto", "solve"):
        raise ValueError(f"certified=True solves (C1) in balls at every node: use smatrix='auto' or 'solve' "
                         f"(got smatrix={smatrix!r}; interpolation errors are estimates, not bounds)")
    if kind not in CERTIFIED_KINDS:
        raise ValueError(f"certified=True supports kind in {CERTIFIED_KINDS} (got kind={kind!r})")
    with _progress_reporter(progress, kind) as report:
        return certified_collision_map(system, bath, coupling, kind, dps=dps, tol=tol, progress=report)


def _progress_reporter(progress, kind):
    """Context manager yielding a ``fraction -> None`` callable (or None) for :func:`_adaptive`."""
    import contextlib

    if progress is None or progress is False:
        return contextlib.nullcontext(None)
    if callable(progress):
        return contextlib.nullcontext(progress)
    if progress is not True:
        raise TypeError(f"progress must be None, True or a callable taking a fraction (got {progress!r})")

    @contextlib.contextmanager
    def bar():
        from tqdm import tqdm

        with tqdm(total=1000, desc=f"{kind} map quadrature", unit="permille", leave=False) as t:
            def report(fraction):
                t.update(max(0, int(1000 * fraction) - t.n))
            yield report
    return bar()


def _collision_map(system, bath, coupling, kind, dps, tol, storage, smatrix, progress):
    """:func:`collision_map` with ``progress`` resolved to a callable or None."""
    st = _resolve_storage(storage, kind, system, coupling, dps)
    interp = _resolve_smatrix(smatrix, kind, getattr(system, "dim", 0), dps)
    if tol is None:
        tol = Tolerances.map_default(dps if dps is None else get_context(dps).dps)
    if st == "compact":
        cm = _collision_map_compact(system, bath, coupling, kind, dps, tol, interp, progress)
        _warn_above_tol(cm, tol)
        return cm
    ctx, tol, es, es_s, V_eig = _setup(system, bath, coupling, kind, dps, tol, interpolate=interp)
    d = system.dim
    e = _snap_energies(ctx, es_s)
    narrow = kind in ("global", "local")
    classes = None
    if narrow:
        what = "Delta_{j'j} = Delta_{k'k}" if kind == "global" else "Delta^(0)_{j'j} = Delta^(0)_{k'k}"
        classes, _ = _bohr_classes(ctx, e, what)
    flat, parts, info = _integrate(ctx, e, V_eig, bath, coupling.g, tol, narrow, classes, interpolate=interp,
                                   progress=progress)
    D = d * d
    T2 = _class_blocks_dense(ctx, classes, flat, D) if narrow else flat.reshape(D, D)
    tensor = T2.reshape(d, d, d, d).transpose(0, 2, 1, 3)
    if kind in ("local", "exact_h0"):
        W = ctx.matmul(ctx.conj(es_s.vectors).T, es.vectors)
        tensor = _rotate(ctx, tensor, W)
        parts["rotation"] = {"value": float(8 * d * ctx.eps), "kind": "estimate",
                             "note": "rounding of the change of basis H(0) -> H(eps) (orthogonal, band-preserving)"}
    tensor = np.ascontiguousarray(tensor)
    del flat, T2  # at most two d^4 arrays live (memory.estimate_memory, issue 16)
    info["kind"] = kind
    info["storage"] = "dense"
    cm = CollisionMap(tensor, parts, kind, system, bath, coupling, dps, es, info)
    _warn_above_tol(cm, tol)
    if kind in ("exact", "exact_h0"):
        _check_complete_positivity(cm)
    return cm


def _warn_above_tol(cm, tol):
    """RuntimeWarning (for the caller of :func:`collision_map`) when the error estimate exceeds ``tol``,
    naming the cause when panels were accepted unresolved at a work limit."""
    if not cm.error_estimate > tol:
        return
    why = ""
    n_unres = cm.info.get("unresolved_panels", 0) + cm.info.get("interp_unresolved", 0)
    if n_unres:
        why = (f" ({n_unres} quadrature/interpolation panels accepted unresolved at the work limit or the "
               f"narrowest panel width; their error estimates are included)")
    warnings.warn(f"collision_map: error estimate {cm.error_estimate:.2e} exceeds tol {tol:.1e}{why}", RuntimeWarning,
                  stacklevel=3)


def _collision_map_compact(system, bath, coupling, kind, dps, tol, interp=False, progress=None):
    """Compact (block) global (45) or local (54)-(56) map; see ``storage`` in :func:`collision_map`."""
    if kind == "global":
        ctx, tol, es, es_s, V_eig = _setup(system, bath, coupling, kind, dps, tol, check_memory=False)
        d = system.dim
        e = _snap_energies(ctx, es_s)
        classes, _ = _bohr_classes(ctx, e, "Delta_{j'j} = Delta_{k'k}")
        stored = sum(len(c) ** 2 for c in classes)
        extra = _interp_table_bytes(ctx, e, float(bath.beta), tol) if interp else 0
        need = memory._check_compact_memory(d, stored, kind, dps, extra, interp)
        flat, parts, info = _integrate(ctx, e, V_eig, bath, coupling.g, tol, True, classes, interpolate=interp,
                                       progress=progress)
        info.update(kind=kind, storage="compact", stored_numbers=stored, memory_estimate_bytes=need,
                    bohr_classes=len(classes))
        return _GlobalBlocks(classes, flat, parts, kind, system, bath, coupling, dps, es, info)
    # local: the site qubit alone (energies 0, h; V = sigma_x) on the panels of H(0) of the chain
    ctx, tol, es, _, _ = _setup(system, bath, coupling, kind, dps, tol, check_memory=False, scattering_basis=False)
    d = system.dim
    coupling.operator(system)  # validates site <= N
    need = memory.check_local_site_memory(d, dps)  # S_1, U and the temporaries of .apply
    if system.uniform:
        h = to_ctx(ctx, system.h)
        e1 = ctx.array([h * 0, h])
        bp = ctx.array([h * n for n in range(system.N + 1)])
    else:
        # detuned chain: S_1 is the one-qubit map of the coupled site, energies 0 and h_site; the
        # other sites only shift the total energy and drop out (see _LocalSite), so the panels
        # are those of the site qubit itself
        h = to_ctx(ctx, system.site_h(coupling.site))
        e1 = ctx.array([h * 0, h])
        bp = e1
    V1 = ctx.array(np.array([[0.0, 1.0], [1.0, 0.0]]))
    classes, _ = _bohr_classes(ctx, e1, "Delta^(0)_{j'j} = Delta^(0)_{k'k}")
    flat, parts, info = _integrate(ctx, e1, V1, bath, coupling.g, tol, True, classes, bp_energies=bp,
                                   progress=progress)
    T2 = _class_blocks_dense(ctx, classes, flat, 4)
    S1 = T2.reshape(2, 2, 2, 2).transpose(0, 2, 1, 3)
    U = es.vectors
    parts["rotation"] = {"value": float(8 * d * ctx.eps), "kind": "estimate",
                         "note": "rounding of the change of basis local -> eigenbasis of H(eps) (orthogonal, "
                                 "band-preserving) in .apply"}
    info.update(kind=kind, storage="compact", stored_numbers=16 + d * d, memory_estimate_bytes=need)
    return _LocalSite(S1, U, coupling.site, system.N, parts, kind, system, bath, coupling, dps, es, info)


def exact_entries(system, bath, coupling, pairs, dps=None, tol=None):
    """A block of the exact tensor (38): ``S^{jk}_{j'k'}`` for ``(j', j)`` and ``(k', k)`` in ``pairs``.

    Same algorithm as ``collision_map(kind="exact")`` but only the requested entries are
    accumulated (and only the s-matrix rows of the outgoing channels involved are
    computed): a cheap way to get a few entries at high precision.

    Parameters
    ----------
    pairs : sequence of (j', j)
        Index pairs in the eigenbasis of ``system.eigensystem(dps)``.

    Returns
    -------
    block : (n, n) array
        ``block[a, b] = tensor[j'_a, j'_b, j_a, j_b]`` with ``(j'_a, j_a) = pairs[a]``.
    error_estimate : float
        Entry error (an estimate: quadrature and rounding parts are estimates).
    error : ErrorBudget
    """
    ctx, tol, es, es_s, V_eig = _setup(system, bath, coupling, "exact", dps, tol, check_memory=False)
    d = system.dim
    sel = []
    for pr in pairs:
        jp, j = (int(x) for x in pr)
        if not (0 <= jp < d and 0 <= j < d):
            raise ValueError(f"pairs entries must be in 0..{d - 1} (got {pr!r})")
        sel.append(jp * d + j)
    e = _snap_energies(ctx, es_s)
    flat, parts, info = _integrate(ctx, e, V_eig, bath, coupling.g, tol, False, None, sel)
    n = len(sel)
    error = ErrorBudget(parts)
    return flat.reshape(n, n), error.total, error
