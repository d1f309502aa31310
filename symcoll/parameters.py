"""The paper's parameters (Sec. VI E) and the options of a collision map, each in one place.

* :data:`PARAMETERS` -- every parameter of ``symcoll paper``: its value in the paper, its
  meaning, where the paper states it (or that it is symcoll's choice) and its command-line
  flag (:class:`Parameter`).  :data:`PAPER_PARAMETERS` is the read-only ``{name: value}``
  view of it, the single source of the paper's numbers (``symcoll.paper``, the symbolic
  layer's numeric checks and the tests' fixtures read it from here);
  :data:`QUICK_PARAMETERS` the small grid of ``symcoll paper --quick``.
* :func:`resolve_parameters` -- a complete, JSON-ready parameter dict from overrides,
  validated by the model's own checks (:func:`check_parameters`).
* :class:`MapOptions` -- how a collision map is built (``kind``, ``tol``, ``storage``,
  ``smatrix``, ``dps``): the options of :func:`symcoll.maps.collision_map` as one frozen
  object, passed to :func:`symcoll.paper.run_one`.

This module imports only the standard library at import time (the command line reads it to
write its help texts); the checks import the model and the maps when they run.
"""
from __future__ import annotations

import numbers
from dataclasses import asdict, dataclass
from types import MappingProxyType

__all__ = [
    "Parameter",
    "PARAMETERS",
    "PAPER_PARAMETERS",
    "QUICK_PARAMETERS",
    "PAPER_MAPS",
    "MODEL_PARAMETERS",
    "resolve_parameters",
    "check_parameters",
    "MapOptions",
]


@dataclass(frozen=True)
class Parameter:
    """One parameter of the paper's numerical section.

    Attributes
    ----------
    name : str
        Key in :data:`PAPER_PARAMETERS` and in ``results.json``'s ``"parameters"``.
    value : object
        The paper's value (a tuple for lists; ``None`` for ``tol``: the map's default).
    meaning : str
        What it is, with the equation that uses it.
    source : str
        Where the paper states the value, or ``"symcoll's choice: ..."`` when it does not.
    flag : str
        The ``symcoll paper`` option that overrides it.
    """

    name: str
    value: object
    meaning: str
    source: str
    flag: str


_CAPTIONS = "captions of Figs. 2-4"

#: Every parameter of ``symcoll paper`` with its value in the paper and where the paper states it.
PARAMETERS = MappingProxyType({p.name: p for p in (
    Parameter("N", 3, "number of qubits of the chain (64)",
              "Sec. VI E: 'numerical simulations of a 3-qubit chain, N = 3'", "--N"),
    Parameter("beta", 0.1, "inverse temperature of the bath of units, effusion distribution (40)", _CAPTIONS,
              "--beta"),
    Parameter("m", 0.1, "mass of the incident units, (40)-(41)", _CAPTIONS, "--m"),
    Parameter("g", 50.0, "strength g of the delta interaction g V delta(x) (65)",
              _CAPTIONS, "--g"),
    Parameter("Gamma", 1.0, "collision rate of the Lindblad equation (71)",
              _CAPTIONS + "; text of Fig. 2(b,c): 'even for Gamma = 1'", "--Gamma"),
    Parameter("sigma_p", 0.5, "momentum dispersion of the incident wave packets (41)", _CAPTIONS, "--sigma-p"),
    Parameter("h", 4.0, "qubit energy h of H_loc in (64)", _CAPTIONS, "--h"),
    Parameter("eps", (0.1, 3e-3, 1e-3, 5e-5), "inter-qubit couplings eps of (64) run with every map",
              "Fig. 2(b,c): 0.1 and 5e-5; Fig. 3: 0.1 and 3e-3; text on Fig. 2(d): a plateau for eps <~ 1e-3",
              "--eps"),
    Parameter("eps_sweep", (0.1, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 5e-5),
              "couplings of the band-ratio sweep of Fig. 2(d) (exact map (38) only)",
              "symcoll's choice: Fig. 2(d) shows 'different values of eps' without listing them; these span "
              "0.1 .. 5e-5 in steps of about half a decade", "--eps-sweep"),
    Parameter("maps", ("exact", "global", "local"), "collision maps: exact (38), global (45), local (54)-(56)",
              "Sec. VI E, items i)-iii) after (71)", "--maps"),
    Parameter("t_min", 1e-2, "first time of the log-spaced time grid",
              "symcoll's reading of the log time axes of Figs. 2-4", "--times"),
    Parameter("t_max", 1e5, "last time of the log-spaced time grid",
              "symcoll's reading of the log time axes of Figs. 2-4 (the text discusses t ~ 1e3 and 'long times')",
              "--times"),
    Parameter("n_times", 141, "number of times of the grid", "symcoll's choice: 20 per decade", "--times"),
    Parameter("tol", None, "target of each map's error estimate; None: the float64 default "
              "symcoll.numeric.Tolerances.map_default() = 1e-12 (recorded resolved in results.json)",
              "symcoll's choice (the paper states no accuracy)", "(none)"),
)})

#: The paper's parameters, ``{name: value}`` (read-only; :func:`resolve_parameters` gives a mutable copy).
PAPER_PARAMETERS = MappingProxyType({name: p.value for name, p in PARAMETERS.items()})

#: ``symcoll paper --quick``: the paper's model with two eps, a coarse time grid and a looser map tolerance.
QUICK_PARAMETERS = MappingProxyType(dict(PAPER_PARAMETERS, eps=(0.1, 5e-5), eps_sweep=(0.1, 5e-5), n_times=29,
                                         tol=1e-10))

#: The maps ``symcoll paper`` can run (its figures and report compare these three).
PAPER_MAPS = ("exact", "global", "local")

#: The physical parameters of the model (as opposed to the grid: eps lists, maps, times, tol).
MODEL_PARAMETERS = ("N", "h", "beta", "m", "g", "sigma_p", "Gamma")

_LISTS = ("eps", "eps_sweep", "maps")


def resolve_parameters(params=None, ladder="paper", **overrides) -> dict:
    """A complete, checked, JSON-ready parameter dict: ``params`` (default the paper's) with ``overrides``.

    Missing keys take the paper's values; lists become lists (of floats for eps), ``tol=None``
    becomes the map default it stands for (:meth:`symcoll.numeric.Tolerances.map_default`).

    Parameters
    ----------
    params : mapping, optional
        Base parameters, e.g. :data:`QUICK_PARAMETERS`; default :data:`PAPER_PARAMETERS`.
    ladder : {"paper", "unit"}
        Ladder convention of the chain, used to check the chain parameters.
    **overrides
        Values replacing those of ``params``.

    Returns
    -------
    dict

    Raises
    ------
    ValueError, TypeError
        An unknown parameter name, or a value the model refuses (:func:`check_parameters`);
        the message starts with the parameter's name.
    """
    from .numeric import Tolerances

    base = dict(PAPER_PARAMETERS if params is None else params)
    unknown = sorted(set(base) - set(PARAMETERS)) + sorted(set(overrides) - set(PARAMETERS))
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; known: {list(PARAMETERS)}")
    p = {name: base.get(name, PAPER_PARAMETERS[name]) for name in PARAMETERS}
    p.update(overrides)
    for name in _LISTS:
        value = p[name]
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise TypeError(f"{name} must be a list (got {value!r})")
        p[name] = list(value)
    p["tol"] = Tolerances.map_default(None) if p["tol"] is None else p["tol"]
    check_parameters(p, ladder)
    p["eps"] = [float(e) for e in p["eps"]]
    p["eps_sweep"] = [float(e) for e in p["eps_sweep"]]
    return p


def check_parameters(p, ladder="paper"):
    """Check every value of a complete parameter dict with the model's own validation.

    The chain (64) through :class:`~symcoll.model.QubitChain` for each eps, the bath (40)-(41)
    through :class:`~symcoll.model.EffusionBath`, the coupling (65) through
    :class:`~symcoll.model.DeltaCoupling`, Gamma and the time grid as the Lindbladian checks
    them, each map through :class:`MapOptions`; the exact map (38), which every paper job runs
    (the eps sweep), needs ``sigma_p > 0``.  Constructions only: microseconds.

    Raises
    ------
    ValueError, TypeError
        The message starts with the parameter's name (``h must be > 0, ...``).
    """
    from .dynamics import _check_gamma, _check_times
    from .model import DeltaCoupling, EffusionBath, QubitChain

    for name in ("eps", "eps_sweep", "maps"):
        if not p[name]:
            raise ValueError(f"{name} must list at least one value (got {p[name]!r})")
    for name in ("eps", "eps_sweep"):
        for eps in p[name]:
            try:
                QubitChain(p["N"], p["h"], eps, ladder=ladder)
            except (ValueError, TypeError) as exc:  # name the list the bad eps is in
                if name == "eps" or not str(exc).startswith("eps "):
                    raise
                raise type(exc)(name + str(exc)[len("eps"):]) from exc
    bath = EffusionBath(p["beta"], p["m"], p["sigma_p"])
    if float(bath.sigma_p) == 0.0:
        raise ValueError("sigma_p must be > 0 for the exact map (38) that every paper job runs (the eps sweep); "
                         "sigma_p = 0 is the narrow-packet limit (44), the global map (45)")
    DeltaCoupling(p["g"], site=1)
    _check_gamma(p["Gamma"])
    bad = [k for k in p["maps"] if k not in PAPER_MAPS]
    if bad or len(set(p["maps"])) != len(p["maps"]):
        raise ValueError(f"maps must be distinct names among {', '.join(PAPER_MAPS)} (got {list(p['maps'])})")
    for kind in p["maps"]:
        MapOptions(kind, tol=p["tol"])
    n = p["n_times"]
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n_times must be an integer >= 1 (got {n!r})")
    _check_times([p["t_min"], p["t_max"]])
    if not 0 < p["t_min"] < p["t_max"]:
        raise ValueError(f"t_min and t_max must satisfy 0 < t_min < t_max (got {p['t_min']!r}, {p['t_max']!r})")


@dataclass(frozen=True)
class MapOptions:
    """How a collision map is built: the options of :func:`symcoll.maps.collision_map` as one object.

    Parameters
    ----------
    kind : str
        One of :data:`symcoll.maps.KINDS`: ``"exact"`` (38), ``"global"`` (45), ``"local"``
        (54)-(56), ``"exact_h0"``.
    tol : float or None
        Target of the map's error estimate; ``None``: tied to the precision,
        :meth:`symcoll.numeric.Tolerances.map_default` (``1e-12`` in float64).
    storage : str
        One of :data:`symcoll.maps.STORAGES` (``"auto"``, ``"dense"``, ``"compact"``).
    smatrix : str
        One of :data:`symcoll.maps.SMATRIX` (``"auto"``, ``"solve"``, ``"interpolate"``).
    dps : int or None
        ``None`` for float64, else mpmath at ``dps >= 15`` digits.

    Notes
    -----
    The names are checked here (so that a command line can refuse a bad option before
    computing); everything that depends on the system (the range of ``tol`` at this
    precision, compact storage only for the narrow maps, interpolation only in float64) is
    checked by :func:`~symcoll.maps.collision_map` itself when :meth:`build` calls it.

    Examples
    --------
    >>> MapOptions("global", tol=1e-10).to_dict()
    {'kind': 'global', 'tol': 1e-10, 'storage': 'auto', 'smatrix': 'auto', 'dps': None}
    """

    kind: str = "exact"
    tol: float | None = None
    storage: str = "auto"
    smatrix: str = "auto"
    dps: int | None = None

    def __post_init__(self):
        from .maps import KINDS, SMATRIX, STORAGES
        from .numeric import _check_dps

        for name, allowed in (("kind", KINDS), ("storage", STORAGES), ("smatrix", SMATRIX)):
            value = getattr(self, name)
            if not isinstance(value, str) or value not in allowed:
                raise ValueError(f"{name} must be one of {allowed} (got {value!r})")
        if self.dps is not None:
            object.__setattr__(self, "dps", _check_dps(self.dps))

    @classmethod
    def coerce(cls, kind_or_options) -> "MapOptions":
        """``MapOptions`` unchanged, or ``MapOptions(kind)`` for a map name."""
        if isinstance(kind_or_options, cls):
            return kind_or_options
        if isinstance(kind_or_options, str):
            return cls(kind_or_options)
        raise TypeError(f"options must be a map kind (str) or a MapOptions (got {type(kind_or_options).__name__})")

    @property
    def resolved_tol(self) -> float:
        """``tol``, or the default it stands for at this precision (:meth:`Tolerances.map_default`)."""
        from .numeric import Tolerances

        return Tolerances.map_default(self.dps) if self.tol is None else self.tol

    def build(self, system, bath, coupling, progress=None):
        """The collision map of ``system`` (:func:`symcoll.maps.collision_map` with these options)."""
        from .maps import collision_map

        return collision_map(system, bath, coupling, kind=self.kind, dps=self.dps, tol=self.tol,
                             storage=self.storage, smatrix=self.smatrix, progress=progress)

    def to_dict(self) -> dict:
        """JSON-ready ``{kind, tol, storage, smatrix, dps}`` (``tol`` as given: None means the default)."""
        return asdict(self)
