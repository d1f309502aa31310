"""``report.md`` of ``symcoll paper``: the claims of Sec. VI E checked by numbers.

Each claim of the paper's text about Figs. 2-4 is stated with the criterion that
decides it, the numbers measured and a verdict: PASS, FAIL, or NOT TESTED when the
run's grid lacks what the criterion needs (e.g. ``--quick`` has one small eps, and
claims comparing several small eps cannot be decided).  A claim FAILs only on numbers
that contradict it.  The criteria are fixed here, in one place (:data:`CRITERIA`),
before looking at any run; where a run disagrees with the text the report says so with
the numbers.
"""
from __future__ import annotations

import math
import os

import numpy as np

#: Thresholds of the claims (relative or absolute, as named).
CRITERIA = {
    # (1) bands thermalise at long times: |P_n(t_max) - P_n^Gibbs| below this for every band n
    "band_thermalisation_abs": 1e-2,
    # (2) plateau at the local-thermal ratio: |r/r_loc - 1| below this ...
    "plateau_rel": 0.05,
    # ... over a time window spanning at least this factor
    "plateau_span": 10.0,
    # eps at or below which the plateau must be seen; eps at or above which it must not
    "plateau_eps_max": 1e-3,
    "no_plateau_eps_min": 0.1,
    # (3) eps-independence up to t = 1e3: max |r_eps - r_ref| / r_Gibbs below this
    "eps_independence_t": 1e3,
    "eps_independence_rel": 0.05,
    # (4) global map fails at short times for small eps: max_{t <= t_short} |beta_g - beta_x| / beta
    "global_short_t": 10.0,
    "global_fail_rel": 0.1,
    # (6) local map reproduces band populations: max_t max_n |P_n^loc - P_n^exact|
    "local_band_abs": 1e-2,
    # (7) intra-band thermalisation at t_max: relative spread of band-1 populations
    "intraband_uniform_rel": 1e-3,
    "intraband_gibbs_rel": 1e-2,
    # (8) same-band sum-rule residual / eps constant within this factor for eps <= sum_rule_eps_max
    "sum_rule_eps_max": 3e-3,
    "sum_rule_ratio_spread": 3.0,
}


def _arr(x):
    return np.array([np.nan if v is None else v for v in x], dtype=float)


#: The verdicts of a claim.
VERDICTS = ("PASS", "FAIL", "NOT TESTED")


def _outcome(ok, testable):
    """``passed`` of a claim: False if a tested part contradicts it, None if a part could not be tested."""
    return False if not ok else (True if testable else None)


def _claim(title, paper_text, criterion, numbers, passed, note=""):
    """One claim; ``passed`` is True, False or None (the grid cannot test it: NOT TESTED)."""
    return {
        "title": title,
        "paper": paper_text,
        "criterion": criterion,
        "numbers": numbers,
        "passed": None if passed is None else bool(passed),
        "verdict": "NOT TESTED" if passed is None else "PASS" if passed else "FAIL",
        "note": note,
    }


def _plateau_span(times, r, r_loc, rel):
    """Largest t_end/t_start over contiguous runs of grid times with |r/r_loc - 1| < rel."""
    ok = np.abs(np.asarray(r) / r_loc - 1) < rel
    best, start = 1.0, None
    for i, flag in enumerate(ok):
        if flag and start is None:
            start = i
        if (not flag or i == len(ok) - 1) and start is not None:
            end = i if flag else i - 1
            best = max(best, times[end] / times[start])
            start = None
    return best if ok.any() else 0.0


def evaluate_claims(run):
    """List of claim dicts for a :class:`symcoll.paper.PaperRun`."""
    C = CRITERIA
    p = run.parameters
    claims = []
    refs = {round(math.log10(r["eps"]), 9): r for r in run.references}

    def ref(eps):
        return refs[round(math.log10(eps), 9)]

    # (1) bands populate and thermalise at long times even for Gamma = 1
    from .model import QubitChain

    worst, rows, slow = 0.0, [], []
    for eps in p["eps"]:
        r = run.get(eps, "exact")
        if r is None:
            rows.append(f"eps={eps:g}: no exact-map run in this grid")
            continue
        chain_bands = QubitChain(p["N"], p["h"], eps, ladder=run.ladder).eigensystem().bands
        g = np.asarray(ref(eps)["gibbs_populations"])
        gb = np.array([g[chain_bands == n].sum() for n in range(p["N"] + 1)])
        ss = np.asarray(r["stationary"]["populations"])
        sb = np.array([ss[chain_bands == n].sum() for n in range(p["N"] + 1)])
        last = np.asarray(r["band_populations"])[-1]
        dev_ss = float(np.max(np.abs(sb - gb)))
        dev_t = float(np.max(np.abs(last - gb)))
        tau = r["relaxation_time"]
        worst = max(worst, dev_ss, dev_t if tau < r["times"][-1] / 10 else 0.0)
        if tau >= r["times"][-1] / 10:
            slow.append(eps)
        rows.append(
            f"eps={eps:g}: relaxation time 1/gap = {tau:.3g}; stationary P_n = {np.round(sb, 5).tolist()} "
            f"(max dev from Gibbs {dev_ss:.2e}); at t={r['times'][-1]:g}: P_n = {np.round(last, 5).tolist()} "
            f"(max dev {dev_t:.2e}); Gibbs {np.round(gb, 5).tolist()}")
    claims.append(_claim(
        "Bands populate and thermalise at long times, even for Gamma = 1",
        "\"the bands become populated due to collisions and thermalize at long times, even for Gamma = 1\" (Sec. VI E, Fig. 2(b,c))",
        f"exact map: max_n |P_n - P_n^Gibbs| < {C['band_thermalisation_abs']:g} in the stationary state (t -> infinity) for every eps, "
        f"and at t_max for every eps whose relaxation time (inverse spectral gap of (71)) is below t_max/10",
        rows, _outcome(worst < C["band_thermalisation_abs"], all(run.get(e, "exact") is not None for e in p["eps"])),
        ("For eps = " + ", ".join(f"{e:g}" for e in slow) + " the relaxation time exceeds the plotted window: the "
         "collisions (rate Gamma) keep measuring qubit 1, which slows the intra-band hopping to an effective rate "
         "~ hopping^2/Gamma (Zeno effect; the relaxation time grows like 1/eps^2), so at t = t_max the chain is "
         "still near the local-thermal state and thermalises only later.") if slow else ""))

    # (2) local-thermal plateau before Gibbs for eps <~ 1e-3, not for eps = 0.1
    rows, ok, seen = [], True, set()
    sweep = sorted(set(p["eps_sweep"]) | set(p["eps"]), reverse=True)
    for eps in sweep:
        r = run.get(eps, "exact")
        if r is None:
            continue
        t = np.asarray(r["times"])
        span = _plateau_span(t, r["ratio_123_00"], ref(eps)["local_thermal_ratio"], C["plateau_rel"])
        expect = "plateau" if eps <= C["plateau_eps_max"] else "no plateau" if eps >= C["no_plateau_eps_min"] else "(no claim)"
        seen.add(expect)
        if expect == "plateau":
            ok &= span >= C["plateau_span"]
        elif expect == "no plateau":
            ok &= span < C["plateau_span"]
        rows.append(f"eps={eps:g}: ratio within {C['plateau_rel']:.0%} of r_loc={ref(eps)['local_thermal_ratio']:.5f} over a time span x{span:.3g}; expected {expect}")
    claims.append(_claim(
        "For eps <~ 1e-3 the ratio first approaches the local-thermal value, not for eps = 0.1",
        "\"An approach to the local thermal state before full thermalization can be appreciated only for very low values of the interaction between qubits, namely eps <~ 1e-3\" (Fig. 2(d))",
        f"rho_123/rho_00 stays within {C['plateau_rel']:.0%} of the local-thermal ratio (73) over a time window spanning a factor >= {C['plateau_span']:g} for every eps <= {C['plateau_eps_max']:g}, and over no such window for eps >= {C['no_plateau_eps_min']:g}",
        rows, _outcome(ok, {"plateau", "no plateau"} <= seen)))

    # (3) trajectories nearly independent of eps up to t ~ 1e3 (small eps)
    small = [e for e in sweep if e <= C["plateau_eps_max"] and run.get(e, "exact") is not None]
    rows, ok = [], True
    if len(small) >= 2:
        e_ref = min(small)
        rr = run.get(e_ref, "exact")
        t = np.asarray(rr["times"])
        mask = t <= C["eps_independence_t"]
        rg = ref(e_ref)["gibbs_ratio"]
        for eps in small:
            if eps == e_ref:
                continue
            r = run.get(eps, "exact")
            dev = np.abs(np.asarray(r["ratio_123_00"]) - np.asarray(rr["ratio_123_00"])) / rg
            above = t[dev > C["eps_independence_rel"]]
            t_dev = float(above[0]) if above.size else float("inf")
            good = t_dev >= C["eps_independence_t"] / math.sqrt(10)
            ok &= good
            when = f"first at t_dev = {t_dev:.3g}" if above.size else "at no time of the grid"
            rows.append(f"eps={eps:g}: deviates from eps={e_ref:g} by more than {C['eps_independence_rel']:.0%} "
                        f"of r_Gibbs {when}")
    else:
        rows.append(f"fewer than two exact-map runs with eps <= {C['plateau_eps_max']:g}: this grid cannot test the claim")
    claims.append(_claim(
        "Up to t ~ 1e3 the trajectories are almost independent of eps (small eps)",
        "\"up to a time ~10^3, trajectories are almost independent of eps\" (Fig. 2(d))",
        f"for every eps <= {C['plateau_eps_max']:g} of the sweep, |r_eps(t) - r_epsmin(t)| / r_Gibbs stays below {C['eps_independence_rel']:.0%} "
        f"until a time t_dev of order {C['eps_independence_t']:g} or later (t_dev >= {C['eps_independence_t']:g}/sqrt(10), half a decade on the log axis of Fig. 2(d))",
        rows, _outcome(ok, len(small) >= 2),
        "The intra-band hopping acts on the time scale 1/(band-1 splitting) = 1/(2 sqrt2 t_hop); "
        "eps-independence can only hold while t is below it (see the deviation times)."))

    # (4) global map fails at short times for small eps
    rows = []
    dev_by_eps = {}
    for eps in sorted(p["eps"], reverse=True):
        rx, rg = run.get(eps, "exact"), run.get(eps, "global")
        if rx is None or rg is None:
            continue
        t = np.asarray(rx["times"])
        m = t <= C["global_short_t"]
        diff = np.abs(_arr(rg["beta_eff_0_2"])[m] - _arr(rx["beta_eff_0_2"])[m])
        if not np.isfinite(diff).any():
            rows.append(f"eps={eps:g}: beta_eff(0->2) is not defined at any t <= {C['global_short_t']:g} (see results.json)")
            continue
        d = np.nanmax(diff) / p["beta"]
        dev_by_eps[eps] = float(d)
        rows.append(f"eps={eps:g}: max_(t<={C['global_short_t']:g}) |beta_eff^global - beta_eff^exact| / beta = {d:.3e}")
    small_eps = [e for e in dev_by_eps if e <= 3e-3]
    ok = all(dev_by_eps[e] > C["global_fail_rel"] for e in small_eps)
    if not small_eps:
        rows.append("no eps <= 3e-3 with exact and global runs: this grid cannot test the claim")
    claims.append(_claim(
        "The global map fails at short times if eps is small",
        "\"bands thermalize under the three collisional maps, but the global equation fails at short times if eps is small\" (Fig. 3)",
        f"for eps <= 3e-3: max over t <= {C['global_short_t']:g} of |beta_eff^global(0->2) - beta_eff^exact(0->2)| / beta > {C['global_fail_rel']:g}",
        rows, _outcome(ok, bool(small_eps))))

    # (5) the global map creates no rho_23 from a diagonal state
    rows, ok = [], True
    for eps in p["eps"]:
        r = run.get(eps, "global")
        if r is None:
            continue
        a = np.hypot(*np.asarray(r["rho_23"]).T)
        bound = np.asarray(r["error_estimate"])
        ok &= bool(np.all(a <= bound + 1e-15))
        rows.append(f"eps={eps:g}: max_t |rho_23| = {a.max():.2e} (error estimate up to {bound.max():.2e})")
    claims.append(_claim(
        "The global map creates no intra-band coherence rho_23 from a diagonal state",
        "\"the global equation is unable to create these coherences if the initial state is diagonal\" (Fig. 3 insets)",
        "global map: |rho_23(t)| <= its error estimate at every t",
        rows, _outcome(ok, bool(rows))))

    # (6) local map reproduces the band populations
    rows, worst = [], 0.0
    for eps in p["eps"]:
        rx, rl = run.get(eps, "exact"), run.get(eps, "local")
        if rx is None or rl is None:
            continue
        d = float(np.max(np.abs(np.asarray(rl["band_populations"]) - np.asarray(rx["band_populations"]))))
        worst = max(worst, d)
        rows.append(f"eps={eps:g}: max_t max_n |P_n^local - P_n^exact| = {d:.3e}")
    claims.append(_claim(
        "The local map reproduces the band populations",
        "\"The local limit, on the other hand, reproduces with high accuracy the evolution of the band population\" (Fig. 3)",
        f"max over t and bands of |P_n^local - P_n^exact| < {C['local_band_abs']:g} for every eps",
        rows, _outcome(worst < C["local_band_abs"], bool(rows))))

    # (7) local map does not thermalise populations within a band (Fig. 4)
    eps = max(p["eps"])
    rl, rx = run.get(eps, "local"), run.get(eps, "exact")
    b1 = slice(1, 1 + p["N"])
    if rl is None or rx is None:
        rows, passed = [f"eps={eps:g}: no local-map and exact-map runs at the largest eps: this grid cannot test the claim"], None
    else:
        g = np.asarray(ref(eps)["gibbs_populations"])
        pl, px = np.asarray(rl["populations"][-1]), np.asarray(rx["populations"][-1])
        spread_l = float((pl[b1].max() - pl[b1].min()) / pl[b1].mean())
        spread_g = float((g[b1].max() - g[b1].min()) / g[b1].mean())
        err_x = float(np.max(np.abs(px[b1] / g[b1] - 1)))
        ok = spread_l < C["intraband_uniform_rel"] and err_x < C["intraband_gibbs_rel"]
        # a uniform local-map band says nothing unless the Gibbs band is visibly non-uniform
        passed = _outcome(ok, spread_g > 10 * C["intraband_uniform_rel"])
        rows = [f"eps={eps:g}: band-1 populations local {np.round(pl[b1], 6).tolist()} (spread {spread_l:.2e}), exact {np.round(px[b1], 6).tolist()}, Gibbs {np.round(g[b1], 6).tolist()} (spread {spread_g:.2e}); max |exact/Gibbs - 1| = {err_x:.2e}"]
    claims.append(_claim(
        "The local map does not thermalise the populations within a band",
        "\"in the local limit, the energy levels within the two bands do not thermalize\" (Fig. 4, eps = 0.1)",
        f"at t_max, band 1: relative spread of local-map populations < {C['intraband_uniform_rel']:g} (uniform, as e^(-beta H(0)) predicts) while the Gibbs spread is larger (above {10 * C['intraband_uniform_rel']:g}, else the claim is not tested), and exact-map populations within {C['intraband_gibbs_rel']:.0%} of Gibbs",
        rows, passed))
    # (8) the sum in (35)/(63) is O(eps) for the exact map (same band); inter-band part
    rows, ratios = [], []
    for eps in sorted(p["eps"], reverse=True):
        r = run.get(eps, "exact")
        if r is None:
            continue
        rows.append(f"eps={eps:g}: same-band residual {r['sum_rule_same_band']:.3e} (residual/eps = "
                    f"{r['sum_rule_same_band'] / eps:.3e}); inter-band residual {r['sum_rule_inter_band']:.3e}")
        if eps <= C["sum_rule_eps_max"]:
            ratios.append(r["sum_rule_same_band"] / eps)
    ok = len(ratios) < 2 or max(ratios) / min(ratios) < C["sum_rule_ratio_spread"]
    if len(ratios) < 2:
        rows.append(f"fewer than two exact-map runs with eps <= {C['sum_rule_eps_max']:g}: this grid cannot test the claim")
    claims.append(_claim(
        "The sum in (35) is of order eps (first-order coherences are O(Gamma), not O(Gamma/eps))",
        "\"this is not the case since the sum in (35) is of order eps\" (after (63); proven at eps = 0 as (66) in Appendix C)",
        f"exact map (38): max over j', k' in the same band of |sum_j S^{{jj}}_{{j'k'}} e^{{-beta eps0_j}} - delta_{{j'k'}} e^{{-beta eps0_j'}}| "
        f"divided by eps varies by less than a factor {C['sum_rule_ratio_spread']:g} over eps <= {C['sum_rule_eps_max']:g}",
        rows, _outcome(ok, len(ratios) >= 2),
        "For j', k' in different bands the same sum does not vanish as eps -> 0: the exact map keeps inter-band "
        "coherence terms of size ~exp(-(p - pi(p))^2 / 2 sigma_p^2) that (48) neglects; at the paper's parameters "
        "a band jump changes the momentum by ~0.5 ~ sigma_p, so they are not small. They do not enter (35), "
        "which needs only j', k' in the same band."))
    return claims


def write_report(run, out_dir):
    """Write ``report.md`` into ``out_dir`` (atomically).

    Returns
    -------
    path : str
    counts : dict
        Number of claims per verdict, ``{"PASS": ., "FAIL": ., "NOT TESTED": .}``.
    """
    from ._version import __version__
    from .outputs import atomic_write

    claims = evaluate_claims(run)
    p = run.parameters
    lines = [
        "# symcoll paper: checked claims of Sec. VI E",
        "",
        f"symcoll {__version__}; ladder convention **{run.ladder}**; parameters: "
        + ", ".join(f"{k}={v}" for k, v in p.items() if not isinstance(v, list))
        + f"; eps = {p['eps']}, sweep {p['eps_sweep']}; maps {p['maps']}; {len(run.runs)} runs in {run.seconds:.1f} s.",
        "",
        "Verdicts: PASS, FAIL, or NOT TESTED where this run's grid lacks what the criterion needs.",
        "",
        "| # | claim | verdict |",
        "|---|---|---|",
    ]
    for i, c in enumerate(claims, 1):
        lines.append(f"| {i} | {c['title']} | {c['verdict']} |")
    lines.append("")
    for i, c in enumerate(claims, 1):
        lines += [f"## {i}. {c['title']} — {c['verdict']}", "", f"Paper: {c['paper']}", "",
                  f"Criterion: {c['criterion']}", ""]
        lines += [f"- {row}" for row in c["numbers"]]
        if c["note"]:
            lines += ["", f"Note: {c['note']}"]
        lines.append("")
    # worst diagnostics and bounds
    lines += ["## Errors and map diagnostics (worst over the run)", "",
              "Each error is a sum of parts, each either a proven *bound* or an *estimate*; a total is called a "
              "bound only when every part is one.", ""]
    worst_map = max(run.runs, key=lambda r: r["map_error_estimate"])
    worst_dyn = max(run.runs, key=lambda r: max(r["error_estimate"]))
    lines.append(f"- largest map entry error: {worst_map['map_error_estimate']:.2e} ({_word(worst_map['map_error'])}; "
                 f"eps={worst_map['eps']:g}, {worst_map['map']}); parts: "
                 + ", ".join(f"{k}={_part(v)}" for k, v in worst_map["map_error"]["parts"].items()))
    at = worst_dyn["times"][int(np.argmax(worst_dyn["error_estimate"]))]
    lines.append(f"- largest state error over all times: {max(worst_dyn['error_estimate']):.2e} "
                 f"({_word(worst_dyn['error'])}; eps={worst_dyn['eps']:g}, {worst_dyn['map']}, at t={at:g}); parts: "
                 + ", ".join(f"{k} ({v['kind']})" for k, v in worst_dyn["error"]["parts"].items()))
    for key in ("trace_preservation", "hermiticity", "detailed_balance", "sum_rule", "min_choi_eigenvalue"):
        vals = [(r["map_diagnostics"].get(key, {}), r) for r in run.runs if key in r["map_diagnostics"]]
        if not vals:
            continue
        v, r = max(vals, key=lambda x: abs(_num(x[0])))
        lines.append(f"- {key}: worst {_num(v):.3e} (eps={r['eps']:g}, {r['map']})" + (f" — {v.get('meaning', '')}" if isinstance(v, dict) and v.get("meaning") else ""))
    cps = [r for r in run.runs if r.get("complete_positivity", {}).get("warned")]
    if cps:
        lines.append("- complete positivity: the exact map (38) is NOT completely positive beyond its numerical "
                     "noise in " + ", ".join(
                         f"eps={r['eps']:g} (smallest Choi eigenvalue {r['complete_positivity']['min_choi_eigenvalue']:.2e}, "
                         f"noise {r['complete_positivity']['noise_estimate']:.1e})" for r in cps)
                     + ": a property of the incident state (41) at this sigma_p, not a numerical error "
                       "(README: 'Where the model applies')")
    else:
        lines.append("- complete positivity: every map is CP within its numerical noise "
                     "(exact maps measured; global and local maps CP by construction)")
    st = [(r["stationary"]["trace_distance_gibbs"], r) for r in run.runs]
    lines.append("- stationary state, trace distance to Gibbs (72): " + ", ".join(f"{r['map']} eps={r['eps']:g}: {d:.2e}" for d, r in st))
    if getattr(run, "validation", None):
        lines += ["", "## High-precision validation of the float64 runs", "",
                  "| eps | map | digits | what | max entry difference | float64 error estimate at those times | verdict |",
                  "|---|---|---|---|---|---|---|"]
        for v in run.validation:
            lines.append(f"| {v['eps']:g} | {v['map']} | {v['dps']} | {v['what']} | {max(v['max_diff']):.2e} | "
                         f"{min(v['estimate']):.1e} .. {max(v['estimate']):.1e} | {'PASS' if v['passed'] else 'FAIL'} |")
    path = atomic_write(os.path.join(out_dir, "report.md"), lambda fh: fh.write("\n".join(lines) + "\n"))
    return path, {v: sum(c["verdict"] == v for c in claims) for v in VERDICTS}


def _word(budget):
    """"bound" when every part of a JSON error budget is a proven bound, else "estimate"."""
    return "bound" if budget.get("rigorous") else "estimate"


def _num(v):
    if isinstance(v, dict):
        v = v.get("value", np.nan)
    try:
        return float(v)
    except (TypeError, ValueError):
        return float("nan")


def _part(v):
    if isinstance(v, dict):
        return f"{_num(v):.1e} ({v.get('kind', '?')})"
    return f"{_num(v):.1e}"
