"""Options of :func:`symcoll.collision_map` and the validation of its inputs (one place).

``kind`` (:data:`KINDS`), ``tol``, ``storage`` (:data:`STORAGES`) and ``smatrix``
(:data:`SMATRIX`) are checked and resolved here; the model objects (system, bath, coupling)
are validated by :func:`_setup`, which also returns the eigenbases and the coupling in the
scattering basis.
"""
from __future__ import annotations

import math
import numbers
import warnings

from ..errors import SymcollWarning
from ..model import DeltaCoupling, EffusionBath, QubitChain, System
from ..numeric import WASTED_DIGITS_WARN, Tolerances, get_context
from ..scattering import to_eigenbasis
from . import memory

__all__ = ["KINDS", "STORAGES", "SMATRIX", "DENSE_AUTO_MAX_N", "INTERPOLATE_AUTO_MIN_DIM",
           "EXACT_INTERPOLATE_AUTO_MIN_DIM"]

KINDS = ("exact", "global", "local", "exact_h0")
"""Map kinds: exact (38), global/narrow (45), local (54)-(56), exact_h0 ((38) with H(0))."""

STORAGES = ("auto", "dense", "compact")
"""Storage of the map: dense ``d^4`` tensor, or compact blocks (kinds "global" and "local")."""

DENSE_AUTO_MAX_N = 6
"""``storage="auto"`` keeps the dense tensor only up to this many qubits (d = 64)."""

SMATRIX = ("auto", "solve", "interpolate")
"""How the s-matrix rows (C1) are obtained at the quadrature nodes (see :func:`collision_map`)."""

INTERPOLATE_AUTO_MIN_DIM = 32
"""``smatrix="auto"`` interpolates (float64, kinds "global"/"local") from this dimension on."""

EXACT_INTERPOLATE_AUTO_MIN_DIM = 16
"""``smatrix="auto"`` uses the interpolating exact engine (float64, kind "exact", issue 16) from this
dimension on (N >= 4); below it the solved engine is already fast (N = 3: 0.05 s)."""


def _check_tol(tol, ctx):
    """Validate ``tol`` (None: :meth:`Tolerances.map_default` of the context's precision).

    Warns (:class:`SymcollWarning`) when the precision is far above what ``tol`` needs: the
    extra digits cost time and do not reduce the reported error, which ``tol`` sets.
    """
    if tol is None:
        return Tolerances.map_default(ctx.dps if ctx.is_mp else None)
    if isinstance(tol, bool) or not isinstance(tol, numbers.Real):
        raise TypeError(f"tol must be a real number in (0, 1e-3] (got {tol!r})")
    tol = float(tol)
    if not (0 < tol <= 1e-3):
        raise ValueError(f"tol must be in (0, 1e-3] (got {tol!r})")
    floor = 1e3 * ctx.eps
    if tol < floor:
        raise ValueError(
            f"tol={tol:.1e} is below what {ctx.name} arithmetic can deliver (>= {floor:.1e}); "
            "use dps=None only for tol >= 1e3 * 2.2e-16, or a larger dps"
        )
    if ctx.is_mp and ctx.dps > Tolerances.map_dps_needed(tol) + WASTED_DIGITS_WARN:
        warnings.warn(
            f"dps={ctx.dps} is far more than tol={tol:.1e} needs (about {Tolerances.map_dps_needed(tol)} digits): "
            "the extra digits make the map slower without reducing its error, which tol sets; pass a smaller "
            "tol (default for this dps: tol=None) or a smaller dps", SymcollWarning, stacklevel=4)
    return tol


def check_model_objects(system, bath, coupling):
    """The model objects of a collision map: types, and a real symmetric H (every number type)."""
    if not isinstance(system, System):
        raise TypeError(f"system must be a symcoll System or QubitChain (got {type(system).__name__})")
    if not isinstance(bath, EffusionBath):
        raise TypeError(f"bath must be an EffusionBath (got {type(bath).__name__})")
    if not isinstance(coupling, DeltaCoupling):
        raise TypeError(f"coupling must be a DeltaCoupling (got {type(coupling).__name__})")
    if not system.is_real_symmetric():
        raise ValueError(
            "H must be real symmetric for the collision maps (got a complex Hermitian H): the symmetry "
            "s_{j'j} = s_{jj'} behind detailed balance (42)-(43) needs a time-reversal invariant H, "
            "as it needs a real symmetric V; write H in a basis where it is real")


def _setup(system, bath, coupling, kind, dps, tol, check_memory=True, scattering_basis=True, interpolate=False):
    """Validate inputs; return context, tol, eigensystems (of H and of the scattering H) and V."""
    if not isinstance(kind, str) or kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS} (got {kind!r})")
    check_model_objects(system, bath, coupling)
    ctx = get_context(dps)
    tol = _check_tol(tol, ctx)
    if check_memory:
        memory.check_dense_memory(system.dim, kind, dps, interpolate)
    if kind in ("exact", "exact_h0") and float(bath.sigma_p) == 0.0:
        raise ValueError("sigma_p = 0 is the narrow-packet limit (44): use kind='global' (or sigma_p > 0)")
    if kind in ("local", "exact_h0") and not isinstance(system, QubitChain):
        raise ValueError(f"kind={kind!r} needs a QubitChain (it uses H(0) = H_loc); got {type(system).__name__}")
    coupling.operator(system)  # validates the shape of V
    es = system.eigensystem(dps)
    if not scattering_basis:
        return ctx, tol, es, None, None
    if kind in ("exact", "global"):
        scat_sys, es_s = system, es
    else:
        # H(0) = H_loc with the chain's own site energies (per site for a detuned chain)
        h0 = system.h if system.uniform else list(system.h_sites)
        scat_sys = QubitChain(system.N, h0, 0, ladder=system.ladder)
        es_s = scat_sys.eigensystem(dps)
    V_eig = to_eigenbasis(ctx, coupling.operator(scat_sys), es_s.vectors)
    return ctx, tol, es, es_s, V_eig


def _resolve_storage(storage, kind, system, coupling, dps):
    """``"dense"`` or ``"compact"`` for ``storage`` in :data:`STORAGES` (see :func:`collision_map`)."""
    if not isinstance(storage, str) or storage not in STORAGES:
        raise ValueError(f"storage must be one of {STORAGES} (got {storage!r})")
    can_compact = kind == "global" or (kind == "local" and isinstance(system, QubitChain)
                                       and getattr(coupling, "_V", None) is None)
    if storage == "compact" and not can_compact:
        why = ("the exact kinds (38) have no block structure to exploit" if kind in ("exact", "exact_h0")
               else "the compact local map needs V = sigma_x on one site of a QubitChain (no user V)")
        raise ValueError(f"storage='compact' is available for kind='global' and kind='local' only: {why}")
    if storage != "auto":
        return storage
    if not can_compact:
        return "dense"
    n = system.N if isinstance(system, QubitChain) else math.log2(max(system.dim, 1))
    fits = memory.dense_fits(system.dim, kind, dps)
    return "dense" if (fits and n <= DENSE_AUTO_MAX_N) else "compact"


def _resolve_smatrix(smatrix, kind, d, dps):
    """``True`` to interpolate the s-matrix rows, ``False`` to solve for them at every node."""
    if not isinstance(smatrix, str) or smatrix not in SMATRIX:
        raise ValueError(f"smatrix must be one of {SMATRIX} (got {smatrix!r})")
    if kind not in KINDS:
        return False  # the unknown kind is reported by the input validation
    can = dps is None
    if smatrix == "interpolate" and not can:
        raise ValueError(f"smatrix='interpolate' is available for float64 only (dps=None) (got kind={kind!r}, "
                         f"dps={dps!r})")
    if smatrix == "auto":
        if kind == "exact":
            return can and d >= EXACT_INTERPOLATE_AUTO_MIN_DIM
        return can and kind in ("global", "local") and d >= INTERPOLATE_AUTO_MIN_DIM
    return smatrix == "interpolate"
