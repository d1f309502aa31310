"""``symcoll paper --certify``: every number of the paper's run as an enclosure, claims decided on intervals.

For each (eps, map) of the run the collision map is built in balls
(:func:`symcoll.collision_map` with ``certified=True``), propagated in balls
(:class:`symcoll.certified.dynamics.CertifiedLindbladian`), and the observables of Sec. VI E
are computed from the enclosures in Arb:

* populations and band populations, ``rho_123/rho_00`` (74), ``beta_eff(0 -> 2)`` (75), ``|rho_23|``;
* the stationary state, its populations and trace distance to the Gibbs state (72);
* the same-band and inter-band sum-rule residuals of (35)/(63) from the map's balls.

Each becomes an :class:`symcoll.intervals.Interval`, stored in ``results.json`` as
``{"mid": ..., "rad": ...}``.  The float64 run of the same parameters is compared entrywise:
``ratio = |float64 - mid| / (float64 estimate + rad)`` must stay <= 1 everywhere, else the
float64 estimate is dishonest and the run fails (the table "float64 estimate vs certified"
of ``report.md``).
"""
from __future__ import annotations

import math
import time

import numpy as np

from .. import intervals as iv
from ._arb import acb, arb, precision
from .observables import _balls, trace_distance_to_gibbs

__all__ = ["run_one_certified", "certified_references", "honesty_ratio", "DEFAULT_STATE_TARGET"]

EXACT_MAP_DPS, EXACT_MAP_TOL = 40, 1e-32
"""Precision and radius of the certified exact maps (38) of ``paper --certify`` (see :func:`run_one_certified`)."""

DEFAULT_STATE_TARGET = 1e-9
"""Target radius of the certified states (issue #12: radius <= 1e-9 at t = 1e5)."""


def _jsonable(x):
    if isinstance(x, iv.Interval):
        return {"mid": _nan_none(x.mid), "rad": _nan_none(x.rad)}
    if isinstance(x, dict):
        return {k: _jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    return x


def _nan_none(a):
    a = np.asarray(a, dtype=float)
    if a.ndim == 0:
        return None if not np.isfinite(a) else float(a)
    return [_nan_none(v) for v in a]


def _undefined(shape):
    return iv.Interval(np.full(shape, np.nan), np.full(shape, np.nan))


def observables_from_balls(rho, bands, energies):
    """Intervals of the Sec. VI E observables from ball states ``rho[t]`` (acb_mat, eigenbasis, ascending energies).

    Returns a dict of :class:`Interval` (NaN endpoints where a quantity is not defined: a ratio
    whose denominator ball contains 0, a log of a ball that is not positive).
    """
    T = len(rho)
    d = rho[0].nrows()
    bands = np.asarray(bands)
    nb = int(bands.max()) + 1
    pops = [[rho[t][i, i].real for i in range(d)] for t in range(T)]
    P = iv.from_arb([x for row in pops for x in row])
    P = iv.Interval(P.lo.reshape(T, d), P.hi.reshape(T, d))
    bp = [[sum((pops[t][i] for i in range(d) if bands[i] == n), arb(0)) for n in range(nb)] for t in range(T)]
    BP = iv.from_arb([x for row in bp for x in row])
    BP = iv.Interval(BP.lo.reshape(T, nb), BP.hi.reshape(T, nb))
    ratio_lo, ratio_hi, be_lo, be_hi, c_lo, c_hi = ([] for _ in range(6))
    gap = energies[2] - energies[0] if d >= 3 else None
    for t in range(T):
        p0 = pops[t][0]
        if nb > 1 and p0 > 0:
            r = iv.from_arb(bp[t][1] / p0)
            ratio_lo.append(float(r.lo)), ratio_hi.append(float(r.hi))
        else:
            ratio_lo.append(np.nan), ratio_hi.append(np.nan)
        if gap is not None and p0 > 0 and pops[t][2] > 0:
            b = iv.from_arb((p0 / pops[t][2]).log() / gap)  # (75): beta_eff = ln(rho_00/rho_22)/(e_2 - e_0)
            be_lo.append(float(b.lo)), be_hi.append(float(b.hi))
        else:
            be_lo.append(np.nan), be_hi.append(np.nan)
        if d >= 4:
            c = iv.from_arb(abs(rho[t][2, 3]))
            c_lo.append(float(c.lo)), c_hi.append(float(c.hi))
    return {
        "populations": P, "band_populations": BP,
        "ratio_123_00": iv.Interval(ratio_lo, ratio_hi),
        "beta_eff_0_2": iv.Interval(be_lo, be_hi),
        "rho_23_abs": iv.Interval(c_lo, c_hi) if d >= 4 else _undefined(T),
    }


def certified_references(chain, beta, dps=30):
    """Gibbs (72) and local-thermal (73) populations and ratios (74) as intervals (Arb, ball energies)."""
    from .eigen import ball_eigensystem

    with precision(dps):
        es = ball_eigensystem(chain)
        b = arb(float(beta))
        E = es.energies
        w = [(-(b * (e - E[0]))).exp() for e in E]
        Z = sum(w, arb(0))
        g = [x / Z for x in w]
        bands = np.asarray(es.bands)
        nb = int(bands.max()) + 1
        gb = [sum((g[i] for i in range(len(g)) if bands[i] == n), arb(0)) for n in range(nb)]
        h = arb(float(chain.h))
        # local thermal (73): qubit 1 thermal at beta w.r.t. h, the others in |0>: band ratio e^{-beta h}
        x = (-(b * h)).exp()
        out = {
            "gibbs_populations": iv.from_arb(g),
            "gibbs_band_populations": iv.from_arb(gb),
            "gibbs_ratio": iv.from_arb(gb[1] / gb[0]) if nb > 1 else None,
            "local_thermal_ratio": iv.from_arb(x) if nb > 1 else None,
            "energies": iv.from_arb(E),
        }
    return out


def sum_rule_intervals(cmap, bands, beta, h):
    """Intervals of the same-band and inter-band sum-rule residuals (35)/(63) from the map's balls.

    ``X_{j'k'} = sum_j S^{jj}_{j'k'} e^{-beta h n_j} - delta_{j'k'} e^{-beta h n_j'}``; returns the
    intervals of ``max |X|`` over j', k' in the same band and in different bands.
    """
    sup = cmap.balls()
    d = cmap.dim
    bands = np.asarray(bands)
    with precision(max(cmap.dps, 20)):
        w = [(-(arb(float(beta)) * arb(float(h)) * int(n))).exp() for n in bands]
        same_lo = same_hi = inter_lo = inter_hi = 0.0
        for jp in range(d):
            for kp in range(d):
                X = sum((sup[jp + d * kp, j + d * j] * w[j] for j in range(d)), acb(0))
                if jp == kp:
                    X = X - w[jp]
                a = iv.from_arb(abs(X))
                if bands[jp] == bands[kp]:
                    same_lo, same_hi = max(same_lo, float(a.lo)), max(same_hi, float(a.hi))
                else:
                    inter_lo, inter_hi = max(inter_lo, float(a.lo)), max(inter_hi, float(a.hi))
    return iv.Interval(same_lo, same_hi), iv.Interval(inter_lo, inter_hi)


def honesty_ratio(float_vals, float_est, mid, rad):
    """``max |float64 - mid| / (float64 estimate + rad)`` (NaN-free entries); > 1 means a dishonest estimate."""
    f = np.asarray(float_vals)
    den = np.asarray(float_est) + np.asarray(rad)
    num = np.abs(f - np.asarray(mid))
    ok = np.isfinite(num) & np.isfinite(den)
    if not ok.any():
        return float("nan")
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(den[ok] > 0, num[ok] / den[ok], np.where(num[ok] > 0, np.inf, 0.0))
    return float(np.max(r))


def run_one_certified(chain, bath, coupling, Gamma, kind, times, float_run=None, dps=None,
                      state_target=DEFAULT_STATE_TARGET, map_tol=None):
    """One (eps, map) run in balls: map, evolution from ``|0..0>``, steady state, observables as intervals.

    Returns ``(record, intervals)``: a JSON-ready dict for ``results.json`` and the dict of
    :class:`Interval` objects that :mod:`symcoll.report` decides the claims on.
    ``float_run``: the float64 run's record (:func:`symcoll.paper.run_one`) of the same point; when
    given, the honesty ratios of its states and stationary populations are measured.
    """
    from ..dynamics import Lindbladian
    from ..maps import collision_map
    from ..paper import basis_state

    t0 = time.perf_counter()
    if kind == "exact" and dps is None and map_tol is None:
        # the eigenvalues of (71) with the exact map cluster within ~Gamma eps^2; isolating them in balls
        # (verified eigendecomposition) needs map radii ~1e-28 at eps = 5e-5: build it so at once
        dps, map_tol = EXACT_MAP_DPS, EXACT_MAP_TOL
    cmap = collision_map(chain, bath, coupling, kind, certified=True, dps=dps, tol=map_tol)
    t_map = time.perf_counter() - t0
    L = Lindbladian(chain, cmap, Gamma)
    rho0 = basis_state(chain, 0)
    t1 = time.perf_counter()
    ev = L.evolve(rho0, times, target=state_target)
    mid, rad = ev.enclosure()
    try:
        ss = L.steady_state(target=state_target)
        smid, srad = ss.enclosure()
        ss_note = None
    except ValueError as exc:  # no unique stationary state (e.g. eps = 0), as in the float64 run
        ss, ss_note = None, str(exc)
        smid = np.full((chain.dim, chain.dim), np.nan + 0j)
        srad = np.full((chain.dim, chain.dim), np.inf)
    t_dyn = time.perf_counter() - t1
    es = cmap.ball_eigensystem
    bands = np.asarray(chain.eigensystem().bands)
    with precision(max(cmap.dps, 20)):
        obs = observables_from_balls(_balls((mid, rad))[0], bands, es.energies)
        sobs = (observables_from_balls(_balls((smid, srad))[0], bands, es.energies) if ss is not None
                else None)
        if ss is not None:
            # trace distance (72), proven (Hoffman-Wielandt around a float64 eigh, certified.observables)
            td = iv.from_arb(trace_distance_to_gibbs((smid, srad), bath.beta, energies=es.energies))
        else:
            td = _undefined(())
    same, inter = sum_rule_intervals(cmap, bands, bath.beta, chain.h)
    ivs = dict(obs)
    ivs["stationary_populations"] = sobs["populations"][0] if sobs else None
    ivs["stationary_band_populations"] = sobs["band_populations"][0] if sobs else None
    ivs["trace_distance_gibbs"] = td
    ivs["sum_rule_same_band"] = same
    ivs["sum_rule_inter_band"] = inter
    ivs["state_enclosure"] = (mid, rad)
    record = {
        "eps": float(chain.eps), "map": kind, "certified": True, "times": [float(t) for t in times],
        "map_dps": cmap.dps, "map_error": _jsonable(cmap.error.to_dict()), "map_info": _jsonable(cmap.info),
        "state_radius_max": float(np.max(rad)), "stationary_radius_max": float(np.max(srad)) if ss is not None else None,
        "populations": _jsonable(obs["populations"]),
        "band_populations": _jsonable(obs["band_populations"]),
        "ratio_123_00": _jsonable(obs["ratio_123_00"]),
        "beta_eff_0_2": _jsonable(obs["beta_eff_0_2"]),
        "rho_23": {"mid": [[float(z.real), float(z.imag)] for z in mid[:, 2, 3]] if chain.dim >= 4 else None,
                   "rad": [float(r) for r in rad[:, 2, 3]] if chain.dim >= 4 else None},
        "rho_23_abs": _jsonable(obs["rho_23_abs"]),
        "stationary": ({"unique": True, "populations": _jsonable(ivs["stationary_populations"]),
                        "trace_distance_gibbs": _jsonable(td)} if ss is not None else {"unique": False, "note": ss_note}),
        "sum_rule_same_band": _jsonable(same), "sum_rule_inter_band": _jsonable(inter),
        "seconds": {"map": t_map, "dynamics": t_dyn},
    }
    if float_run is not None:
        fpop = np.asarray(float_run["populations"])
        fest = np.asarray(float_run["error_estimate"])[:, None]
        pmid = np.real(np.einsum("tii->ti", mid))
        prad = np.einsum("tii->ti", rad)
        h_states = honesty_ratio(fpop, fest, pmid, prad)
        if chain.dim >= 4 and float_run["rho_23"][0] is not None:
            f23 = np.array([complex(*z) for z in float_run["rho_23"]])
            h_states = max(h_states, honesty_ratio(f23, fest[:, 0], mid[:, 2, 3], rad[:, 2, 3]))
        h_ss = float("nan")
        st = float_run.get("stationary", {})
        if st.get("unique") and ss is not None:
            h_ss = honesty_ratio(np.asarray(st["populations"]), st["error_estimate"], np.real(np.diag(smid)),
                                 np.diag(srad))
        fm_est = float_run.get("map_error_estimate")
        record["honesty"] = {"states": h_states, "stationary": h_ss,
                             "float_map_error_estimate": fm_est,
                             "meaning": "max |float64 - certified mid| / (float64 error estimate + certified radius); "
                                        "above 1 the float64 estimate is dishonest"}
    return record, ivs


def max_honesty(records):
    """The largest honesty ratio over the records (NaN entries ignored)."""
    vals = [v for r in records for k, v in r.get("honesty", {}).items() if k in ("states", "stationary")
            and isinstance(v, float) and math.isfinite(v)]
    return max(vals) if vals else float("nan")


class CertifiedRun:
    """The certified runs of ``symcoll paper --certify`` next to the float64 run they check.

    Attributes
    ----------
    parameters, ladder, times : as the float64 :class:`symcoll.paper.PaperRun`
    runs : dict ``(eps, kind) -> dict of Interval`` (what the claims are decided on)
    records : list of JSON-ready dicts (``results.json``'s ``certified.runs``)
    refs : dict ``eps -> reference intervals`` (Gibbs (72), local thermal (73))
    """

    def __init__(self, float_run):
        from ..paper import time_grid

        self.float_run = float_run
        self.parameters = float_run.parameters
        self.ladder = float_run.ladder
        self.times = time_grid(self.parameters)
        self.runs, self.records, self.refs = {}, [], {}
        self.seconds = 0.0

    def get(self, eps, kind):
        for (e, k), v in self.runs.items():
            if k == kind and math.isclose(e, eps, rel_tol=1e-12):
                return v
        return None

    def sweep(self):
        p = self.parameters
        return sorted(set(p["eps_sweep"]) | set(p["eps"]), reverse=True)

    def float_relaxation_time(self, eps):
        r = self.float_run.get(eps, "exact")
        return float("inf") if r is None else float(r["relaxation_time"])

    def honesty_table(self):
        """Rows ``(eps, map, states ratio, stationary ratio)`` and the largest ratio."""
        rows = [(r["eps"], r["map"], r["honesty"]["states"], r["honesty"]["stationary"]) for r in self.records
                if "honesty" in r]
        return rows, max_honesty(self.records)

    def to_json(self):
        from .claims import evaluate_certified_claims

        rows, worst = self.honesty_table()
        return {"runs": self.records, "claims": evaluate_certified_claims(self),
                "references": {f"{e:g}": _jsonable(v) for e, v in self.refs.items()},
                "honesty": {"rows": [{"eps": e, "map": k, "states": s, "stationary": st} for e, k, s, st in rows],
                            "max_ratio": worst, "passed": bool(not worst > 1)},
                "seconds": self.seconds}


def run_paper_certified(float_run, dps=None, progress=True) -> CertifiedRun:
    """Every (eps, map) run of ``float_run`` again in balls (:func:`run_one_certified`)."""
    from ..paper import _Progress, model

    p = float_run.parameters
    out = CertifiedRun(float_run)
    jobs = [(r["eps"], r["map"]) for r in float_run.runs]
    bar = _Progress(len(jobs), "symcoll paper --certify") if progress else _Progress(0, "")
    t0 = time.perf_counter()
    for eps, kind in jobs:
        chain, bath, coupling = model(p, eps, float_run.ladder)
        rec, ivs = run_one_certified(chain, bath, coupling, p["Gamma"], kind, out.times,
                                     float_run=float_run.get(eps, kind), dps=dps)
        out.runs[(eps, kind)] = ivs
        out.records.append(rec)
        if eps not in out.refs:
            out.refs[eps] = certified_references(chain, p["beta"])
        bar.update(f"eps={eps:g} {kind} (certified)")
    bar.close()
    out.seconds = time.perf_counter() - t0
    return out


def report_lines(crun):
    """The ``report.md`` sections of a certified run: interval verdicts and the honesty table."""
    from .claims import evaluate_certified_claims

    claims = evaluate_certified_claims(crun)
    lines = ["", "## Certified run (Arb ball arithmetic): claims decided on enclosures", "",
             f"{len(crun.records)} runs in {crun.seconds:.1f} s. Every map, state and observable below is an "
             "enclosure (a proven bound, see README_derivations.md, 'Certified maps'); a claim is PASS only if it "
             "holds for every point of the enclosures, FAIL only if it fails for every point, UNDECIDED when an "
             "interval straddles its threshold.", "",
             "| # | claim | certified verdict |", "|---|---|---|"]
    for c in claims:
        lines.append(f"| {c['number']} | {c['title']} | {c['verdict']} |")
    lines.append("")
    for c in claims:
        lines += [f"### {c['number']}. {c['title']} — {c['verdict']} (certified)", ""]
        lines += [f"- {row}" for row in c["numbers"]]
        if c["adaptation"]:
            lines += ["", f"Adaptation to enclosures: {c['adaptation']}."]
        lines.append("")
    rows, worst = crun.honesty_table()
    lines += ["## float64 estimate vs certified", "",
              "ratio = max |float64 - certified mid| / (float64 error estimate + certified radius) over every time and "
              "entry compared (populations, rho_23; stationary populations). Above 1 the float64 estimate is "
              "dishonest, and the run fails.", "",
              "| eps | map | states | stationary | verdict |", "|---|---|---|---|---|"]
    for e, k, s, st in rows:
        bad = (s > 1) or (st > 1)
        lines.append(f"| {e:g} | {k} | {s:.3g} | {st:.3g} | {'FAIL' if bad else 'PASS'} |")
    lines += ["", f"Largest ratio: {worst:.3g} ({'PASS' if not worst > 1 else 'FAIL: a float64 estimate is dishonest'}).",
              "", "Certified radii: " + ", ".join(
                  f"{r['map']} eps={r['eps']:g}: map {r['map_error']['total']:.1e}, states <= {r['state_radius_max']:.1e}, "
                  + ("stationary not unique" if r['stationary_radius_max'] is None
                     else f"stationary {r['stationary_radius_max']:.1e}") for r in crun.records), ""]
    return lines, claims, worst
