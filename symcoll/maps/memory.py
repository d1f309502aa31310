"""Memory estimates of the collision maps, and the limit :func:`max_bytes` they are checked against.

The sizes are those of the dense tensor ``S^{jk}_{j'k'}`` of Eqs. (17), (38), (45), (54)-(56)
(``d^4`` entries) and of the compact storages of (45) (Bohr-class blocks) and (54)-(56).  A map whose
estimate exceeds the limit is refused up front, before any work, with the GiB it needs.

**The limit** (:func:`max_bytes`, read at every check):

1. ``symcoll.maps.memory.MAX_BYTES`` when a program has assigned it a value other than the default
   (``memory.MAX_BYTES = 12 * 2**30``; tests lower it with ``monkeypatch``);
2. else the environment variable ``SYMCOLL_MAX_GIB`` (:data:`MAX_GIB_ENV`, a positive number of GiB,
   at most the machine's physical memory), e.g. ``SYMCOLL_MAX_GIB=12`` for the exact map at N = 7
   (~9.7 GiB);
3. else the default :data:`DEFAULT_MAX_BYTES` = 8 GiB (a third of the 24 GiB machines this was written
   on: a build that passes the default leaves room for the rest of a session), lowered to
   :data:`DEFAULT_RAM_FRACTION` (80 %) of the physical memory on smaller machines (an 8 GiB build on an
   8 GiB laptop would be killed or swap, not finish).
"""
from __future__ import annotations

import math
import os

__all__ = ["MAX_BYTES", "DEFAULT_MAX_BYTES", "DEFAULT_RAM_FRACTION", "MAX_GIB_ENV", "max_bytes", "physical_memory_bytes",
           "estimate_memory", "estimate_compact_memory"]

DEFAULT_MAX_BYTES = 8 * 2**30
"""Default limit (8 GiB) when neither :data:`MAX_BYTES` is reassigned nor :data:`MAX_GIB_ENV` is set."""

MAX_BYTES = DEFAULT_MAX_BYTES
"""Largest memory (tensor plus workspaces) :func:`collision_map` will allocate; assign another value to
override :data:`MAX_GIB_ENV` from a program (:func:`max_bytes`)."""

DEFAULT_RAM_FRACTION = 0.8
"""Fraction of the physical memory the default limit never exceeds (room for the OS and the session)."""

MAX_GIB_ENV = "SYMCOLL_MAX_GIB"
"""Environment variable raising (or lowering) the limit, in GiB, read at call time (:func:`max_bytes`)."""


def physical_memory_bytes():
    """Physical memory of the machine (``os.sysconf``: pages x page size), or None where unknown."""
    try:
        n = os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (AttributeError, ValueError, OSError):
        return None
    return int(n) if n > 0 else None


def max_bytes() -> int:
    """The memory limit in bytes now: :data:`MAX_BYTES` if reassigned, else ``SYMCOLL_MAX_GIB``, else 8 GiB
    (at most :data:`DEFAULT_RAM_FRACTION` of the physical memory).

    ValueError (naming the variable) when ``SYMCOLL_MAX_GIB`` is not a finite positive number or is above
    the machine's physical memory (a dense build there would swap or be killed, not finish).
    """
    if MAX_BYTES != DEFAULT_MAX_BYTES:
        return int(MAX_BYTES)
    raw = os.environ.get(MAX_GIB_ENV)
    if raw is None or not raw.strip():
        phys = physical_memory_bytes()
        return int(MAX_BYTES) if phys is None else min(int(MAX_BYTES), int(DEFAULT_RAM_FRACTION * phys))
    try:
        gib = float(raw)
    except ValueError:
        gib = float("nan")
    if not (math.isfinite(gib) and gib > 0):
        raise ValueError(f"{MAX_GIB_ENV} must be a positive number of GiB (e.g. {MAX_GIB_ENV}=12), got {raw!r}")
    phys = physical_memory_bytes()
    if phys is not None and gib * 2**30 > phys:
        raise ValueError(f"{MAX_GIB_ENV}={raw} is above this machine's physical memory ({_gib(phys):.1f} GiB); "
                         f"set at most {math.floor(_gib(phys))}")
    return int(gib * 2**30)


def _limit_text(limit, need):
    """The limit, the machine's memory and how to raise the limit, for the refusal messages."""
    phys = physical_memory_bytes()
    txt = f"above the limit of {_gib(limit):.3g} GiB"
    if phys is not None:
        txt += f" (this machine has {_gib(phys):.1f} GiB of physical memory)"
    if phys is None or need <= phys:
        txt += (f"; raise the limit with the environment variable {MAX_GIB_ENV} (e.g. {MAX_GIB_ENV}="
                f"{math.ceil(_gib(need) + 0.05)}) or symcoll.maps.memory.MAX_BYTES")
    else:
        txt += "; more than the physical memory, so raising the limit would not help"
    return txt

_CHUNK_BYTES = 192 * 2**20
"""Workspace of one chunk of quadrature nodes (float64 accumulation)."""


def _per_number(dps):
    """Bytes per stored number: complex128, or an mpmath mpc object (measured ~ 200 B)."""
    return 16 if dps is None else 240


def _gib(nbytes):
    return nbytes / 2**30


EXACT_FAST_TABLE_BYTES_PER_D3 = 400
"""Interpolation tables of :class:`~symcoll.maps.exact_fast.FastExactEngine`, bytes per ``d^3``: an
*estimate* fitted to the measured table peaks (``interp_peak_MiB``: 0.20, 1.36, 10.3 MiB at
d = 8, 16, 32, i.e. 390, 330, 315 d^3 bytes; 507 MiB = 242 d^3 bytes at d = 128)."""


def estimate_memory(d: int, kind: str, dps=None, interpolate=False) -> int:
    """Bytes needed for a map of dimension d: tensor, adaptive copies and workspaces.

    The solved exact engine (and ``exact_h0``) keeps three dense ``d^4`` accumulators (total,
    order n, order 2n) and produces the output tensor and a rotated copy: 5 copies.  The float64
    exact map with interpolated rows (``interpolate=True``, kind "exact":
    :class:`~symcoll.maps.exact_fast.FastExactEngine`, issue 16) holds at most **two** ``d^4``
    arrays at any time: the running sum (class blocks added in place) and the finalised map;
    then the finalised map and the output tensor (:func:`symcoll.maps.build._collision_map`
    drops the former); then the tensor and the one Choi copy of the complete-positivity check
    (factored in place, :func:`symcoll.maps.diagnostics.choi_min_eigenvalue_cholesky`).  Plus its
    interpolation tables (:data:`EXACT_FAST_TABLE_BYTES_PER_D3`) and the per-panel ``(21, d^2)``
    node arrays.  Measured at N = 7 (d = 128, README_derivations.md, "Exact map at N = 7"): max RSS
    8.74 GiB against this estimate's 9.70 GiB.  The global/local kinds produce a dense ``d^4`` output
    tensor plus one rotated or densified copy.
    """
    n4 = d**4
    if kind == "exact" and interpolate and dps is None:
        return int(2 * n4 * 16 + EXACT_FAST_TABLE_BYTES_PER_D3 * d**3 + 32 * 21 * d * d * 16 + 4 * _CHUNK_BYTES)
    copies = 5 if kind in ("exact", "exact_h0") else 3
    return int(copies * n4 * _per_number(dps) + 4 * _CHUNK_BYTES)


def estimate_compact_memory(d: int, stored: int, dps=None, interp_bytes: int = 0, interpolate=False) -> int:
    """Bytes for a compact map: ``stored`` numbers (about 4 live copies in the adaptive
    quadrature) and the accumulation chunks, plus either the s-matrix work arrays of one
    node (``(d, d, d)`` solve batch with its LU copy, 48 d^3 bytes) or, with interpolated
    rows, the interpolation tables ``interp_bytes``."""
    rows = int(interp_bytes) if interpolate else 48 * d**3
    return int(4 * stored * _per_number(dps) + rows + 4 * _CHUNK_BYTES)


def dense_fits(d, kind, dps, interpolate=False) -> bool:
    """Whether the dense map of :func:`estimate_memory` fits the limit (:func:`max_bytes`)."""
    return estimate_memory(d, kind, dps, interpolate) <= max_bytes()


def check_dense_memory(d, kind, dps, interpolate=False):
    """Raise ValueError (with the GiB needed, the limit and how to raise it) when the dense map does not
    fit the limit (:func:`max_bytes`)."""
    need = estimate_memory(d, kind, dps, interpolate)
    limit = max_bytes()
    if need > limit:
        raise ValueError(
            f"the {kind} map for d = {d} needs about {_gib(need):.1f} GiB (dense d^4 = {d**4} entries "
            f"plus workspaces, estimated before allocating), {_limit_text(limit, need)}; or use a smaller system"
            + (" or storage='compact'" if kind in ("global", "local") else "")
        )


def _check_compact_memory(d, stored, kind, dps, interp_bytes=0, interpolate=False):
    """Bytes of :func:`estimate_compact_memory`; ValueError when above the limit (:func:`max_bytes`)."""
    need = estimate_compact_memory(d, stored, dps, interp_bytes, interpolate)
    limit = max_bytes()
    if need > limit:
        what = "interpolation tables" if interpolate else "s-matrix workspaces"
        raise ValueError(
            f"the compact {kind} map for d = {d} needs about {_gib(need):.1f} GiB ({stored} stored numbers "
            f"plus {what}), {_limit_text(limit, need)}; or use a smaller system")
    return need


def check_local_site_memory(d, dps):
    """Bytes of the compact local map (S_1, U and the temporaries of ``.apply``); ValueError above the limit."""
    per = _per_number(dps)
    need = 64 * per + 4 * per * d * d + _CHUNK_BYTES
    limit = max_bytes()
    if need > limit:
        raise ValueError(f"the compact local map for d = {d} needs about {_gib(need):.1f} GiB, "
                         f"{_limit_text(limit, need)}")
    return need


def check_densify(kind, d, need):
    """ValueError when a compact map's dense tensor (``need`` bytes) does not fit the limit (:func:`max_bytes`)."""
    limit = max_bytes()
    if need > limit:
        raise ValueError(
            f"this {kind} map is stored compactly (d = {d}); the dense d^4 tensor needs "
            f"{_gib(need):.1f} GiB ({_limit_text(limit, need)}): use .apply(rho) and "
            ".diagnostics(), which work blockwise")


GENERATOR_COPIES = 6
"""``(d^2, d^2)`` arrays the dense generator (71) holds at its peak (:class:`symcoll.dynamics.Lindbladian`):
L itself, the block LAPACK ``geev`` works on, its eigenvectors V, ``V^{-1}``, the SVD copy of V for
``cond_2(V)`` and one for the bordered steady-state solve.  Measured at N = 6 (exact map, one block of 4096):
max RSS 2.3 GiB against 6 x 0.25 GiB = 1.5 GiB for these arrays plus the map and the interpreter."""


def estimate_generator_memory(d: int, dps=None, copies=GENERATOR_COPIES) -> int:
    """Bytes of ``copies`` ``(d^2, d^2)`` arrays (default: the dense generator (71) and its eigen-decomposition)."""
    return int(copies * d**4 * _per_number(dps))


def check_generator_memory(d: int, dps=None, copies=GENERATOR_COPIES, what="L and its eigen-decomposition") -> int:
    """ValueError (with the GiB) when ``copies`` dense ``(d^2, d^2)`` arrays of a d-level system's generator do not
    fit :func:`max_bytes` (default: the dense generator and its eigen-decomposition)."""
    need = estimate_generator_memory(d, dps, copies)
    limit = max_bytes()
    if need > limit:
        raise ValueError(
            f"the dense generator (71) for d = {d} needs about {_gib(need):.1f} GiB ({copies} arrays of "
            f"(d^2, d^2) = ({d * d}, {d * d}) numbers for {what}), {_limit_text(limit, need)}; "
            "the global and local maps avoid it with storage='compact' (sector generators)")
    return need
