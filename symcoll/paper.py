"""``symcoll paper``: the paper's numerical section (Sec. VI E), and :func:`run_one`, one run of (71).

Reproduces Figs. 2(b-d), 3 and 4 of the paper for the 3-qubit chain (64) bombarded
on qubit 1 through the delta interaction (65), with the three dissipators of
Eq. (71): the exact map (38), the global (narrow-packet) map (45) and the local map
(54)-(56) (Eq. (67)).  Observables: eigenbasis populations, the band ratio
rho_123/rho_00 (74) against the Gibbs (72) and local-thermal (73) values, the
inter-band temperature beta_eff(0 -> 2) (75) and the intra-band coherence rho_23.

The parameters are the paper's (:data:`symcoll.parameters.PAPER_PARAMETERS`, each with where
the paper states it); every model parameter, the eps lists, the maps and the time grid can be
overridden on the command line, and ``results.json`` records the values used and the command.

Outputs (``--out DIR``): ``fig2.png``, ``fig3.png``, ``fig4.png``, ``results.json``
and ``report.md`` (each claim of the paper's text with the numbers that decide it), written
as one set with ``manifest.json`` last (:mod:`symcoll.outputs`: checked before the run,
locked against a concurrent run, left unchanged by an interrupted one).
``symcoll evolve`` (one run from the command line) lives in :mod:`symcoll.evolve`.
"""
from __future__ import annotations

import json
import math
import os
import shlex
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import conventions as cv
from ._version import __version__
from .errors import NotCompletelyPositiveWarning
from .outputs import MANIFEST_NAME, OutputSet, atomic_write
from .parameters import PAPER_PARAMETERS, PARAMETERS, QUICK_PARAMETERS, MapOptions, resolve_parameters

__all__ = ["PAPER_PARAMETERS", "QUICK_PARAMETERS", "MapOptions", "run_one", "run_paper", "PaperRun",
           "validate_high_precision", "reference_values", "main"]


# ----------------------------------------------------------------------------- progress
class _Progress:
    """A progress bar on a terminal (tqdm); otherwise silent, or with ``lines=True`` one line per step
    on stderr (``desc: k/total text, elapsed s``) so that a long run redirected to a log shows where it is."""

    def __init__(self, total, desc, lines=False):
        self._bar = None
        self._lines = bool(lines) and total > 0 and not sys.stderr.isatty()
        self._total, self._desc, self._k, self._t0 = total, desc, 0, time.perf_counter()
        if sys.stderr.isatty():
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=desc, leave=False)
            except ImportError:  # pragma: no cover - tqdm is a dependency
                self._bar = None

    def update(self, text=""):
        self._k += 1
        if self._bar is not None:
            self._bar.set_postfix_str(text)
            self._bar.update(1)
        elif self._lines:
            print(f"{self._desc}: {self._k}/{self._total} {text}, {time.perf_counter() - self._t0:.0f} s",
                  file=sys.stderr, flush=True)

    def note(self, text):
        """A line within the current step (the stages of a long one), shown as :meth:`update` shows steps."""
        if self._bar is not None:
            self._bar.write(f"{self._desc}: {text}", file=sys.stderr)
        elif self._lines:
            print(f"{self._desc}: {text}, {time.perf_counter() - self._t0:.0f} s", file=sys.stderr, flush=True)

    def close(self):
        if self._bar is not None:
            self._bar.close()


# ----------------------------------------------------------------------------- one run
def run_one(chain, bath, coupling, Gamma, options, times, rho0=None, basis="eigen", progress=None):
    """Evolve ``rho0`` under Eq. (71) with the collision map of ``options`` and collect the observables.

    Parameters
    ----------
    chain : QubitChain
        The chain (64).
    bath : EffusionBath
        The bath of units, (40)-(41).
    coupling : DeltaCoupling
        The delta interaction (65) and the bombarded site.
    Gamma : float
        Collision rate of (71).
    options : str or MapOptions
        The map: a kind (``"exact"`` (38), ``"global"`` (45), ``"local"`` (54)-(56)) or
        :class:`~symcoll.parameters.MapOptions` (kind, tol, storage, smatrix, dps).
    times : 1-D array of float
    rho0 : (d, d) array, optional
        Initial state; default ``|0..0><0..0|``, the paper's (Sec. VI E).
    basis : {"eigen", "local"}
        Basis of ``rho0`` (:meth:`symcoll.dynamics.Lindbladian.evolve`).
    progress : None, True or callable
        Progress of the map's quadrature (``collision_map(progress=...)``).

    Returns
    -------
    dict
        JSON-ready, the fields of one entry of ``results.json``'s ``"runs"``.
    """
    from . import observables as ob
    from .dynamics import Lindbladian

    opts = MapOptions.coerce(options)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        # a completely-positivity defect of (38) is reported in the outputs, not printed
        warnings.simplefilter("always", NotCompletelyPositiveWarning)
        cmap = opts.build(chain, bath, coupling, progress=progress)
    for w in caught:
        if not issubclass(w.category, NotCompletelyPositiveWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    t_map = time.perf_counter() - t0
    L = Lindbladian(chain, cmap, Gamma)
    d = chain.dim
    es = chain.eigensystem()
    if rho0 is None:
        rho0, basis = basis_state(chain, 0), "eigen"
    t1 = time.perf_counter()
    ev = L.evolve(rho0, times, basis=basis)
    try:
        ss = L.steady_state()
    except ValueError as exc:  # e.g. a level the collisions never reach (a dark state of --site)
        ss, ss_note = None, str(exc)
    t_dyn = time.perf_counter() - t1
    states = ev.states_float()
    beta_eff, beta_eff_note = beta_eff_where_resolved(states, chain, ev.error_estimate, 0, 2)
    ratio, ratio_note = ratio_where_resolved(states, chain, ev.error_estimate)
    gibbs = ob.gibbs_state(chain, bath.beta)
    loc = ob.local_thermal_state(chain, bath.beta, site=coupling.site)
    pops = np.real(np.einsum("tii->ti", states))
    diag = cmap.diagnostics()
    # (66) with eps0 = n h needs one h; a detuned chain's version is in the map diagnostics ("sum_rule")
    same, inter = (sum_rule_residuals(cmap.tensor, es.bands, bath.beta, chain.h) if chain.uniform
                   else (None, None))
    relaxation_time = relaxation_time_of(L)
    return {
        "eps": float(chain.eps),
        "map": opts.kind,
        "map_options": opts.to_dict(),
        "site": coupling.site,
        "times": [float(t) for t in times],
        "populations": pops.tolist(),
        "band_populations": ob.band_populations(states, chain).tolist(),
        "ratio_123_00": ratio,
        "ratio_123_00_note": ratio_note,
        "beta_eff_0_2": beta_eff,
        "beta_eff_0_2_note": beta_eff_note,
        "rho_23": (np.stack([states[:, 2, 3].real, states[:, 2, 3].imag], axis=1).tolist() if d >= 4
                   else [None] * len(states)),  # Fig. 3's coherence needs levels 2 and 3
        "error_estimate": [float(x) for x in ev.error_estimate],
        "error": _jsonable(ev.error.to_dict()),
        "stationary": ({"unique": False, "note": ss_note} if ss is None else {
            "unique": True,
            "populations": np.real(np.diag(np.asarray(ss))).tolist(),
            "trace_distance_gibbs": float(ob.trace_distance(np.asarray(ss), gibbs)),
            "trace_distance_local_thermal": float(ob.trace_distance(np.asarray(ss), loc)),
            "residual": float(ss.residual),
            "error_estimate": float(ss.error_estimate),
            "error": _jsonable(ss.error.to_dict()),
        }),
        "relaxation_time": relaxation_time,
        "sum_rule_same_band": same,
        "sum_rule_inter_band": inter,
        "map_error_estimate": float(cmap.error_estimate),
        "map_error": _jsonable(cmap.error.to_dict()),
        "map_diagnostics": _jsonable(diag),
        "complete_positivity": complete_positivity_report(cmap, caught),
        "energies": [float(x) for x in es.energies],
        "seconds": {"map": t_map, "dynamics": t_dyn},
    }


def relaxation_time_of(L):
    """``1 / gap`` of (71): the gap is the smallest ``|Re lambda|`` over the non-zero eigenvalues of L.

    Read off the generator's cached float64 spectrum of its invariant blocks
    (:meth:`symcoll.dynamics.Lindbladian.spectrum`, already computed by the propagation), so no
    eigenvalue problem is solved twice.  ``inf`` when the gap is not positive.
    """
    gap = L.spectrum().relaxation_gap()
    return float(1.0 / gap) if gap > 0 else float("inf")


def basis_state(chain, band):
    """``|k><k|`` (eigenbasis) for the eigenstate ``k`` spanning excitation band ``band`` (0 or N).

    Bands 0 (``|0..0>``, no excitation: the paper's initial state) and N (``|1..1>``, every
    qubit excited) hold one state each, an eigenstate of H(eps) for every eps.
    """
    bands = np.asarray(chain.eigensystem().bands)
    (k,) = np.flatnonzero(bands == band)
    rho = np.zeros((chain.dim, chain.dim), dtype=complex)
    rho[k, k] = 1.0
    return rho


def complete_positivity_report(cmap, caught=()):
    """JSON-ready statement of the map's complete positivity (see README, "Where the model applies").

    Exact maps (38) measure their smallest Choi eigenvalue at build time; ``warned`` is True when
    it was below ``-CP_WARN_FACTOR`` times its noise estimate (a :class:`NotCompletelyPositiveWarning`
    was raised: a property of the incident state (41), not a numerical error).  The global (45) and
    local (54)-(56) maps are CP by construction.
    """
    warned = [str(w.message) for w in caught if issubclass(w.category, NotCompletelyPositiveWarning)]
    if cmap.cp_defect is None:
        return {"checked": False, "warned": False,
                "meaning": f"kind={cmap.kind!r} is completely positive by construction (positive weights on each "
                           "Bohr class of (45))"}
    return {"checked": True, "warned": bool(warned),
            "min_choi_eigenvalue": float(cmap.info["min_choi_eigenvalue"]),
            "noise_estimate": float(cmap.info["choi_noise_estimate"]),
            "cp_defect": float(cmap.cp_defect),
            "message": warned[0] if warned else None,
            "meaning": "smallest Choi eigenvalue of the exact map (38) against its numerical noise estimate "
                       "(d^2 x map error + eigen-solver rounding); a defect far above the noise is a property "
                       "of the incident state (41) at this sigma_p"}


def sum_rule_residuals(tensor, bands, beta, h):
    """Residuals of the sum rule (63)/(66), ``X_{j'k'} = sum_j S^{jj}_{j'k'} e^{-beta eps0_j} - delta e^{-beta eps0_j'}``.

    ``eps0_j = h n_j`` (the energies of H(0)).  Returns ``(max over j', k' in the same band,
    max over j', k' in different bands)``: (63) claims the first is O(eps) for the exact map
    (38); the second measures the inter-band coherences that (48) neglects.
    """
    T = np.asarray(tensor)
    if T.dtype == object:
        T = np.array(T.tolist(), dtype=complex)
    w = np.exp(-beta * h * np.asarray(bands, dtype=float))
    X = np.einsum("abjj,j->ab", T, w) - np.diag(w)
    same = np.asarray(bands)[:, None] == np.asarray(bands)[None, :]
    inter = float(np.abs(X[~same]).max()) if (~same).any() else 0.0
    return float(np.abs(X[same]).max()), inter


def beta_eff_where_resolved(states, chain, error_estimate, j=0, k=2):
    """``beta_eff(j -> k)`` of Eq. (75) at each time, ``None`` where it is not defined.

    ``log(rho_jj / rho_kk)`` needs both populations positive; a population that is not above
    the state's error estimate at that time (e.g. ``rho_22 ~ exp(-beta h)`` underflowing for
    large ``beta h``, or ``t = 0``) may be zero, so the value is not defined there.

    Parameters
    ----------
    states : (T, d, d) complex array, eigenbasis of H(eps)
    chain : QubitChain
    error_estimate : (T,) array
        The reported error of the entries at each time
        (:attr:`symcoll.dynamics.Evolution.error_estimate`; its parts and their kinds in ``error``).
    j, k : int
        Eigen-indices.

    Returns
    -------
    values : list of float or None
        JSON-ready, one entry per time.
    note : str or None
        Why and how often a value is ``None``; ``None`` if every value is defined.
    """
    from . import observables as ob

    p = np.real(np.einsum("tii->ti", states))
    if max(j, k) >= p.shape[1]:
        return [None] * len(p), (f"not applicable: Eq. (75) for levels {j} -> {k} needs at least {max(j, k) + 1} "
                                 f"levels (this system has {p.shape[1]})")
    bound = np.asarray(error_estimate, dtype=float)
    ok = (p[:, j] > bound) & (p[:, k] > bound)
    values = [None] * len(ok)
    if ok.any():
        for i, v in zip(np.flatnonzero(ok), ob.beta_eff(states[ok], chain, j, k)):
            values[i] = float(v)
    if ok.all():
        return values, None
    note = (f"null at {int((~ok).sum())} of {len(ok)} times: rho_{j}{j} or rho_{k}{k} is not above the state's "
            f"error estimate there (population underflow), so log(rho_{j}{j} / rho_{k}{k}) in Eq. (75) is not defined")
    return values, note


def ratio_where_resolved(states, chain, error_estimate, band=1):
    """The band ratio (74) ``rho_band / rho_00`` at each time, ``None`` where it is not defined.

    Eq. (74) generalised to any N >= 1 (:func:`symcoll.observables.band_ratio`; for N = 3 and
    band 1, ``rho_123 / rho_00``).  Where ``rho_00`` is not above the state's error estimate
    (e.g. at t = 0 from an excited initial state) the ratio is not defined.

    Returns
    -------
    values : list of float or None
    note : str or None
        Why and how often a value is ``None``; ``None`` if every value is defined.
    """
    from . import observables as ob

    p00 = np.real(states[:, 0, 0])
    ok = p00 > np.asarray(error_estimate, dtype=float)
    values = [None] * len(ok)
    if ok.any():
        for i, v in zip(np.flatnonzero(ok), ob.band_ratio(states[ok], chain, band)):
            values[i] = float(v)
    if ok.all():
        return values, None
    return values, (f"null at {int((~ok).sum())} of {len(ok)} times: rho_00 is not above the state's error "
                    f"estimate there, so the ratio (74) is not defined")


def _jsonable(obj):
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return _jsonable(obj.tolist())
    if isinstance(obj, (np.bool_, bool)):
        return bool(obj)
    if isinstance(obj, (np.integer, int)):
        return int(obj)
    if isinstance(obj, (np.floating, float)):
        return float(obj) if math.isfinite(obj) else str(obj)
    if isinstance(obj, complex):
        return [obj.real, obj.imag]
    if obj is None or isinstance(obj, str):
        return obj
    try:
        return float(obj)
    except (TypeError, ValueError):
        return str(obj)


# ----------------------------------------------------------------------------- the whole job
@dataclass
class PaperRun:
    """All runs of the paper job and their reference values."""

    parameters: dict
    ladder: str
    runs: list = field(default_factory=list)
    references: list = field(default_factory=list)
    seconds: float = 0.0
    validation: list = field(default_factory=list)

    def get(self, eps, kind):
        for r in self.runs:
            if r["map"] == kind and math.isclose(r["eps"], eps, rel_tol=1e-12):
                return r
        return None

    def to_json(self) -> dict:
        return {
            "symcoll_version": __version__,
            "ladder": self.ladder,
            "ladder_description": cv.LADDER_DESCRIPTIONS[self.ladder],
            "parameters": self.parameters,
            "reference_ratios": self.references,
            "runs": self.runs,
            "validation": self.validation,
            "seconds": self.seconds,
        }


def model(params, eps, ladder="paper"):
    """The model objects of one eps: ``(QubitChain (64), EffusionBath (40)-(41), DeltaCoupling (65) on qubit 1)``."""
    from .model import DeltaCoupling, EffusionBath, QubitChain

    return (QubitChain(params["N"], params["h"], eps, ladder=ladder),
            EffusionBath(params["beta"], params["m"], params["sigma_p"]), DeltaCoupling(params["g"], site=1))


def reference_values(chain, beta):
    """Gibbs (72) and local-thermal (73) ratios (74) and populations of ``chain`` at inverse temperature ``beta``."""
    from . import observables as ob

    gibbs = ob.gibbs_state(chain, beta)
    loc = ob.local_thermal_state(chain, beta)
    return {
        "eps": float(chain.eps),
        "gibbs_ratio": float(ob.band_ratio(gibbs[None], chain)[0]),
        "local_thermal_ratio": float(ob.band_ratio(loc[None], chain)[0]),
        "gibbs_populations": np.real(np.diag(gibbs)).tolist(),
        "local_thermal_populations": np.real(np.diag(loc)).tolist(),
        "gibbs_beta_eff_0_2": float(beta),
    }


def time_grid(params):
    """The log-spaced times ``t_min .. t_max`` (``n_times`` of them) of a parameter dict."""
    return np.logspace(np.log10(params["t_min"]), np.log10(params["t_max"]), int(params["n_times"]))


def run_paper(params=None, ladder="paper", progress=True) -> PaperRun:
    """Compute every (eps, map) run of Sec. VI E with the given parameters.

    Parameters
    ----------
    params : mapping, optional
        Default :data:`PAPER_PARAMETERS`; missing keys take the paper's values and every value
        is checked first (:func:`symcoll.parameters.resolve_parameters`).
    ladder : {"paper", "unit"}
    progress : bool
        A progress bar on a terminal.
    """
    p = resolve_parameters(params, ladder=ladder)
    times = time_grid(p)
    jobs = [(eps, kind) for eps in p["eps"] for kind in p["maps"]]
    jobs += [(eps, "exact") for eps in p["eps_sweep"] if eps not in p["eps"]]
    out = PaperRun(parameters=p, ladder=ladder)
    bar = _Progress(len(jobs), "symcoll paper") if progress else _Progress(0, "")
    t0 = time.perf_counter()
    for eps, kind in jobs:
        chain, bath, coupling = model(p, eps, ladder)
        out.runs.append(run_one(chain, bath, coupling, p["Gamma"], MapOptions(kind, tol=p["tol"]), times))
        bar.update(f"eps={eps:g} {kind}")
    bar.close()
    all_eps = sorted(set(p["eps"]) | set(p["eps_sweep"]), reverse=True)
    out.references = [reference_values(model(p, e, ladder)[0], p["beta"]) for e in all_eps]
    out.seconds = time.perf_counter() - t0
    return out


def validate_high_precision(run, dps, eps_values=None, kinds=("global", "local"), n_check=8, progress=True):
    """Check the float64 runs of ``run`` against the mpmath path at ``dps`` digits.

    For each eps in ``eps_values`` (default: the largest and smallest eps of the run):

    * kinds in ``kinds``: the whole pipeline (map (45) or (54)-(56) and propagation of (71))
      is redone at ``dps`` digits, with the map tolerance tied to ``dps``
      (:meth:`symcoll.numeric.Tolerances.map_default`); the largest entry difference of rho(t)
      at ``n_check`` times is compared with the float64 run's ``error_estimate`` at those times;
    * the exact map (38): the float64 tensor is promoted exactly to mpmath and propagated at
      ``dps`` digits, which isolates the propagation error (the map's own error is checked
      against 30-40 digit maps in the test suite).

    Returns a list of JSON-ready dicts, one per check, with ``passed = max_diff <= estimate`` (the
    float64 run's error estimate at those times: this checks the estimate's honesty).
    """
    from .dynamics import Lindbladian, TensorMap

    p = run.parameters
    eps_values = eps_values or sorted({max(p["eps"]), min(p["eps"])}, reverse=True)
    jobs = [(e, k) for e in eps_values for k in kinds] + [(e, "exact") for e in eps_values]
    bar = _Progress(len(jobs), f"validation at {dps} digits") if progress else _Progress(0, "")
    out = []
    for eps, kind in jobs:
        r = run.get(eps, kind)
        if r is None:
            continue
        idx = np.unique(np.linspace(0, len(r["times"]) - 1, n_check).round().astype(int))
        times = np.asarray(r["times"])[idx]
        chain, bath, coupling = model(p, eps, run.ladder)
        t0 = time.perf_counter()
        if kind == "exact":
            fmap = MapOptions("exact", tol=p["tol"]).build(chain, bath, coupling)
            cmap = TensorMap(fmap.tensor, chain, 0.0, "exact (float64 tensor promoted)", dps=dps)
            what = "propagation of the float64 exact map (38) at high precision"
        else:
            cmap = MapOptions(kind, dps=dps).build(chain, bath, coupling)  # tol: Tolerances.map_default(dps)
            what = f"map ({'45' if kind == 'global' else '54-56'}) and propagation at high precision"
        ev = Lindbladian(chain, cmap, p["Gamma"]).evolve(basis_state(chain, 0), times)
        hp = ev.states_float()
        fl = np.array([np.array(r["populations"][i]) for i in idx])
        diff = np.max(np.abs(np.real(np.einsum("tii->ti", hp)) - fl), axis=1)
        if chain.dim >= 4:
            r23 = np.array([complex(*r["rho_23"][i]) for i in idx])
            diff = np.maximum(diff, np.abs(hp[:, 2, 3] - r23))
        bound = np.asarray(r["error_estimate"])[idx]
        if kind == "exact":
            parts = r["error"]["parts"]
            bound = sum(np.asarray(v["value"], dtype=float)[idx] for k, v in parts.items() if k != "map")
        out.append({
            "eps": float(eps), "map": kind, "dps": int(dps), "what": what,
            "times": times.tolist(), "max_diff": diff.tolist(), "estimate": np.asarray(bound, dtype=float).tolist(),
            "passed": bool(np.all(diff <= bound)), "seconds": time.perf_counter() - t0,
        })
        bar.update(f"eps={eps:g} {kind}")
    bar.close()
    return out


#: The files of one ``symcoll paper`` run (committed together with ``manifest.json``).
OUTPUT_NAMES = ("fig2.png", "fig3.png", "fig4.png", "results.json", "report.md")

#: The ``symcoll paper`` flag of each parameter name that starts the model's error messages.
PAPER_FLAGS = dict({name: info.flag for name, info in PARAMETERS.items() if info.flag.startswith("--")},
                   times="--times", dps="--dps")


def paper_overrides(args) -> dict:
    """``{parameter: value}`` for every model or grid option given to ``symcoll paper``.

    ``--eps`` without ``--eps-sweep`` makes the sweep the same list (no extra runs).

    Raises
    ------
    ValueError
        A list or time grid that cannot be read (the message names the flag).
    """
    from .cli import parse_grid, parse_list

    over = {name: getattr(args, name) for name in ("N", "h", "beta", "m", "g", "sigma_p", "Gamma")
            if getattr(args, name, None) is not None}
    for name, kind in (("eps", float), ("eps_sweep", float), ("maps", str)):
        text = getattr(args, name, None)
        if text is not None:
            over[name] = parse_list(text, PARAMETERS[name].flag, kind)
    if "eps" in over and "eps_sweep" not in over:
        over["eps_sweep"] = list(over["eps"])
    if getattr(args, "times", None) is not None:
        over["t_min"], over["t_max"], over["n_times"] = parse_grid(args.times, "--times")
    return over


def main(args) -> int:
    """``symcoll paper``: write figures, results.json and report.md into ``args.out`` as one set.

    Every option is checked before the computation starts (the parameters through
    :func:`symcoll.parameters.resolve_parameters`, ``--dps``, then ``--out`` through
    :class:`symcoll.outputs.OutputSet`, which also locks the directory against a concurrent
    run).  The files are written into a staging directory and moved into ``args.out`` together,
    with ``manifest.json`` last (:mod:`symcoll.outputs`); an interrupted or failed run leaves
    ``args.out`` as it was.  ``results.json`` records the parameters used, the options given
    (``"overrides"``) and the command line.
    """
    from .cli import naming_flags
    from .figures import make_figures
    from .numeric import _check_dps
    from .report import write_report

    with naming_flags(PAPER_FLAGS):
        overrides = paper_overrides(args)
        params = resolve_parameters(QUICK_PARAMETERS if args.quick else PAPER_PARAMETERS, ladder=args.ladder,
                                    **overrides)
        if args.dps is not None:
            _check_dps(args.dps)
    command = shlex.join(["symcoll"] + [str(a) for a in getattr(args, "argv", None) or ["paper"]])
    with OutputSet(args.out, OUTPUT_NAMES, command="symcoll paper") as out:
        run = run_paper(params, ladder=args.ladder)
        if args.dps is not None:
            run.validation = validate_high_precision(run, args.dps)
        crun = None
        if getattr(args, "certify", False):
            from .certified.paper import run_paper_certified

            crun = run_paper_certified(run)
        results = dict(run.to_json(), command=command, defaults="quick" if args.quick else "paper",
                       overrides=overrides)
        if crun is not None:
            results["certified"] = crun.to_json()
        atomic_write(out.path("results.json"), lambda fh: json.dump(results, fh, indent=1))
        make_figures(run, out.staging)
        _, counts = write_report(run, out.staging, certified=crun)
        out.commit()
    for name in OUTPUT_NAMES + (MANIFEST_NAME,):
        print(f"wrote {os.path.join(args.out, name)}")
    print(f"claims: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['NOT TESTED']} NOT TESTED "
          f"(see {os.path.join(args.out, 'report.md')}); {run.seconds:.1f} s")
    if crun is not None:
        cj = results["certified"]
        cc = {v: sum(c["verdict"] == v for c in cj["claims"]) for v in ("PASS", "FAIL", "UNDECIDED", "NOT TESTED")}
        print(f"certified claims: {cc['PASS']} PASS, {cc['FAIL']} FAIL, {cc['UNDECIDED']} UNDECIDED, "
              f"{cc['NOT TESTED']} NOT TESTED; float64 vs certified: largest ratio {cj['honesty']['max_ratio']:.3g} "
              f"({'honest' if cj['honesty']['passed'] else 'DISHONEST float64 estimate'}); {crun.seconds:.1f} s")
        if not cj["honesty"]["passed"]:
            return 1
    return 0
