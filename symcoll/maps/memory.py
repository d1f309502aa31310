"""Memory estimates of the collision maps, and the limit :data:`MAX_BYTES` they are checked against.

Every check reads ``memory.MAX_BYTES`` at call time (tests lower it with ``monkeypatch``).
The sizes are those of the dense tensor ``S^{jk}_{j'k'}`` of Eqs. (17), (38), (45), (54)-(56)
(``d^4`` entries) and of the compact storages of (45) (Bohr-class blocks) and (54)-(56).
"""
from __future__ import annotations

__all__ = ["MAX_BYTES", "estimate_memory", "estimate_compact_memory"]

MAX_BYTES = 8 * 2**30
"""Largest memory (tensor plus workspaces) :func:`collision_map` will allocate (8 GiB)."""

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
d = 8, 16, 32, i.e. 390, 330, 315 d^3 bytes)."""


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
    node arrays.  The global/local kinds produce a dense ``d^4`` output tensor plus one rotated
    or densified copy.
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
    """Whether the dense map of :func:`estimate_memory` fits :data:`MAX_BYTES`."""
    return estimate_memory(d, kind, dps, interpolate) <= MAX_BYTES


def check_dense_memory(d, kind, dps, interpolate=False):
    """Raise ValueError (with the GiB needed) when the dense map does not fit :data:`MAX_BYTES`."""
    need = estimate_memory(d, kind, dps, interpolate)
    if need > MAX_BYTES:
        raise ValueError(
            f"the {kind} map for d = {d} needs about {_gib(need):.1f} GiB (dense d^4 = {d**4} entries "
            f"plus workspaces), above the limit of {_gib(MAX_BYTES):.0f} GiB; use a smaller system"
            + (" or storage='compact'" if kind in ("global", "local") else "")
        )


def _check_compact_memory(d, stored, kind, dps, interp_bytes=0, interpolate=False):
    """Bytes of :func:`estimate_compact_memory`; ValueError when above :data:`MAX_BYTES`."""
    need = estimate_compact_memory(d, stored, dps, interp_bytes, interpolate)
    if need > MAX_BYTES:
        what = "interpolation tables" if interpolate else "s-matrix workspaces"
        raise ValueError(
            f"the compact {kind} map for d = {d} needs about {_gib(need):.1f} GiB ({stored} stored numbers "
            f"plus {what}), above the limit of {_gib(MAX_BYTES):.0f} GiB; use a smaller system")
    return need


def check_local_site_memory(d, dps):
    """Bytes of the compact local map (S_1, U and the temporaries of ``.apply``); ValueError above the limit."""
    per = _per_number(dps)
    need = 64 * per + 4 * per * d * d + _CHUNK_BYTES
    if need > MAX_BYTES:
        raise ValueError(f"the compact local map for d = {d} needs about {_gib(need):.1f} GiB, above the limit "
                         f"of {_gib(MAX_BYTES):.0f} GiB")
    return need


def check_densify(kind, d, need):
    """ValueError when a compact map's dense tensor (``need`` bytes) does not fit :data:`MAX_BYTES`."""
    if need > MAX_BYTES:
        raise ValueError(
            f"this {kind} map is stored compactly (d = {d}); the dense d^4 tensor needs "
            f"{_gib(need):.1f} GiB (> MAX_BYTES = {_gib(MAX_BYTES):.0f} GiB): use .apply(rho) and "
            ".diagnostics(), which work blockwise")
