"""``symcoll scaling``: how thermalisation scales with the length N of the chain (issue 16).

For every map kind (exact (38), global (45), local (54)-(56)), every ``eps`` of ``--eps`` and
``N = N_min .. N_max`` (the paper's other parameters, :data:`symcoll.parameters.PAPER_PARAMETERS`:
``h = 4``, ``g = 50``, ``m = 0.1``, ``sigma_p = 0.5``, ``beta = 0.1``, ``Gamma = 1``, bath on qubit 1)
one collision map is built and, from the generator (71) (``Lindbladian(chain, map, Gamma)``):

* **relaxation time** ``1/gap``, ``gap = min |Re lambda|`` over the nonzero eigenvalues of (71)
  (:meth:`symcoll.dynamics.Lindbladian.spectral_gap`, :mod:`symcoll.dynamics.gap`).  Its error is the
  gap's budget (``"rounding"``, ``"map"``: first-order condition-number **estimates**) divided by
  ``gap^2`` (first order in ``d gap``): an estimate.
* **local-thermal plateau** of the band ratio (74) from ``|0..0>``: exactly
  :func:`symcoll.phase_diagram.task_relaxation` (imported, not copied, so ``symcoll phase-diagram``
  and ``symcoll scaling`` agree): the longest run of the log-spaced times
  :data:`~symcoll.phase_diagram.PLATEAU_TIMES` (1e-2 .. 1e10, 4 per decade) at which
  ``|r - r_loc| <= PLATEAU_THETA |r_G - r_loc|``; its duration ``end - start`` with the grid
  resolution as its error (an estimate of the resolution).  For N > 3, (74) is the generalisation of
  :func:`symcoll.observables.band_ratio`: the population of the one-excitation band over
  ``rho_00`` (``rho_123 / rho_00`` at N = 3).  Its local-thermal value (73) stays ``exp(-beta h)``
  while the Gibbs value (72) grows like ``~ N exp(-beta h)``, so the band ``theta |r_G - r_loc|``
  widens with N (a fixed fraction of a growing distance): the criterion is the paper's, the
  reader should know that it becomes more permissive in absolute terms.
* **stationary trace distance to Gibbs** (72): ``symcoll.observables.trace_distance`` of
  ``L.steady_state()`` and ``gibbs_state(chain, beta)``, as ``symcoll paper`` and ``symcoll sweep``
  compute it.  Error (estimate): ``|D(rho, G) - D(rho', G)| <= ||rho - rho'||_1 / 2 <=
  sqrt(d) ||rho - rho'||_F / 2`` (triangle inequality; Cauchy-Schwarz on the singular values) with
  the steady state's Frobenius error estimate -- the same ``sqrt(d) dF / 2`` as ``symcoll sweep``;
  an estimate because ``dF`` is.

Storage: the global and local maps are built compactly (``storage="compact"``) at every N, so every
N uses the sector generator (:class:`~symcoll.dynamics.sector_generator.SectorLindbladian`; needed for
N >= 7); the exact map is dense (:class:`~symcoll.dynamics.Lindbladian`) and built up to
``--exact-N-max``.  Each map is built once per (kind, N, eps) and dropped after its point.

Points that are not computed are **recorded**, never dropped: ``status = "skipped"`` with the reason
(the exact kind beyond ``--exact-N-max``; a map or generator whose memory estimate is above its
limit -- the ValueError naming the GiB -- or a MemoryError).

Seconds per point measured on the 2-core test machine: README "Long chains: scaling" (each point's
``seconds`` in ``scaling.json``).

Outputs (``--out DIR``, default ``symcoll-scaling``; :class:`symcoll.outputs.OutputSet`: checked before
computing, atomic, ``manifest.json`` last): ``scaling.png`` and ``scaling.json``.

Checkpoints and resuming: every done point is written, as soon as it is computed, to
``DIR/scaling-points/<kind>-N<N>-eps<repr(eps)>.json`` (:func:`symcoll.outputs.atomic_write`: an
interrupt leaves the previous file or none, never half of one) with its ``key``: kind, N, eps, the
model parameters (:func:`model_parameters`) and ``symcoll_version``.  The directory is created inside
the OutputSet, after its lock is taken (a second run into the same ``DIR`` is still refused), is not
part of the committed set and is **kept** after the commit and after an interrupt: a killed 1-2 h run
loses at most the point in progress, and rerunning the command -- or a larger one, e.g. ``--N-max 8``
after ``--N-max 6`` -- reuses every point whose file parses and whose key matches exactly (flagged
``"resumed": true``, with its original ``seconds``; ``"resumed_points"`` counts them; the progress line
says ``(resumed)``).  Unreadable or corrupt files and files of other parameters or versions are
ignored and overwritten.  ``--no-resume`` recomputes every point (and rewrites the files).  Skipped
points are not written (cheap, or worth retrying).  The Python API :func:`run_scaling` reads and
writes checkpoints only when given ``checkpoint_dir``.
"""
from __future__ import annotations

import contextlib
import glob
import json
import math
import numbers
import os
import shlex
import time
import warnings

from ._version import __version__
from .parameters import PAPER_PARAMETERS

__all__ = ["DEFAULTS", "QUICK", "OUTPUT_NAMES", "CHECKPOINT_DIR", "resolve", "run_scaling", "compute_point",
           "checkpoint_key", "checkpoint_name", "load_checkpoint", "write_checkpoint", "make_figure",
           "add_parser", "main"]

_P = PAPER_PARAMETERS
KINDS = ("exact", "global", "local")
N_LIMIT = 10
"""Largest N accepted by ``--N-max`` (the sector generator's memory checks refuse what does not fit)."""

#: Defaults of ``symcoll scaling``.
DEFAULTS = {"N_min": 2, "N_max": 6, "kinds": list(KINDS), "eps": [0.1, 1e-3], "exact_N_max": 5}
#: ``--quick``: N = 2..3 (every kind, both eps), a few seconds.
QUICK = dict(DEFAULTS, N_max=3)

#: The files of one run.
OUTPUT_NAMES = ("scaling.png", "scaling.json")

# ----------------------------------------------------------------------------- parameters
def _check_int(name, v, lo, hi):
    if isinstance(v, bool) or not isinstance(v, numbers.Integral) or not lo <= v <= hi:
        raise ValueError(f"{name} must be an integer in {lo}..{hi} (got {v!r})")
    return int(v)


def resolve(quick=False, **overrides):
    """The complete, checked option dict (:data:`DEFAULTS` or :data:`QUICK`, with ``overrides``)."""
    p = dict(QUICK if quick else DEFAULTS)
    unknown = sorted(set(overrides) - set(p))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown}; known: {sorted(p)}")
    p.update({k: v for k, v in overrides.items() if v is not None})
    p["N_min"] = _check_int("N_min", p["N_min"], 2, N_LIMIT)
    p["N_max"] = _check_int("N_max", p["N_max"], p["N_min"], N_LIMIT)
    p["exact_N_max"] = _check_int("exact_N_max", p["exact_N_max"], 0, N_LIMIT)
    kinds = list(p["kinds"])
    if not kinds or any(k not in KINDS for k in kinds) or len(set(kinds)) != len(kinds):
        raise ValueError(f"kinds must be distinct names among {', '.join(KINDS)} (got {kinds!r})")
    p["kinds"] = kinds
    eps = list(p["eps"])
    if not eps or len(set(eps)) != len(eps):
        raise ValueError(f"eps must be a non-empty list of distinct couplings (got {eps!r})")
    for e in eps:
        if isinstance(e, bool) or not isinstance(e, (int, float)) or not (0 < e < math.inf):
            raise ValueError(f"eps must hold finite numbers > 0 (got {e!r})")
    p["eps"] = [float(e) for e in eps]
    p["quick"] = bool(quick)
    return p


def model_parameters():
    """The fixed model parameters (the paper's, Sec. VI E)."""
    return {k: float(_P[k]) for k in ("h", "g", "m", "sigma_p", "beta", "Gamma")} | {"site": 1}


# ----------------------------------------------------------------------------- one point
class _Model:
    """What :func:`symcoll.phase_diagram.task_relaxation` reads: ``chain``, ``bath``, ``coupling`` and
    ``lindbladian()`` -- here always the same generator object, so the steady state, the gap and the
    slow modes are computed once for the plateau, the gap and the trace distance."""

    def __init__(self, chain, bath, coupling, L):
        self.chain, self.bath, self.coupling, self._L = chain, bath, coupling, L

    def lindbladian(self):
        return self._L


def _num(x):
    """A float for JSON (NaN and infinities as None)."""
    x = float(x)
    return x if math.isfinite(x) else None


def _budget(budget, scale=1.0, extra_note=""):
    """JSON form of an ErrorBudget, every part multiplied by ``scale``."""
    parts = {k: {"value": float(p.value) * scale, "kind": p.kind, "note": p.note + extra_note}
             for k, p in budget.parts.items()}
    tot = float(budget.total) * scale
    return {"total": tot, "rigorous": bool(budget.rigorous), "bound": tot if budget.rigorous else None,
            "parts": parts}


def _refusal(exc):
    """Whether ``exc`` is a memory refusal (a ValueError naming the GiB needed, or a MemoryError)."""
    return isinstance(exc, MemoryError) or (isinstance(exc, ValueError) and "GiB" in str(exc))


def build_map(kind, N, eps, params=None):
    """``(chain, bath, coupling, map)`` of one point; compact storage for the global and local kinds."""
    from .errors import NotCompletelyPositiveWarning
    from .maps import collision_map
    from .model import DeltaCoupling, EffusionBath, QubitChain

    mp = params or model_parameters()
    chain = QubitChain(N, mp["h"], eps)
    bath = EffusionBath(mp["beta"], mp["m"], mp["sigma_p"])
    coupling = DeltaCoupling(mp["g"], site=mp["site"])
    with warnings.catch_warnings():
        # (38) is not completely positive beyond its noise at some parameters: a property of (41),
        # reported by `symcoll paper`; it does not change the quantities computed here.
        warnings.simplefilter("ignore", NotCompletelyPositiveWarning)
        cmap = collision_map(chain, bath, coupling, kind=kind,
                             storage="compact" if kind in ("global", "local") else "auto")
    return chain, bath, coupling, cmap


EXACT_POINT_COPIES = 3.2
"""``(d^2, d^2)`` complex arrays an exact point holds at once from N = 7, where the dense L is never formed: the
map's tensor, its real-form spectrum (:class:`~symcoll.dynamics.lean_spectrum.LeanSpectrum`: two real arrays) and
the steady state's LU, with temporaries (N = 7: 12.8 GiB; measured peak 12.3 GiB)."""


LONG_POINT_N = 6
"""Exact points from this N report their stages (map, spectrum, plateau, steady state) to ``stage``: each takes
minutes at N = 6 and up to tens of minutes at N = 7."""

LONG_SECTOR_POINT_N = 8
"""Global and local points from this N report their stages (map, gap, plateau, steady state) to ``stage``, and
each pass of a rational Krylov run inside them (:func:`symcoll.dynamics.rational_krylov.reporting`): the local
point at N = 8, eps = 1e-3 took 55 min, most of it in such runs."""


def compute_point(kind, N, eps, params=None, stage=None):
    """Every number of one (kind, N, eps) point as a JSON-ready dict (``status = "done"``).

    Raises what the build raises; :func:`run_scaling` records memory refusals as skipped points.  ``stage``: a
    callable given one line per stage of an exact point from N = :data:`LONG_POINT_N`, of a global or local point
    from N = :data:`LONG_SECTOR_POINT_N`, and per rational Krylov pass inside those (the progress output).
    """
    import contextlib

    import numpy as np

    from . import observables as ob
    from .dynamics import Lindbladian, rational_krylov
    from .numeric import Tolerances
    from .phase_diagram import task_relaxation

    mp = params or model_parameters()
    if kind == "exact":  # refuse before a map of minutes is built
        from .maps import memory

        memory.check_generator_memory(2 ** N, copies=EXACT_POINT_COPIES if N >= 7 else memory.GENERATOR_COPIES)
    long_point = stage is not None and N >= (LONG_POINT_N if kind == "exact" else LONG_SECTOR_POINT_N)

    def say(text):
        if long_point:
            stage(f"{kind} N={N} eps={eps:g}: {text}")

    say("the map (38) (measured: about 1 min at N = 6, 19 min at N = 7 with two worker threads)" if kind == "exact"
        else "the map")
    t0 = time.perf_counter()
    chain, bath, coupling, cmap = build_map(kind, N, eps, mp)
    t1 = time.perf_counter()
    L = Lindbladian(chain, cmap, mp["Gamma"])
    with rational_krylov.reporting(say) if long_point else contextlib.nullcontext():
        if kind == "exact":  # the plateau's evolution needs the spectrum: the gap then comes from it (not dgeev twice)
            say(f"map done in {t1 - t0:.0f} s; the spectrum of (71) in real form (one dgeev with vectors: about 1 min "
                "at N = 6, about 33 min at N = 7 with two BLAS threads)")
            L.spectrum()
            say(f"spectrum done in {time.perf_counter() - t1:.0f} s; the plateau's evolution and the gap")
        else:
            say(f"map done in {t1 - t0:.0f} s; the spectral gap")
        g = L.spectral_gap()  # cached on L: task_relaxation's call reuses it (sector gap, or the dense spectrum)
        if kind != "exact":
            say(f"gap done in {time.perf_counter() - t1:.0f} s; the plateau's evolution")
        rel = task_relaxation(_Model(chain, bath, coupling, L))
        say("the steady state (one LU: about 3 min at N = 7)" if kind == "exact" else "the steady state")
        ss = L.steady_state()
    dF = float(ss.error.total)
    rho = np.asarray(ss)
    gibbs = ob.gibbs_state(chain, mp["beta"])
    td = ob.trace_distance(rho, gibbs, tol=max(Tolerances().state_validation(), dF))
    td_err = math.sqrt(chain.dim) * dF / 2
    t2 = time.perf_counter()
    gap = float(g.value)
    return {
        "kind": kind, "N": N, "eps": eps, "status": "done", "reason": None,
        "generator": type(L).__name__,
        "gap": {"value": gap, "eigenvalue": [g.eigenvalue.real, g.eigenvalue.imag],
                "error_estimate": float(g.error.total), "error": _budget(g.error),
                "method": g.diagnostics.get("method"), "kappa": _num(g.diagnostics.get("kappa", math.nan))},
        "relaxation_time": {"value": float(g.relaxation_time),
                            "error_estimate": float(g.error.total) / gap ** 2,
                            "error": _budget(g.error, 1 / gap ** 2, "; divided by gap^2 (first order in d gap)")},
        "plateau": {
            "start": _num(rel["plateau_start"]), "start_error_estimate": _num(rel["plateau_start_error"]),
            "end": _num(rel["plateau_end"]), "end_error_estimate": _num(rel["plateau_end_error"]),
            "duration": _num(rel["plateau_duration"]), "duration_error_estimate": _num(rel["plateau_duration_error"]),
            "closest_local_thermal": _num(rel["closest_local_thermal"]),
            "ratio_local_thermal": rel["ratio_local_thermal"], "ratio_gibbs": rel["ratio_gibbs"],
            "error_note": "grid resolution of the log time grid (a factor 10**0.25), an estimate",
        },
        "trace_distance_gibbs": {
            "value": float(td), "error_estimate": td_err,
            "error": {"total": td_err, "rigorous": False, "bound": None, "parts": {"state": {
                "value": td_err, "kind": "estimate",
                "note": "sqrt(d) dF / 2 >= ||d rho||_1 / 2 with dF the steady state's Frobenius error estimate"}}},
        },
        "steady_state_error_estimate": dF,
        "map_error_estimate": float(L.map_error),
        "seconds": {"map": t1 - t0, "dynamics": t2 - t1},
    }


def skipped(kind, N, eps, reason):
    """The record of a point that was not computed."""
    return {"kind": kind, "N": N, "eps": eps, "status": "skipped", "reason": reason}


# ----------------------------------------------------------------------------- checkpoints
#: The checkpoint directory inside ``--out`` (kept after the run).
CHECKPOINT_DIR = "scaling-points"


#: The fields of a done point that :func:`main` and :func:`make_figure` read (checked on resuming).
_POINT_FIELDS = ("relaxation_time", "plateau", "trace_distance_gibbs", "seconds")


def checkpoint_key(kind, N, eps, model):
    """What a point was computed with: ``kind``, ``N``, ``eps``, the model parameters and the version."""
    return {"kind": kind, "N": int(N), "eps": float(eps), "model": dict(model), "symcoll_version": __version__}


def checkpoint_name(kind, N, eps):
    """File name of one point, e.g. ``exact-N6-eps0.001.json`` (``repr(eps)``: unique and stable for floats)."""
    return f"{kind}-N{int(N)}-eps{float(eps)!r}.json"


def _canonical(obj):
    """Canonical JSON text: equal exactly when the keys match (``1`` and ``1.0``, ``True`` and ``1`` differ)."""
    return json.dumps(obj, sort_keys=True, allow_nan=False)


def load_checkpoint(path, key):
    """The stored point of ``path`` if the file parses, holds a done point and its key equals ``key``; else None.

    Unreadable, truncated or otherwise corrupt files and files of other parameters or versions give None
    (the point is then recomputed and the file overwritten).
    """
    try:
        with open(path, encoding="utf-8") as fh:
            stored = json.load(fh)
        if not isinstance(stored, dict) or _canonical(stored.get("key")) != _canonical(key):
            return None
    except (OSError, ValueError, TypeError):  # missing, unreadable, not JSON/UTF-8, NaN in the key
        return None
    point = stored.get("point")
    if (not isinstance(point, dict) or point.get("status") != "done"
            or (point.get("kind"), point.get("N"), point.get("eps")) != (key["kind"], key["N"], key["eps"])
            or not all(isinstance(point.get(q), dict) for q in _POINT_FIELDS)):
        return None
    return point



def write_checkpoint(path, key, point):
    """Write one done point with its key, atomically (an interrupt leaves the old file or none)."""
    from .outputs import atomic_write

    atomic_write(path, lambda fh: json.dump({"key": key, "point": point}, fh, indent=1, allow_nan=False))


# ----------------------------------------------------------------------------- the run
def run_scaling(params, progress=True, model=None, checkpoint_dir=None, resume=True):
    """Every point of ``params`` (from :func:`resolve`); returns the JSON-ready dict.

    With ``checkpoint_dir`` (``symcoll scaling`` passes ``<out>/scaling-points``) every done point is
    written there as soon as it is computed (:func:`write_checkpoint`, one file per point named by
    :func:`checkpoint_name`; the directory is created at the first write) and, with ``resume``, a point
    whose file holds the same :func:`checkpoint_key` is read instead of computed (``"resumed": true``
    in the point, its original ``seconds`` kept).  Skipped points are not written.  With
    ``checkpoint_dir=None`` nothing is read or written.
    """
    from .paper import _Progress

    p = params
    mp = model or model_parameters()
    Ns = list(range(p["N_min"], p["N_max"] + 1))
    jobs = [(k, N, e) for k in p["kinds"] for N in Ns for e in p["eps"]]
    bar = _Progress(len(jobs), "symcoll scaling", lines=True) if progress else _Progress(0, "")
    points = []
    resumed = 0
    t0 = time.perf_counter()
    for kind, N, eps in jobs:
        note = ""
        if kind == "exact" and N > p["exact_N_max"]:
            points.append(skipped(kind, N, eps, f"the exact map (38) is built up to --exact-N-max = "
                                                f"{p['exact_N_max']} (measured: N = 5 about 90 s per point, N = 6 "
                                                "about 1 min for the map alone on an idle machine, plus the dense "
                                                "evolution; N = 7 19 min for the map (idle, two worker threads) "
                                                "and 37 min for the rest, 12.8 GiB); raise --exact-N-max to try (the "
                                                "map's memory check refuses what does not fit)"))
        else:
            key = checkpoint_key(kind, N, eps, mp)
            path = None if checkpoint_dir is None else os.path.join(checkpoint_dir, checkpoint_name(kind, N, eps))
            stored = load_checkpoint(path, key) if path is not None and resume else None
            if stored is not None:
                points.append(dict(stored, resumed=True))
                resumed += 1
                note = " (resumed)"
            else:
                try:
                    point = compute_point(kind, N, eps, mp, stage=bar.note)
                except (ValueError, MemoryError) as exc:
                    if not _refusal(exc):
                        raise
                    point = skipped(kind, N, eps, f"memory refused before allocating: {exc}")
                if path is not None and point["status"] == "done":
                    os.makedirs(checkpoint_dir, exist_ok=True)
                    write_checkpoint(path, key, point)
                points.append(point)
        bar.update(f"{kind} N={N} eps={eps:g}{note}")
    bar.close()
    return {"symcoll_version": __version__, "options": dict(p), "model": mp, "N": Ns,
            "definitions": DEFINITIONS, "points": points, "resumed_points": resumed,
            "seconds": time.perf_counter() - t0}


DEFINITIONS = {
    "relaxation_time": "1/gap, gap = min |Re lambda| over the nonzero eigenvalues of the generator (71) "
                       "(Lindbladian.spectral_gap); error: the gap's budget / gap^2, first order: an estimate",
    "plateau": "symcoll.phase_diagram.task_relaxation: longest run of PLATEAU_TIMES (1e-2..1e10, 4 per decade) "
               "with |r - r_loc| <= 0.1 |r_G - r_loc|, r the band ratio (74) generalised (one-excitation band "
               "over rho_00) from |0..0>; duration = end - start; null: no grid time within the band; 0: a single "
               "grid time (a crossing)",
    "trace_distance_gibbs": "||rho_ss - rho_G||_1 / 2 with the Gibbs state (72) at the bath's beta; error sqrt(d) dF/2",
    "errors": "every error here is an estimate (none is a proven bound)",
}


# ----------------------------------------------------------------------------- figure
_COLORS = {"exact": "C0", "global": "C1", "local": "C2"}
_MARKERS = ["o", "s", "^", "D", "v"]
_STYLES = {"exact": ("-", 3.0), "global": ("-", 1.5), "local": ("--", 1.5)}


def _series(data, kind, eps, get):
    import numpy as np

    xs, ys, es = [], [], []
    for r in data["points"]:
        if r["kind"] == kind and r["eps"] == eps and r["status"] == "done":
            v, e = get(r)
            if v is not None and v > 0:
                xs.append(r["N"]), ys.append(v), es.append(e or 0.0)
    return np.array(xs), np.array(ys), np.array(es)


def make_figure(data, fh):
    """``scaling.png`` into the open binary file ``fh``: three panels versus N (log y)."""
    import matplotlib
    import numpy as np

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = (
        ("relaxation time 1/gap of (71)", lambda r: (r["relaxation_time"]["value"],
                                                     r["relaxation_time"]["error_estimate"])),
        ("local-thermal plateau duration (74)", lambda r: (r["plateau"]["duration"],
                                                           r["plateau"]["duration_error_estimate"])),
        ("trace distance of rho_ss to Gibbs (72)", lambda r: (r["trace_distance_gibbs"]["value"],
                                                              r["trace_distance_gibbs"]["error_estimate"])),
    )
    eps_list = data["options"]["eps"]
    fig, axs = plt.subplots(1, 3, figsize=(15, 4.6), constrained_layout=True)
    for ax, (title, get) in zip(axs, panels):
        for kind in data["options"]["kinds"]:
            for i, eps in enumerate(eps_list):
                x, y, e = _series(data, kind, eps, get)
                if not len(x):
                    continue
                ls, lw = _STYLES[kind]
                ax.errorbar(x, y, yerr=[np.minimum(e, 0.9 * y), e], fmt=_MARKERS[i % len(_MARKERS)] + ls, lw=lw,
                            color=_COLORS[kind], ms=5, capsize=3, label=f"{kind}, eps={eps:g}")
        ax.set_yscale("log")
        ax.set_xlabel("N (qubits in the chain)")
        ax.set_xticks(data["N"])
        ax.set_title(title, fontsize=10)
    axs[0].legend(fontsize=7)
    skipped_n = sum(1 for r in data["points"] if r["status"] == "skipped")
    no_plateau = sum(1 for r in data["points"] if r["status"] == "done" and not (r["plateau"]["duration"] or 0) > 0)
    fig.suptitle(f"symcoll scaling: h={data['model']['h']:g}, beta={data['model']['beta']:g}, "
                 f"Gamma={data['model']['Gamma']:g}, bath on qubit 1; error bars: error estimates (mostly "
                 f"below the marker; lower bars cut at 90 % of the value on the log axes); {skipped_n} points "
                 f"skipped, {no_plateau} without plateau (not drawn)",
                 fontsize=9)
    fig.savefig(fh, format="png", dpi=110)
    plt.close(fig)


# ----------------------------------------------------------------------------- command line
_FLAGS = {"N_min": "--N-min", "N_max": "--N-max", "kinds": "--kinds", "eps": "--eps", "exact_N_max": "--exact-N-max"}


def add_parser(sub):
    """Register ``symcoll scaling`` on an argparse subparsers object."""
    ps = sub.add_parser(
        "scaling", help="relaxation time 1/gap, local-thermal plateau and stationary trace distance to Gibbs "
                        "versus the chain length N, for the three maps (scaling.png, scaling.json)",
        description="For each map kind, eps and N = N-min..N-max (the paper's other parameters) build the "
        "collision map once and compute the spectral gap of (71), the local-thermal plateau of the band ratio "
        "(74) (as symcoll phase-diagram) and the stationary trace distance to the Gibbs state (72), each with "
        "its error estimate. Points not computed (exact map beyond --exact-N-max, memory refusals) are recorded "
        "as skipped with the reason. Measured on 2 cores: the default run (N = 2..6, three kinds, two eps) "
        "3.5-4 min, most of it the exact map at N = 5 (about 90 s per point); --N-max 8 --exact-N-max 6: about 1 h 40 min "
        "at load 2-3 (exact N = 6: 6-10 min per point, global N = 8: 9-11 min per point, local N = 8 at eps = 1e-3: 55 min, "
        "every other local point under a minute). Finished points are kept in OUT/scaling-points and a rerun resumes.")
    ps.add_argument("--out", metavar="DIR", default="symcoll-scaling",
                    help="output directory for scaling.png, scaling.json and manifest.json, and for the "
                         f"finished points in DIR/{CHECKPOINT_DIR}/ (default: ./symcoll-scaling)")
    ps.add_argument("--N-min", dest="N_min", type=int, default=None, metavar="N",
                    help=f"smallest chain length, 2..{N_LIMIT} (default: 2)")
    ps.add_argument("--N-max", dest="N_max", type=int, default=None, metavar="N",
                    help=f"largest chain length, N-min..{N_LIMIT} (default: 6; --quick: 3)")
    ps.add_argument("--kinds", default=None, metavar="LIST",
                    help="comma-separated maps among exact (38), global (45), local (54)-(56) (default: all three)")
    ps.add_argument("--eps", default=None, metavar="LIST",
                    help="comma-separated inter-qubit couplings eps > 0 of (64) (default: 0.1,1e-3)")
    ps.add_argument("--exact-N-max", dest="exact_N_max", type=int, default=None, metavar="N",
                    help="largest N for the exact map (38); larger N are recorded as skipped (default: 5; N = 7 "
                         "takes about 19 + 37 min per point and 12.8 GiB: set SYMCOLL_MAX_GIB=14 or more)")
    ps.add_argument("--quick", action="store_true", help="N = 2..3 only, for smoke tests (default: off)")
    ps.add_argument("--no-resume", dest="no_resume", action="store_true",
                    help=f"recompute every point instead of reusing the files in DIR/{CHECKPOINT_DIR}/ (they are "
                         "still written) (default: off: a point whose file matches kind, N, eps, the model "
                         "parameters and the symcoll version is reused)")
    return ps


def overrides_of(args):
    from .cli import parse_list

    over = {k: getattr(args, k, None) for k in ("N_min", "N_max", "exact_N_max")}
    if getattr(args, "kinds", None) is not None:
        over["kinds"] = parse_list(args.kinds, "--kinds", str)
    if getattr(args, "eps", None) is not None:
        over["eps"] = parse_list(args.eps, "--eps", float)
    return {k: v for k, v in over.items() if v is not None}


def main(args) -> int:
    """``symcoll scaling``: options checked, output directory checked, then the run and the two files.

    Every done point goes to ``<out>/scaling-points/`` as soon as it is computed; a rerun resumes from
    those files unless ``--no-resume`` (see :func:`run_scaling`).  The directory is used only inside the
    :class:`~symcoll.outputs.OutputSet`, after its lock is taken, and is kept after the commit.
    """
    from .cli import naming_flags
    from .outputs import MANIFEST_NAME, Interrupted, OutputError, OutputSet, atomic_write

    with naming_flags(_FLAGS):
        params = resolve(quick=bool(args.quick), **overrides_of(args))
    command = shlex.join(["symcoll"] + [str(a) for a in getattr(args, "argv", None) or ["scaling"]])
    ckdir = os.path.join(args.out, CHECKPOINT_DIR)
    oset = OutputSet(args.out, OUTPUT_NAMES, command="symcoll scaling")
    try:
        with oset as out:
            if os.path.lexists(ckdir) and not os.path.isdir(ckdir):
                raise OutputError(f"--out {args.out}: {CHECKPOINT_DIR} there is not a directory "
                                  "(it holds the finished points of the run)")
            # temporary files of a checkpoint write cut by a hard kill (we hold the lock: nobody writes them)
            for stale in glob.glob(os.path.join(glob.escape(ckdir), ".*.json.*.tmp")):
                with contextlib.suppress(OSError):
                    os.unlink(stale)
            data = dict(run_scaling(params, progress=True, checkpoint_dir=ckdir,  # tqdm on a terminal, else lines
                                    resume=not getattr(args, "no_resume", False)), command=command)
            atomic_write(out.path("scaling.json"), lambda fh: json.dump(data, fh, indent=1, allow_nan=False))
            atomic_write(out.path("scaling.png"), lambda fh: make_figure(data, fh), binary=True)
            out.commit()
    except Interrupted:
        # OutputSet says "left unchanged", but the finished points stay in ckdir (not part of the set)
        kept = len(glob.glob(os.path.join(glob.escape(ckdir), "*.json"))) if os.path.isdir(ckdir) else 0
        if oset.committed or not kept:
            raise
        raise Interrupted(f"{args.out}: scaling.json and scaling.png not written; the finished points stay in "
                          f"{ckdir} ({kept} files; the same command resumes from them)") from None
    for name in OUTPUT_NAMES + (MANIFEST_NAME,):
        print(f"wrote {os.path.join(args.out, name)}")
    done = [r for r in data["points"] if r["status"] == "done"]
    for r in done:
        d = r["plateau"]["duration"]
        print(f"{r['kind']:6s} N={r['N']} eps={r['eps']:<6g} 1/gap = {r['relaxation_time']['value']:.5g} "
              f"+- {r['relaxation_time']['error_estimate']:.1e}  plateau {'none' if d is None else f'{d:.3g}'}  "
              f"D(rho_ss, Gibbs) = {r['trace_distance_gibbs']['value']:.3e}  ({sum(r['seconds'].values()):.1f} s"
              f"{', resumed' if r.get('resumed') else ''})")
    for r in data["points"]:
        if r["status"] == "skipped":
            print(f"{r['kind']:6s} N={r['N']} eps={r['eps']:<6g} skipped: {r['reason']}")
    print(f"{data['seconds']:.1f} s, {len(done)} points ({data['resumed_points']} resumed from {ckdir}), "
          f"{len(data['points']) - len(done)} skipped")
    return 0
