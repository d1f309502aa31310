"""``symcoll paper`` and ``symcoll evolve``: the paper's numerical section (Sec. VI E).

Reproduces Figs. 2(b-d), 3 and 4 of the paper for the 3-qubit chain (64) bombarded
on qubit 1 through the delta interaction (65), with the three dissipators of
Eq. (71): the exact map (38), the global (narrow-packet) map (45) and the local map
(54)-(56) (Eq. (67)).  Observables: eigenbasis populations, the band ratio
rho_123/rho_00 (74) against the Gibbs (72) and local-thermal (73) values, the
inter-band temperature beta_eff(0 -> 2) (75) and the intra-band coherence rho_23.

Outputs (``--out DIR``): ``fig2.png``, ``fig3.png``, ``fig4.png``, ``results.json``
and ``report.md`` (each claim of the paper's text with the numbers that decide it), written
as one set with ``manifest.json`` last (:mod:`symcoll.outputs`: checked before the run,
locked against a concurrent run, left unchanged by an interrupted one).
"""
from __future__ import annotations

import contextlib
import json
import math
import os
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np

from . import conventions as cv
from ._version import __version__
from .errors import NotCompletelyPositiveWarning
from .numeric import _check_dps
from .outputs import MANIFEST_NAME, OutputSet, atomic_write

#: The paper's parameters (Sec. VI E, captions of Figs. 2-4).
PAPER_PARAMETERS = {
    "N": 3,
    "beta": 0.1,
    "m": 0.1,
    "g": 50.0,
    "Gamma": 1.0,
    "sigma_p": 0.5,
    "h": 4.0,
    "eps": [0.1, 3e-3, 1e-3, 5e-5],
    "eps_sweep": [0.1, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4, 5e-5],
    "maps": ["exact", "global", "local"],
    "t_min": 1e-2,
    "t_max": 1e5,
    "n_times": 141,
    "tol": 1e-12,
}

QUICK_PARAMETERS = dict(
    PAPER_PARAMETERS, eps=[0.1, 5e-5], eps_sweep=[0.1, 5e-5], n_times=29, tol=1e-10
)


# ----------------------------------------------------------------------------- progress
class _Progress:
    """A progress bar on a terminal (tqdm), silent otherwise."""

    def __init__(self, total, desc):
        self._bar = None
        if sys.stderr.isatty():
            try:
                from tqdm import tqdm

                self._bar = tqdm(total=total, desc=desc, leave=False)
            except ImportError:  # pragma: no cover - tqdm is a dependency
                self._bar = None

    def update(self, text=""):
        if self._bar is not None:
            self._bar.set_postfix_str(text)
            self._bar.update(1)

    def close(self):
        if self._bar is not None:
            self._bar.close()


# ----------------------------------------------------------------------------- one run
def run_one(N, h, eps, beta, m, g, sigma_p, Gamma, kind, times, ladder="paper", tol=1e-12, dps=None):
    """Evolve ``|0..0><0..0|`` under Eq. (71) with the map ``kind`` and collect the observables.

    Returns a JSON-ready dict with the fields of one entry of ``results.json``.
    """
    from . import observables as ob
    from .dynamics import Lindbladian
    from .maps import collision_map
    from .model import DeltaCoupling, EffusionBath, QubitChain

    chain = QubitChain(N, h, eps, ladder=ladder)
    bath = EffusionBath(beta, m, sigma_p if kind != "global" else sigma_p)
    coupling = DeltaCoupling(g, site=1)
    t0 = time.perf_counter()
    with warnings.catch_warnings(record=True) as caught:
        # a completely-positivity defect of (38) is reported in the outputs, not printed
        warnings.simplefilter("always", NotCompletelyPositiveWarning)
        cmap = collision_map(chain, bath, coupling, kind=kind, dps=dps, tol=tol)
    for w in caught:
        if not issubclass(w.category, NotCompletelyPositiveWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    t_map = time.perf_counter() - t0
    L = Lindbladian(chain, cmap, Gamma)
    d = 2**N
    rho0 = np.zeros((d, d), dtype=complex)
    rho0[0, 0] = 1.0  # |0...0> is the ground state |0> of H(eps)
    t1 = time.perf_counter()
    ev = L.evolve(rho0, times)
    ss = L.steady_state()
    t_dyn = time.perf_counter() - t1
    states = ev.states_float()
    beta_eff, beta_eff_note = beta_eff_where_resolved(states, chain, ev.error_estimate, 0, 2)
    es = chain.eigensystem()
    gibbs = ob.gibbs_state(chain, beta)
    loc = ob.local_thermal_state(chain, beta)
    pops = np.real(np.einsum("tii->ti", states))
    rho_ss = np.asarray(ss)
    diag = cmap.diagnostics()
    same, inter = sum_rule_residuals(cmap.tensor, es.bands, beta, h)
    # slowest relaxation rate of (71): the smallest |Re lambda| over the non-zero eigenvalues
    rates = np.sort(-np.linalg.eigvals(L.superoperator_float()).real)
    relaxation_time = float(1.0 / rates[1]) if rates[1] > 0 else float("inf")
    return {
        "eps": float(eps),
        "map": kind,
        "times": [float(t) for t in times],
        "populations": pops.tolist(),
        "band_populations": ob.band_populations(states, chain).tolist(),
        "ratio_123_00": ob.band_ratio(states, chain).tolist(),
        "beta_eff_0_2": beta_eff,
        "beta_eff_0_2_note": beta_eff_note,
        "rho_23": (np.stack([states[:, 2, 3].real, states[:, 2, 3].imag], axis=1).tolist() if d >= 4
                   else [None] * len(states)),  # Fig. 3's coherence needs levels 2 and 3
        "error_estimate": [float(x) for x in ev.error_estimate],
        "error": _jsonable(ev.error.to_dict()),
        "stationary": {
            "populations": np.real(np.diag(rho_ss)).tolist(),
            "trace_distance_gibbs": float(ob.trace_distance(rho_ss, gibbs)),
            "trace_distance_local_thermal": float(ob.trace_distance(rho_ss, loc)),
            "residual": float(ss.residual),
            "error_estimate": float(ss.error_estimate),
            "error": _jsonable(ss.error.to_dict()),
        },
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


def reference_values(N, h, eps, beta, ladder):
    """Gibbs (72) and local-thermal (73) ratios rho_123/rho_00 and populations for one eps."""
    from . import observables as ob
    from .model import QubitChain

    chain = QubitChain(N, h, eps, ladder=ladder)
    gibbs = ob.gibbs_state(chain, beta)
    loc = ob.local_thermal_state(chain, beta)
    return {
        "eps": float(eps),
        "gibbs_ratio": float(ob.band_ratio(gibbs[None], chain)[0]),
        "local_thermal_ratio": float(ob.band_ratio(loc[None], chain)[0]),
        "gibbs_populations": np.real(np.diag(gibbs)).tolist(),
        "local_thermal_populations": np.real(np.diag(loc)).tolist(),
        "gibbs_beta_eff_0_2": float(beta),
    }


def run_paper(params=None, ladder="paper", progress=True) -> PaperRun:
    """Compute every (eps, map) run of Sec. VI E with the given parameters."""
    p = dict(PAPER_PARAMETERS if params is None else params)
    times = np.logspace(np.log10(p["t_min"]), np.log10(p["t_max"]), int(p["n_times"]))
    jobs = [(eps, kind) for eps in p["eps"] for kind in p["maps"]]
    jobs += [(eps, "exact") for eps in p["eps_sweep"] if eps not in p["eps"]]
    out = PaperRun(parameters=p, ladder=ladder)
    bar = _Progress(len(jobs), "symcoll paper") if progress else _Progress(0, "")
    t0 = time.perf_counter()
    for eps, kind in jobs:
        out.runs.append(
            run_one(p["N"], p["h"], eps, p["beta"], p["m"], p["g"], p["sigma_p"], p["Gamma"], kind,
                    times, ladder=ladder, tol=p["tol"])
        )
        bar.update(f"eps={eps:g} {kind}")
    bar.close()
    all_eps = sorted(set(p["eps"]) | set(p["eps_sweep"]), reverse=True)
    out.references = [reference_values(p["N"], p["h"], e, p["beta"], ladder) for e in all_eps]
    out.seconds = time.perf_counter() - t0
    return out


def validate_high_precision(run, dps, eps_values=None, kinds=("global", "local"), n_check=8, progress=True):
    """Check the float64 runs of ``run`` against the mpmath path at ``dps`` digits.

    For each eps in ``eps_values`` (default: the largest and smallest eps of the run):

    * kinds in ``kinds``: the whole pipeline (map (45) or (54)-(56) and propagation of (71))
      is redone at ``dps`` digits; the largest entry difference of rho(t) at ``n_check`` times
      is compared with the float64 run's ``error_estimate`` at those times;
    * the exact map (38): the float64 tensor is promoted exactly to mpmath and propagated at
      ``dps`` digits, which isolates the propagation error (the map's own error is checked
      against 30-40 digit maps in the test suite).

    Returns a list of JSON-ready dicts, one per check, with ``passed = max_diff <= estimate`` (the
    float64 run's error estimate at those times: this checks the estimate's honesty).
    """
    from .dynamics import Lindbladian, TensorMap
    from .maps import collision_map
    from .model import DeltaCoupling, EffusionBath, QubitChain

    p = run.parameters
    eps_values = eps_values or sorted({max(p["eps"]), min(p["eps"])}, reverse=True)
    tol = max(10.0 ** (-(int(dps) - 8)), 1e-40)
    jobs = [(e, k) for e in eps_values for k in kinds] + [(e, "exact") for e in eps_values]
    bar = _Progress(len(jobs), f"validation at {dps} digits") if progress else _Progress(0, "")
    out = []
    for eps, kind in jobs:
        r = run.get(eps, kind)
        if r is None:
            continue
        idx = np.unique(np.linspace(0, len(r["times"]) - 1, n_check).round().astype(int))
        times = np.asarray(r["times"])[idx]
        chain = QubitChain(p["N"], p["h"], eps, ladder=run.ladder)
        bath = EffusionBath(p["beta"], p["m"], p["sigma_p"])
        coupling = DeltaCoupling(p["g"], site=1)
        t0 = time.perf_counter()
        if kind == "exact":
            fmap = collision_map(chain, bath, coupling, kind="exact", tol=p["tol"])
            cmap = TensorMap(fmap.tensor, chain, 0.0, "exact (float64 tensor promoted)", dps=dps)
            what = "propagation of the float64 exact map (38) at high precision"
        else:
            cmap = collision_map(chain, bath, coupling, kind=kind, dps=dps, tol=tol)
            what = f"map ({'45' if kind == 'global' else '54-56'}) and propagation at high precision"
        L = Lindbladian(chain, cmap, p["Gamma"])
        d = 2 ** p["N"]
        rho0 = np.zeros((d, d), dtype=complex)
        rho0[0, 0] = 1.0
        ev = L.evolve(rho0, times)
        hp = ev.states_float()
        fl = np.array([np.array(r["populations"][i]) for i in idx])
        diff_pop = np.max(np.abs(np.real(np.einsum("tii->ti", hp)) - fl), axis=1)
        r23 = np.array([complex(*r["rho_23"][i]) for i in idx])
        diff = np.maximum(diff_pop, np.abs(hp[:, 2, 3] - r23))
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


def main(args) -> int:
    """``symcoll paper``: write figures, results.json and report.md into ``args.out`` as one set.

    Every option is checked before the computation starts (``--dps``, then ``--out`` through
    :class:`symcoll.outputs.OutputSet`, which also locks the directory against a concurrent
    run).  The files are written into a staging directory and moved into ``args.out`` together,
    with ``manifest.json`` last (:mod:`symcoll.outputs`); an interrupted or failed run leaves
    ``args.out`` as it was.
    """
    from .figures import make_figures
    from .report import write_report

    params = dict(QUICK_PARAMETERS if args.quick else PAPER_PARAMETERS)
    if args.dps is not None:
        with _naming_flags({"dps": "--dps"}):
            _check_dps(args.dps)
    with OutputSet(args.out, OUTPUT_NAMES, command="symcoll paper") as out:
        run = run_paper(params, ladder=args.ladder)
        if args.dps is not None:
            run.validation = validate_high_precision(run, args.dps)
        atomic_write(out.path("results.json"), lambda fh: json.dump(run.to_json(), fh, indent=1))
        make_figures(run, out.staging)
        _, counts = write_report(run, out.staging)
        out.commit()
    for name in OUTPUT_NAMES + (MANIFEST_NAME,):
        print(f"wrote {os.path.join(args.out, name)}")
    print(f"claims: {counts['PASS']} PASS, {counts['FAIL']} FAIL, {counts['NOT TESTED']} NOT TESTED "
          f"(see {os.path.join(args.out, 'report.md')}); {run.seconds:.1f} s")
    return 0


#: The ``symcoll evolve`` flag of each parameter whose name starts the model's error messages.
EVOLVE_FLAGS = {"N": "--N", "h": "--h", "eps": "--eps", "beta": "--beta", "m": "--m", "g": "--g",
                "sigma_p": "--sigma-p", "Gamma": "--Gamma", "dps": "--dps", "times": "--times",
                "ladder": "--ladder"}


@contextlib.contextmanager
def _naming_flags(flags):
    """Re-raise a ValueError/TypeError whose message starts with a parameter name of ``flags``
    with that name replaced by the command-line flag (``h must be > 0`` -> ``--h must be > 0``)."""
    try:
        yield
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        for name, flag in flags.items():
            if msg.startswith(name + " "):
                raise (ValueError if isinstance(exc, ValueError) else TypeError)(flag + msg[len(name):]) from exc
        raise


def _parse_times(text):
    """The times of ``--times``: ``'t1,t2,...'`` or ``'start:stop:count'`` (``count`` log-spaced times)."""
    text = str(text).strip()
    form = "'t1,t2,...' or 'start:stop:count' (log-spaced)"
    try:
        if ":" in text:
            a, b, n = text.split(":")
            a, b, n = float(a), float(b), int(n)
        else:
            return np.array([float(x) for x in text.split(",") if x.strip()])
    except ValueError:
        raise ValueError(f"times must be {form}, with numbers and an integer count (got {text!r})") from None
    if not (a > 0 and b > a and n >= 1):
        raise ValueError(f"times start:stop:count needs 0 < start < stop and count >= 1 (got {text!r})")
    return np.logspace(np.log10(a), np.log10(b), n)


def check_evolve_options(args):
    """Check every option of ``symcoll evolve`` before computing; return the times.

    Reuses the model's own validation (:class:`~symcoll.model.QubitChain`,
    :class:`~symcoll.model.EffusionBath`, :class:`~symcoll.model.DeltaCoupling`, the
    Lindbladian's checks of Gamma and of the times, the mpmath precision check); the messages
    name the flag (``--h must be > 0, ...``).

    Raises
    ------
    ValueError, TypeError
    """
    from .dynamics import _check_gamma, _check_times
    from .model import DeltaCoupling, EffusionBath, QubitChain

    with _naming_flags(EVOLVE_FLAGS):
        times = _check_times(_parse_times(args.times))
        QubitChain(args.N, args.h, args.eps, ladder=args.ladder)
        EffusionBath(args.beta, args.m, args.sigma_p)
        DeltaCoupling(args.g, site=1)
        _check_gamma(args.Gamma)
        if args.dps is not None:
            _check_dps(args.dps)
    return times


def evolve_main(args) -> int:
    """``symcoll evolve``: one run; prints a table or the JSON entry of ``results.json``."""
    times = check_evolve_options(args)
    with _naming_flags(EVOLVE_FLAGS):
        res = run_one(args.N, args.h, args.eps, args.beta, args.m, args.g, args.sigma_p, args.Gamma,
                      args.kind, times, ladder=args.ladder, dps=args.dps)
    res["ladder"] = args.ladder
    if args.json:
        json.dump(res, sys.stdout, indent=1)
        print()
        return 0
    print(f"# symcoll {__version__}  N={args.N} h={args.h} eps={args.eps:g} beta={args.beta} m={args.m} "
          f"g={args.g} sigma_p={args.sigma_p} Gamma={args.Gamma} map={args.kind} "
          f"ladder={args.ladder} ({cv.LADDER_DESCRIPTIONS[args.ladder]})")
    print(f"# map entry error {res['map_error_estimate']:.2e} ("
          + ("bound" if res["map_error"]["rigorous"] else "estimate") + ")")
    cp = res["complete_positivity"]
    if cp["checked"]:
        print(f"# complete positivity: smallest Choi eigenvalue {cp['min_choi_eigenvalue']:.2e} "
              f"(noise estimate {cp['noise_estimate']:.1e})"
              + ("; NOT completely positive: a property of the incident state (41) at this sigma_p "
                 "(README: 'Where the model applies')" if cp["warned"] else "; CP within the noise"))
    print(f"{'t':>12} {'rho_00':>12} {'rho_123/rho_00':>15} {'beta_eff(0->2)':>15} {'|rho_23|':>11} {'error':>9}")
    for i, t in enumerate(res["times"]):
        be = res["beta_eff_0_2"][i]
        r23 = "n/a" if res["rho_23"][i] is None else format(math.hypot(*res["rho_23"][i]), ".3e")
        print(f"{t:12.4e} {res['populations'][i][0]:12.8f} {res['ratio_123_00'][i]:15.8f} "
              f"{'not defined' if be is None else format(be, '.8f'):>15} {r23:>11} {res['error_estimate'][i]:9.1e}")
    if res["beta_eff_0_2_note"]:
        print(f"# beta_eff(0->2) {res['beta_eff_0_2_note']}")
    st = res["stationary"]
    print(f"# stationary: trace distance to Gibbs {st['trace_distance_gibbs']:.3e}, "
          f"to local thermal {st['trace_distance_local_thermal']:.3e}")
    return 0
