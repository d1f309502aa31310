"""Several collisional reservoirs in one generator (issue 14): Eq. (7)/(71) with a list of maps.

``L rho = -i [H(eps), rho] + sum_i Gamma_i (S_i - I) rho`` (hbar = 1, eigenbasis of H(eps)).
Exact algebra: ``sum_i Gamma_i (S_i - I) = Gamma (S_eff - I)`` with ``Gamma = sum_i Gamma_i``
and ``S_eff = sum_i (Gamma_i / Gamma) S_i`` (a convex combination of CPTP maps, so CPTP), so
:class:`~symcoll.dynamics.Lindbladian` runs unchanged on the one effective map
:class:`CombinedMap`; the list of maps and rates stays on it for :mod:`symcoll.transport`.

Error of ``S_eff`` (largest absolute entry): ``sum_i w_i e_i`` with ``w_i = Gamma_i / Gamma``
(triangle inequality: a bound when every ``e_i`` is a bound, else an estimate), plus the
rounding **estimate** of forming the weighted sum, ``(n + 1) u sum_i w_i max|S_i|``.
"""
from __future__ import annotations

import math

import numpy as np

from ..budget import ErrorBudget
from ..model import _real_param, check_map_system, to_ctx
from ..numeric import get_context
from ._arrays import in_context
from .error_budget import map_entry_error
from .user_maps import MapLike

__all__ = ["CombinedMap", "combine_reservoirs"]


def _is_list(x) -> bool:
    return isinstance(x, (list, tuple))


class CombinedMap(MapLike):
    """``S_eff = sum_i (Gamma_i / Gamma) S_i`` duck-typed like :class:`symcoll.maps.CollisionMap`.

    Attributes
    ----------
    tensor : (d, d, d, d) array
        ``[j', k', j, k]`` in the eigenbasis of ``system`` (float64 or mpmath, per ``dps``).
    maps, rates : list
        The maps ``S_i`` and rates ``Gamma_i`` in the order given.
    error : ErrorBudget
        ``"maps"`` (``sum_i w_i e_i``) and ``"combination"`` (rounding estimate).
    """

    certified = False

    def __init__(self, system, maps, rates, dps):
        self.system, self.maps, self.rates, self.dps = system, list(maps), list(rates), dps
        self.system_fingerprint = system.fingerprint()
        kinds = [str(getattr(m, "kind", "unknown")) for m in maps]
        self.kind = kinds[0] if len(set(kinds)) == 1 else "+".join(kinds)
        ctx = get_context(dps)
        total = _total(ctx, rates)
        n = len(maps)
        # Gamma = 0: the dissipator vanishes whatever S_eff is; equal weights keep S_eff CPTP
        w = [to_ctx(ctx, 1) / n] * n if float(total) == 0 else [to_ctx(ctx, r) / total for r in rates]
        self.weights = [float(x) for x in w]
        T = None
        errs, rig, scale = 0.0, True, 0.0
        for wi, m in zip(w, maps):
            Ti = in_context(ctx, np.asarray(m.tensor))
            T = Ti * wi if T is None else T + Ti * wi
            e, r = map_entry_error(m)
            errs += float(wi) * e
            rig = rig and r
            scale += float(wi) * float(np.max(np.asarray(ctx.abs_float(Ti), dtype=float)))
        self.tensor = T
        self.error = ErrorBudget({
            "maps": (errs, "bound" if rig else "estimate",
                     "sum_i (Gamma_i/Gamma) e_i over the maps' entry errors (triangle inequality)"),
            "combination": ((n + 1) * ctx.eps * scale, "estimate",
                            "rounding of the weighted sum, (n + 1) u sum_i w_i max|S_i| (first order in u)"),
        })


def _total(ctx, rates):
    """``Gamma = sum_i Gamma_i`` in the context (float64: ``math.fsum``, correctly rounded)."""
    if not ctx.is_mp:
        return math.fsum(float(r) for r in rates)
    t = to_ctx(ctx, 0)
    for r in rates:
        t = t + to_ctx(ctx, r)
    return t


def combine_reservoirs(system, collision_map, Gamma, dps):
    """``(map, Gamma, maps, rates)`` for :class:`Lindbladian`: a single map passes through unchanged.

    Parameters
    ----------
    collision_map : map or list of maps
    Gamma : float or list of floats (same length as the maps, each finite and >= 0)
    dps : the Lindbladian's ``dps`` (None: the maps' common ``dps``)

    Raises
    ------
    TypeError
        A list of maps with a scalar ``Gamma`` (or the reverse), a map without ``.tensor``, an
        iterator of maps that is not a list/tuple (a 1-D object array of maps is accepted).
    ValueError
        Mismatched lengths, an empty list, a bad rate, maps of different dimension, maps of
        different ``dps`` (with ``dps=None``), or a map built for another system.
    NotImplementedError
        A certified map in a list (the certified generator takes one map).
    """
    if isinstance(collision_map, np.ndarray) and collision_map.dtype == object and collision_map.ndim == 1:
        collision_map = list(collision_map)  # a 1-D object array of maps is a list of maps
    if not _is_list(collision_map) and not hasattr(collision_map, "tensor") and hasattr(collision_map, "__iter__"):
        raise TypeError(f"collision_map must be one collision map or a list/tuple of maps "
                        f"(got {type(collision_map).__name__}; pass list(...) for an iterator)")
    if not _is_list(collision_map):
        if _is_list(Gamma) or (isinstance(Gamma, np.ndarray) and Gamma.ndim > 0):
            raise TypeError("Gamma must be a single rate when collision_map is a single map "
                            "(give a list of maps for a list of rates)")
        return collision_map, Gamma, [collision_map], [Gamma]
    maps = list(collision_map)
    if not _is_list(Gamma) and not isinstance(Gamma, np.ndarray):
        raise TypeError("Gamma must be a list of rates, one per map, when collision_map is a list of maps")
    rates = list(Gamma)
    if not maps:
        raise ValueError("collision_map (maps) must contain at least one map")
    if len(rates) != len(maps):
        raise ValueError(f"Gamma must have one rate per map: got {len(rates)} rates for {len(maps)} maps")
    for i, r in enumerate(rates):
        _real_param(f"Gamma[{i}]", r, nonneg=True, rng="[0, inf)")
    d = system.dim
    for i, m in enumerate(maps):
        if getattr(m, "certified", False) is True:
            raise NotImplementedError(f"maps[{i}] is a certified map: several reservoirs are not yet supported "
                                      "by the certified generator (give one certified map, or float/mpmath maps)")
        if not hasattr(m, "tensor"):
            raise TypeError(f"maps[{i}] must have a .tensor attribute (a CollisionMap or TensorMap)")
        shape = np.shape(m.tensor)
        if shape != (d,) * 4:
            raise ValueError(f"maps[{i}].tensor must have shape {(d,) * 4} for this system (got {shape}); "
                             "all maps must have the system's dimension")
        check_map_system(system, m, what=f"maps[{i}]")
    if dps is None:
        dpss = {getattr(m, "dps", None) for m in maps}
        if len(dpss) > 1:
            raise ValueError(f"maps have different dps {sorted(dpss, key=str)}: pass dps= to Lindbladian")
        dps = dpss.pop()
    cm = CombinedMap(system, maps, rates, dps)
    return cm, _total(get_context(dps), rates), maps, rates
