"""The claims of ``report.md`` decided on enclosures: PASS, FAIL, UNDECIDED or NOT TESTED.

The same claims and thresholds as :mod:`symcoll.report` (:data:`symcoll.report.CRITERIA`), each
decided on the intervals of a certified run (:mod:`symcoll.certified.paper`): a claim PASSes only
if its criterion holds for every point of the enclosures, FAILs only if it fails for every point,
and is UNDECIDED when an interval straddles a threshold.  Comparisons are three-valued
(:mod:`symcoll.intervals`): True, False, or None (undecided).

Where a criterion of the float64 report cannot be stated on enclosures it is adapted, and the
adaptation is printed with the claim: claim 5 ("no coherence") becomes ``|rho_23| < 1e-6`` for
every point (an equality cannot hold for every point of a ball), and claim 1 selects the eps
tested at ``t_max`` with the float64 relaxation-time *estimate* (the selection only decides which
numbers are compared; each comparison is on intervals).
"""
from __future__ import annotations

import math

import numpy as np

from .. import intervals as iv
from ..report import CLAIMS, CRITERIA as C

__all__ = ["CERTIFIED_VERDICTS", "evaluate_certified_claims", "NO_COHERENCE_ABS"]

CERTIFIED_VERDICTS = ("PASS", "FAIL", "UNDECIDED", "NOT TESTED")
NO_COHERENCE_ABS = 1e-6
"""Claim 5 on enclosures: the global map's |rho_23| stays below this at every time."""


def _fmt(x):
    """``[lo, hi]`` of a scalar interval, compactly."""
    return f"[{float(x.lo):.6g}, {float(x.hi):.6g}]"


def _verdict(value, testable=True):
    if not testable:
        return "NOT TESTED"
    return {True: "PASS", False: "FAIL", None: "UNDECIDED"}[value]


def _bands_of(crun, eps):
    from ..model import QubitChain

    p = crun.parameters
    return np.asarray(QubitChain(p["N"], p["h"], eps, ladder=crun.ladder).eigensystem().bands)


def _c1(crun):
    p = crun.parameters
    rows, res, testable = [], [], True
    for eps in p["eps"]:
        r = crun.get(eps, "exact")
        if r is None or r["stationary_band_populations"] is None:
            testable = False
            rows.append(f"eps={eps:g}: " + ("no exact-map run" if r is None else "no unique stationary state"))
            continue
        gb = crun.refs[eps]["gibbs_band_populations"]
        dev_ss = abs(r["stationary_band_populations"] - gb).max()
        ok_ss = dev_ss.lt(C["band_thermalisation_abs"])
        tau = crun.float_relaxation_time(eps)
        t_max = crun.times[-1]
        line = f"eps={eps:g}: stationary max_n |P_n - P_n^Gibbs| in {_fmt(dev_ss)}"
        res.append(ok_ss)
        if tau < t_max / 10:
            dev_t = abs(r["band_populations"][-1] - gb).max()
            res.append(dev_t.lt(C["band_thermalisation_abs"]))
            line += f"; at t={t_max:g}: in {_fmt(dev_t)}"
        else:
            line += f"; relaxation time (float64 estimate) {tau:.3g} >= t_max/10: t_max not tested"
        rows.append(line)
    return rows, iv.all3(res) if res else None, testable and bool(res)


def _spans(times, within):
    """Largest t_end/t_start over contiguous runs of times where ``within`` is True."""
    best, start = 0.0, None
    for i, flag in enumerate(within):
        if flag and start is None:
            start = i
        if (not flag or i == len(within) - 1) and start is not None:
            end = i if flag else i - 1
            best = max(best, times[end] / times[start])
            start = None
    return best


def _c2(crun):
    rows, res, seen = [], [], set()
    t = np.asarray(crun.times)
    for eps in crun.sweep():
        r = crun.get(eps, "exact")
        if r is None:
            continue
        r_loc = crun.refs[eps]["local_thermal_ratio"]
        dev = abs(r["ratio_123_00"] / r_loc - 1.0)
        w = dev.lt(C["plateau_rel"])
        sure = [x is True for x in w]
        maybe = [x is not False for x in w]
        smin, smax = _spans(t, sure), _spans(t, maybe)
        expect = ("plateau" if eps <= C["plateau_eps_max"] else "no plateau" if eps >= C["no_plateau_eps_min"]
                  else "(no claim)")
        seen.add(expect)
        if expect == "plateau":
            res.append(True if smin >= C["plateau_span"] else False if smax < C["plateau_span"] else None)
        elif expect == "no plateau":
            res.append(True if smax < C["plateau_span"] else False if smin >= C["plateau_span"] else None)
        rows.append(f"eps={eps:g}: ratio within {C['plateau_rel']:.0%} of r_loc over a span between x{smin:.3g} "
                    f"(every point) and x{smax:.3g} (some point); expected {expect}")
    return rows, iv.all3(res) if res else None, {"plateau", "no plateau"} <= seen


def _c3(crun):
    small = [e for e in crun.sweep() if e <= C["plateau_eps_max"] and crun.get(e, "exact") is not None]
    if len(small) < 2:
        return [f"fewer than two exact-map runs with eps <= {C['plateau_eps_max']:g}"], None, False
    e_ref = min(small)
    rr = crun.get(e_ref, "exact")
    t = np.asarray(crun.times)
    rg = crun.refs[e_ref]["gibbs_ratio"]
    thr = C["eps_independence_t"] / math.sqrt(10)
    rows, res = [], []
    for eps in small:
        if eps == e_ref:
            continue
        dev = abs(crun.get(eps, "exact")["ratio_123_00"] - rr["ratio_123_00"]) / rg
        above = dev.gt(C["eps_independence_rel"])
        maybe = [i for i, x in enumerate(above) if x is not False]
        sure = [i for i, x in enumerate(above) if x is True]
        t_early = t[maybe[0]] if maybe else math.inf
        t_late = t[sure[0]] if sure else math.inf
        res.append(True if t_early >= thr else False if t_late < thr else None)
        rows.append(f"eps={eps:g}: first deviation above {C['eps_independence_rel']:.0%} of r_Gibbs from eps={e_ref:g} "
                    f"at t_dev in [{t_early:.3g}, {t_late:.3g}] (threshold {thr:.3g})")
    return rows, iv.all3(res), True


def _c4(crun):
    p = crun.parameters
    rows, res = [], []
    t = np.asarray(crun.times)
    m = t <= C["global_short_t"]
    for eps in sorted(p["eps"], reverse=True):
        rx, rg = crun.get(eps, "exact"), crun.get(eps, "global")
        if rx is None or rg is None:
            continue
        diff = abs(rg["beta_eff_0_2"][m] - rx["beta_eff_0_2"][m])
        ok = np.isfinite(diff.lo) & np.isfinite(diff.hi)
        if not ok.any():
            rows.append(f"eps={eps:g}: beta_eff(0->2) not defined at any t <= {C['global_short_t']:g}")
            continue
        d = iv.Interval(diff.lo[ok], diff.hi[ok]).max() / p["beta"]
        rows.append(f"eps={eps:g}: max_(t<={C['global_short_t']:g}) |beta_eff^global - beta_eff^exact| / beta in {_fmt(d)}")
        if eps <= 3e-3:
            res.append(d.gt(C["global_fail_rel"]))
    return rows, iv.all3(res) if res else None, bool(res)


def _c5(crun):
    rows, res = [], []
    for eps in crun.parameters["eps"]:
        r = crun.get(eps, "global")
        if r is None or not np.isfinite(r["rho_23_abs"].hi).all():
            continue
        a = r["rho_23_abs"].max()
        res.append(a.lt(NO_COHERENCE_ABS))
        rows.append(f"eps={eps:g}: max_t |rho_23| in {_fmt(a)} (criterion on enclosures: < {NO_COHERENCE_ABS:g})")
    return rows, iv.all3(res) if res else None, bool(res)


def _c6(crun):
    rows, res = [], []
    for eps in crun.parameters["eps"]:
        rx, rl = crun.get(eps, "exact"), crun.get(eps, "local")
        if rx is None or rl is None:
            continue
        d = abs(rl["band_populations"] - rx["band_populations"]).max()
        res.append(d.lt(C["local_band_abs"]))
        rows.append(f"eps={eps:g}: max_t max_n |P_n^local - P_n^exact| in {_fmt(d)}")
    return rows, iv.all3(res) if res else None, bool(res)


def _c7(crun):
    eps = max(crun.parameters["eps"])
    rl, rx = crun.get(eps, "local"), crun.get(eps, "exact")
    if rl is None or rx is None:
        return [f"eps={eps:g}: no local and exact runs at the largest eps"], None, False
    b1 = np.flatnonzero(_bands_of(crun, eps) == 1)
    g = crun.refs[eps]["gibbs_populations"]
    pl, px = rl["populations"][-1], rx["populations"][-1]

    def spread(x):
        sel = x[b1]
        return (sel.max() - sel.min()) / (sel.sum() / len(b1))

    s_l, s_g = spread(pl), spread(g)
    err_x = abs(px[b1] / g[b1] - 1.0).max()
    ok = iv.all3([s_l.lt(C["intraband_uniform_rel"]), err_x.lt(C["intraband_gibbs_rel"])])
    testable = s_g.gt(10 * C["intraband_uniform_rel"])
    rows = [f"eps={eps:g}: band-1 spread local {_fmt(s_l)}, Gibbs {_fmt(s_g)}; max |exact/Gibbs - 1| {_fmt(err_x)}"]
    return rows, ok, testable is True


def _c8(crun):
    rows, ratios = [], []
    for eps in sorted(crun.parameters["eps"], reverse=True):
        r = crun.get(eps, "exact")
        if r is None:
            continue
        rows.append(f"eps={eps:g}: same-band residual {_fmt(r['sum_rule_same_band'])}; inter-band "
                    f"{_fmt(r['sum_rule_inter_band'])}")
        if 0 < eps <= C["sum_rule_eps_max"]:
            ratios.append(r["sum_rule_same_band"] / eps)
    if len(ratios) < 2:
        return rows, None, False
    hi = iv.Interval(max(float(x.lo) for x in ratios), max(float(x.hi) for x in ratios))
    lo = iv.Interval(min(float(x.lo) for x in ratios), min(float(x.hi) for x in ratios))
    spread = hi / lo
    rows.append(f"spread of residual/eps over eps <= {C['sum_rule_eps_max']:g}: max/min in {_fmt(spread)}")
    return rows, spread.lt(C["sum_rule_ratio_spread"]), True


_DECIDERS = {1: _c1, 2: _c2, 3: _c3, 4: _c4, 5: _c5, 6: _c6, 7: _c7, 8: _c8}


def evaluate_certified_claims(crun):
    """One dict per claim (number, title, criterion, numbers, verdict in :data:`CERTIFIED_VERDICTS`)."""
    out = []
    for n in sorted(CLAIMS):
        cl = CLAIMS[n]
        try:
            rows, ok, testable = _DECIDERS[n](crun)
        except ZeroDivisionError as exc:  # an interval denominator containing 0
            rows, ok, testable = [f"an interval quotient is not defined ({exc})"], None, True
        out.append({"number": n, "title": cl.title, "criterion": cl.criterion, "numbers": rows,
                    "verdict": _verdict(ok, testable),
                    "adaptation": {5: f"on enclosures: |rho_23| < {NO_COHERENCE_ABS:g} for every point",
                                   1: "eps tested at t_max selected with the float64 relaxation-time estimate"}.get(n, "")})
    return out
