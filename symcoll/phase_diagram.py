"""``symcoll phase-diagram``: preset sweeps (:mod:`symcoll.sweep`) and their PNG heatmaps.

(a) ``--preset a`` -- over (eps, Gamma), exact map (38), N = 3: the relaxation time ``1/gap`` of the
    generator (71) and the duration of the local-thermal plateau of the band ratio (74), with the
    Zeno line.  Task :func:`task_relaxation`:

    * gap: ``min -Re lambda`` over the nonzero eigenvalues of the generator,
      :meth:`symcoll.dynamics.Lindbladian.spectral_gap` (dense eigenvalues per invariant block),
      through :func:`spectral_gap_dense`.  Its error is a first-order **estimate**
      ``kappa ||dL||_2`` (``kappa`` the eigenvalue's condition number, ``dL`` from the map's entry
      error, the energies' rounding and the eigensolver's backward error; :mod:`symcoll.dynamics.gap`),
      and ``relaxation_time_error = |d lambda| / gap^2`` (first order).
    * plateau: the ratio r(t) (74) from ``|0..0>`` on a log time grid (``PLATEAU_TIMES``, 4 per
      decade) is *on the local-thermal plateau* when ``|r - r_loc| <= PLATEAU_THETA |r_G - r_loc|``
      (r_loc, r_G: the local-thermal (73) and Gibbs (72) ratios).  ``plateau_start`` and
      ``plateau_end`` are the first and last grid times of the longest run of such times (the
      earliest of equally long runs: at large Gamma the ratio overshoots and crosses the band at a
      single grid time before it settles, so the first run is not the plateau);
      ``plateau_duration = end - start`` (NaN when the ratio never comes that close; 0 when it does
      at a single grid time only: a crossing, not a plateau).  They are resolved to the
      grid spacing: a factor ``10**0.25`` in time, stated as ``plateau_*_error`` (the grid step, an
      estimate of the resolution, not of the arithmetic, which is far smaller).
      ``closest_local_thermal`` is ``min_t |r - r_loc| / |r_G - r_loc|``: how near the ratio ever
      comes to the local-thermal value (<= PLATEAU_THETA where there is a plateau).
    * Zeno line: the boundary of the region where the plateau exists (contour of ``duration > 0``,
      at cell centres, labelled "plateau edge"; its part at large Gamma is not the Zeno line, see
      the next item):
      across it the relaxation time and the time the local-thermal state is reached meet, i.e. the
      plateau shrinks to nothing; on its plateau side (small eps, large Gamma) the collisions
      freeze the intra-band hopping (quantum Zeno effect) and the relaxation time grows like
      Gamma / eps^2.
    * No plateau at Gamma >~ 30 (paper's h = 4, N = 3; investigated, physics, not the detection):
      there the ratio *does* stay flat for four or more decades of time (eps = 1e-3: from t ~ 0.3 to
      ~ 1e4), but at a level off the local-thermal one by 0.11 |r_G - r_loc| (Gamma = 30) and 0.19
      (Gamma = 100), above PLATEAU_THETA = 0.1.  When the collisions come faster than the qubit's
      own precession (Gamma above the Bohr frequencies ~ h), the free evolution no longer averages
      out the coherences that each collision (38) leaves between the bombarded qubit's levels: the
      state of the fast stage is the fixed point of the collision map itself, not the local thermal
      state (73), which is the fixed point only of its secular (precession-averaged) part.  Check:
      iterating the exact map alone from ``|000>`` (eps = 1e-3) converges to a ratio off by
      0.1997 |r_G - r_loc|, the Gamma -> infinity limit of the plateau levels above.  So the upper
      edge of the plateau region at large Gamma is not the Zeno line (the plateau does not vanish;
      it stops being *local-thermal*); the Zeno line is the edge at large eps, where the relaxation
      time 1/gap comes down to the local thermalisation time.  ``closest_local_thermal`` shows the
      offset.  (Before this was understood, a detection bug hid real plateaus too: the first run of
      grid times within the band, a transient crossing, was taken instead of the longest.)

(b) ``--preset b`` -- over (eps, sigma_p), the stationary trace distance to the Gibbs state (72) for the
    exact (38) and the local (54)-(56) maps (task ``"stationary"``): where it is not small the
    Gibbs fixed point behind (48) fails.

(c) ``--preset c`` -- over (eps, beta_c - beta_h), the heat current J_hot from the hot bath (task
    ``"transport"``, hot bath on qubit 1 at beta_hot, cold bath on qubit N) for the three maps.

Figures: one panel per map kind (or per quantity for (a)), ``log10`` colour scales, log axes for eps
and Gamma, the axes labelled with the parameter names.  The grids are the presets' defaults
(:data:`PRESETS`), any axis can be replaced with ``--grid``.
"""
from __future__ import annotations

import math
import os
import shlex
import sys

import numpy as np

__all__ = ["PRESETS", "phase_diagram", "task_relaxation", "spectral_gap_dense", "plot", "main"]

#: Times of the plateau search (4 per decade, 1e-2 .. 1e10: the first-order error budget of the
#: evolution costs about 25 ms per time at N = 3, so the grid is kept coarse).
PLATEAU_PER_DECADE = 4
PLATEAU_TIMES = np.logspace(-2, 10, 12 * PLATEAU_PER_DECADE + 1)
#: Fraction of |r_G - r_loc| within which the band ratio is "on the local-thermal plateau".
PLATEAU_THETA = 0.1

#: The presets: grid (in axis order), fixed parameters and task.
PRESETS = {
    "a": {"grid": {"eps": "eps=1e-4:1e-1:13log", "Gamma": "Gamma=1e-2:1e2:9log"},
          "fixed": {"N": 3, "kind": "exact"}, "task": "relaxation"},
    "b": {"grid": {"eps": "eps=1e-4:1e-1:13log", "sigma_p": "sigma_p=0.1:1:9log", "kind": "kind=exact,local"},
          "fixed": {"N": 3}, "task": "stationary"},
    "c": {"grid": {"eps": "eps=1e-4:1e-1:13log", "beta_cold": "beta_cold=0.15:1.1:9log",
                   "kind": "kind=exact,global,local"},
          "fixed": {"N": 3, "beta_hot": 0.1}, "task": "transport"},
}


def spectral_gap_dense(L):
    """``(gap, error estimate)`` of the generator (71): :meth:`symcoll.dynamics.Lindbladian.spectral_gap`
    (dense eigenvalues per invariant block, first-order condition-number estimate; see
    :mod:`symcoll.dynamics.gap`).  ``gap = min -Re lambda`` over every eigenvalue but the stationary one."""
    g = L.spectral_gap()
    return float(g.value), float(g.error.total)


def task_relaxation(model):
    """Preset (a): relaxation time ``1/gap`` of (71) and the local-thermal plateau of the ratio (74)."""
    from . import observables as ob
    from .paper import basis_state, ratio_where_resolved

    chain = model.chain
    L = model.lindbladian()
    gap, gap_err = spectral_gap_dense(L)
    ev = L.evolve(basis_state(chain, 0), PLATEAU_TIMES)
    r, _ = ratio_where_resolved(ev.states_float(), chain, ev.error_estimate)
    r = np.array([np.nan if v is None else v for v in r])
    r_loc = float(ob.band_ratio(ob.local_thermal_state(chain, model.bath.beta, site=model.coupling.site)[None],
                                chain)[0])
    r_g = float(ob.band_ratio(ob.gibbs_state(chain, model.bath.beta)[None], chain)[0])
    dev = np.abs(r - r_loc) / abs(r_g - r_loc)
    with np.errstate(invalid="ignore"):
        on = dev <= PLATEAU_THETA
    i, j = _longest_run(on)
    start = end = np.nan
    if i is not None:
        start, end = float(PLATEAU_TIMES[i]), float(PLATEAU_TIMES[j])
    step = 10 ** (1 / PLATEAU_PER_DECADE) - 1
    t_relax = 1.0 / gap if gap > 0 else math.inf
    return {
        "relaxation_time": t_relax,
        "relaxation_time_error": gap_err / gap ** 2 if gap > 0 else math.nan,
        "gap": gap, "gap_error": gap_err,
        "plateau_start": start, "plateau_start_error": start * step,
        "plateau_end": end, "plateau_end_error": end * step,
        "plateau_duration": end - start, "plateau_duration_error": (end + start) * step,
        "ratio_local_thermal": r_loc, "ratio_gibbs": r_g,
        "closest_local_thermal": float(np.nanmin(dev)) if np.isfinite(dev).any() else math.nan,
    }


def _longest_run(on):
    """``(i, j)``: first and last index of the longest run of True in ``on`` (the earliest of equally
    long runs); ``(None, None)`` when there is none.  The longest, not the first: at large Gamma the
    ratio overshoots and crosses the local-thermal band at a single grid time before it settles."""
    best, cur = (None, None, 0), None
    for k, v in enumerate(on):
        if v:
            cur = k if cur is None else cur
            if k - cur + 1 > best[2]:
                best = (cur, k, k - cur + 1)
        else:
            cur = None
    return best[0], best[1]


def _task(name):
    return task_relaxation if name == "relaxation" else name


def phase_diagram(preset, out_dir, grid=None, fixed=None, client=None, scheduler=None, workers=None,
                  progress=False, command=None, connect_timeout=10.0):
    """Run preset ``preset`` (``"a"``, ``"b"``, ``"c"``) into ``out_dir/phase_<preset>.zarr`` and draw
    ``out_dir/phase_<preset>.png``.  ``grid`` replaces axes (``{name: values}`` or ``--grid`` strings);
    ``fixed`` adds fixed parameters.  Returns ``(SweepResult, png path)``."""
    from .sweep import parse_grid_spec, sweep

    if preset not in PRESETS:
        raise ValueError(f"preset must be one of {sorted(PRESETS)} (got {preset!r})")
    P = PRESETS[preset]
    axes = {name: parse_grid_spec(spec)[1] for name, spec in P["grid"].items()}
    extra = grid or {}
    if isinstance(extra, (list, tuple)):
        extra = dict(parse_grid_spec(g) for g in extra)
    for name, values in extra.items():
        if name not in axes:
            raise ValueError(f"--grid {name}: preset {preset} sweeps {', '.join(axes)}; only these axes can be replaced")
        axes[name] = list(values)
    fx = dict(P["fixed"], **(fixed or {}))
    os.makedirs(out_dir, exist_ok=True)
    store = os.path.join(out_dir, f"phase_{preset}.zarr")
    res = sweep(axes, _task(P["task"]), out=store, fixed=fx, client=client, scheduler=scheduler, workers=workers,
                progress=progress, command=command or f"symcoll.phase_diagram.phase_diagram({preset!r})",
                connect_timeout=connect_timeout)
    png = os.path.join(out_dir, f"phase_{preset}.png")
    plot(preset, res.dataset(), png)
    return res, png


def _edges(v):
    """Cell edges of log-spaced centres ``v`` (geometric midpoints; one value: a factor 2 either side)."""
    v = np.asarray(v, dtype=float)
    if len(v) == 1:
        return np.array([v[0] / 2, v[0] * 2])
    mid = np.sqrt(v[:-1] * v[1:])
    return np.concatenate([[v[0] ** 2 / mid[0]], mid, [v[-1] ** 2 / mid[-1]]])


def _log10(a):
    a = np.asarray(a, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(a > 0, np.log10(a), np.nan)


def plot(preset, ds, path):
    """The PNG heatmaps of a preset's dataset (see the module doc)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    eps = ds["eps"].values.astype(float)
    if preset == "a":
        G = ds["Gamma"].values.astype(float)
        fig, axs = plt.subplots(1, 2, figsize=(11, 4.5), constrained_layout=True)
        dur = ds["plateau_duration"].values
        for ax, (name, label) in zip(axs, (("relaxation_time", "log10 relaxation time 1/gap of (71)"),
                                           ("plateau_duration", "log10 duration of the local-thermal plateau"))):
            Z = _log10(ds[name].values).T  # rows: Gamma
            m = ax.pcolormesh(_edges(eps), _edges(G), Z, shading="flat")
            fig.colorbar(m, ax=ax, label=label)
            with np.errstate(invalid="ignore"):
                has = (np.asarray(dur, dtype=float) > 0).astype(float).T  # a single grid time is a crossing
            if 0 < has.sum() < has.size:
                cs = ax.contour(eps, G, has, levels=[0.5], colors="w", linewidths=2)
                ax.clabel(cs, fmt={0.5: "plateau edge"}, fontsize=8, inline=False)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("eps (inter-qubit coupling, (64))")
            ax.set_ylabel("Gamma (collision rate, (71))")
            ax.set_title(label + f"\nexact map (38), N = {_fixed(ds, 'N')}")
    else:
        kinds = [str(k) for k in ds["kind"].values]
        yname = "sigma_p" if preset == "b" else "beta_cold"
        y = ds[yname].values.astype(float)
        fig, axs = plt.subplots(1, len(kinds), figsize=(5.2 * len(kinds), 4.5), constrained_layout=True, squeeze=False)
        for ax, k in zip(axs[0], kinds):
            sub = ds.sel(kind=k)
            if preset == "b":
                Z = _log10(sub["trace_distance_gibbs"].values)
                label = "log10 trace distance of rho_ss to Gibbs (72)"
                ylab, yv = "sigma_p (momentum dispersion, (41))", y
            else:
                Z = _log10(np.abs(sub["J"].isel(reservoir=0).values))
                label = "log10 |J_hot| (heat current from the hot bath)"
                bh = float(_fixed(ds, "beta_hot"))
                ylab, yv = "beta_c - beta_h", y - bh
            dims = list(sub["status"].dims)
            if dims.index("eps") > dims.index(yname):
                Z = Z.T
            m = ax.pcolormesh(_edges(eps), _edges(yv), Z.T, shading="flat")
            fig.colorbar(m, ax=ax, label=label)
            ax.set_xscale("log")
            ax.set_yscale("log")
            ax.set_xlabel("eps (inter-qubit coupling, (64))")
            ax.set_ylabel(ylab)
            ax.set_title(f"{k} map, N = {_fixed(ds, 'N')}")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def _fixed(ds, name):
    import json

    return json.loads(ds.attrs["fixed"]).get(name)


def main(args) -> int:
    """``symcoll phase-diagram``."""
    from .sweep import parse_grid_spec, parse_set

    grid = dict(parse_grid_spec(g) for g in args.grid or [])
    fixed = dict(parse_set(s) for s in args.set or [])
    command = shlex.join(["symcoll"] + [str(a) for a in getattr(args, "argv", None) or ["phase-diagram"]])
    res, png = phase_diagram(args.preset, args.out, grid=grid, fixed=fixed, scheduler=args.scheduler,
                             workers=args.workers, progress=sys.stderr.isatty() or args.progress, command=command,
                             connect_timeout=args.timeout)
    print(f"wrote {res.path} and {png}")
    print(res.summary())
    return 0
