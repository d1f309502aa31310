"""Figures 2(b-d), 3 and 4 of Sec. VI E from a :class:`symcoll.paper.PaperRun` (matplotlib, Agg).

* Fig. 2: eigenbasis populations rho_ii (i = 1..6) for the exact map (38) at the largest
  and smallest eps, and the band ratio rho_123/rho_00 (74) for the eps sweep with the
  Gibbs (72) and local-thermal (73) values as dashed grey lines.
* Fig. 3: beta_eff(0 -> 2) (75) for eps = 0.1 and 3e-3 with the exact (38), local
  (54)-(56) and global (45) maps; insets: |rho_23(t)|.
* Fig. 4: populations rho_ii (i = 1..6) at eps = 0.1 for the local map (top) and the
  exact map (bottom).

Any chain size works (``symcoll paper --N``): the levels plotted are 1..6 or as many as the
chain has; beta_eff(0 -> 2) and rho_23 are left out where they are not applicable (N = 1).
"""
from __future__ import annotations

import os

import numpy as np

from .outputs import atomic_write

COLORS = {"exact": "tab:blue", "local": "tab:orange", "global": "black"}


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _title(run, text):
    return f"{text}\nN={run.parameters['N']}, h={run.parameters['h']:g}, beta=m={run.parameters['beta']:g}, " \
           f"g={run.parameters['g']:g}, Gamma={run.parameters['Gamma']:g}, sigma_p={run.parameters['sigma_p']:g}; " \
           f"ladder: {run.ladder}"


def _levels(d):
    """The eigen-indices plotted: ``1..6`` (bands 1 and 2 of N = 3), at most ``d - 2``, at least level 1."""
    return range(1, max(2, min(7, d - 1)))


def _nan(values):
    """A JSON list with ``None`` (not defined there) as a float array with NaN."""
    return np.array([np.nan if x is None else x for x in values], dtype=float)


def _legend(ax, **kw):
    """A legend, if anything labelled was drawn (a grid without some maps draws nothing)."""
    if ax.get_legend_handles_labels()[0]:
        ax.legend(**kw)


def _populations(ax, r, title):
    t = np.asarray(r["times"])
    P = np.asarray(r["populations"])
    styles = ["-", "--", ":"]
    for i in _levels(P.shape[1]):
        ax.plot(t, P[:, i], ls=styles[(i - 1) % 3], label=fr"$\rho_{{{i}{i}}}$")
    ax.set_xscale("log")
    ax.set_xlabel("t")
    ax.set_ylabel(r"population $\rho_{ii}$ (eigenbasis)")
    ax.set_title(title, fontsize=9)
    _legend(ax, fontsize=7, ncol=2)


def _save(plt, fig, out_dir, name):
    """Write ``fig`` as PNG to ``out_dir/name`` atomically (temporary file, then rename)."""
    fig.tight_layout()
    path = os.path.join(out_dir, name)
    try:
        atomic_write(path, lambda fh: fig.savefig(fh, format="png", dpi=120), binary=True)
    finally:
        plt.close(fig)
    return path


def make_figures(run, out_dir):
    """Write fig2.png, fig3.png, fig4.png into ``out_dir`` (each atomically) and return their paths."""
    plt = _plt()
    p = run.parameters
    paths = []
    eps_main = sorted(p["eps"], reverse=True)
    e_big, e_small = eps_main[0], eps_main[-1]

    # Fig. 2 (b, c, d)
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.4))
    for ax, eps, lab in ((axes[0], e_big, "(b)"), (axes[1], e_small, "(c)")):
        r = run.get(eps, "exact")
        if r is not None:
            _populations(ax, r, f"{lab} exact map (38), eps = {eps:g}")
    ax = axes[2]
    sweep = sorted(set(p["eps_sweep"]) | set(p["eps"]), reverse=True)
    cmap = plt.get_cmap("viridis")
    for i, eps in enumerate(sweep):
        r = run.get(eps, "exact")
        if r is None:
            continue
        ax.plot(r["times"], _nan(r["ratio_123_00"]), color=cmap(i / max(1, len(sweep) - 1)), label=f"eps = {eps:g}")
    ref_small = min(run.references, key=lambda x: x["eps"])
    ax.axhline(ref_small["gibbs_ratio"], color="grey", ls="--", lw=1)
    ax.axhline(ref_small["local_thermal_ratio"], color="grey", ls="--", lw=1)
    ax.text(p["t_min"], ref_small["gibbs_ratio"], " Gibbs (72)", va="bottom", fontsize=8, color="grey")
    ax.text(p["t_min"], ref_small["local_thermal_ratio"], " local thermal (73)", va="bottom", fontsize=8, color="grey")
    ax.set_xscale("log")
    ax.set_xlabel("t")
    ax.set_ylabel(r"$\rho_{123}/\rho_{00}$  (74)")
    ax.set_title("(d) band ratio, exact map", fontsize=9)
    _legend(ax, fontsize=7, loc="center right")
    fig.suptitle(_title(run, "Fig. 2: exact dynamics of the qubit chain"), fontsize=9)
    paths.append(_save(plt, fig, out_dir, "fig2.png"))

    # Fig. 3: beta_eff(0 -> 2) with rho_23 insets
    eps3 = [e for e in (0.1, 3e-3) if run.get(e, "exact") is not None] or [e_big, e_small]
    fig, axes = plt.subplots(len(eps3), 1, figsize=(7.5, 4.2 * len(eps3)), squeeze=False)
    levels = len(run.references[0]["gibbs_populations"])
    for ax, eps in zip(axes[:, 0], eps3):
        inset = ax.inset_axes([0.55, 0.45, 0.42, 0.45]) if levels >= 4 else None  # rho_23 needs levels 2, 3
        for kind in ("exact", "local", "global"):
            r = run.get(eps, kind)
            if r is None:
                continue
            ax.plot(r["times"], _nan(r["beta_eff_0_2"]), color=COLORS[kind], label=f"{kind}")
            if inset is not None:
                inset.plot(r["times"], np.hypot(*np.asarray(r["rho_23"], dtype=float).T), color=COLORS[kind])
        ax.axhline(p["beta"], color="grey", lw=1)
        ax.set_xscale("log")
        ax.set_xlim(p["t_min"], p["t_max"])  # also when beta_eff(0 -> 2) is not defined (N = 1)
        ax.set_xlabel("t")
        ax.set_ylabel(r"$\beta_{\rm eff}(0\to 2)$  (75)")
        ax.set_title(f"eps = {eps:g}" + ("" if levels >= 3 else ": beta_eff(0 -> 2) and rho_23 not applicable "
                                         f"({levels} levels)"), fontsize=9)
        _legend(ax, fontsize=8, loc="lower left")
        if inset is not None:
            inset.set_xscale("log")
            inset.set_title(r"$|\rho_{23}|$", fontsize=8)
            inset.tick_params(labelsize=6)
    fig.suptitle(_title(run, "Fig. 3: inter-band temperature and intra-band coherence"), fontsize=9)
    paths.append(_save(plt, fig, out_dir, "fig3.png"))

    # Fig. 4: local (top) vs exact (bottom) populations at the largest eps
    fig, axes = plt.subplots(2, 1, figsize=(7.5, 8), sharex=True)
    for ax, kind, lab in ((axes[0], "local", "local map (54)-(56)"), (axes[1], "exact", "exact map (38)")):
        r = run.get(e_big, kind)
        if r is not None:
            _populations(ax, r, f"{lab}, eps = {e_big:g}")
            ref = next(x for x in run.references if np.isclose(x["eps"], e_big))
            for i in _levels(len(ref["gibbs_populations"])):
                ax.axhline(ref["gibbs_populations"][i], color="grey", lw=0.6, ls=":")
    fig.suptitle(_title(run, "Fig. 4: populations, local vs exact (dotted: Gibbs (72))"), fontsize=9)
    paths.append(_save(plt, fig, out_dir, "fig4.png"))
    return paths
