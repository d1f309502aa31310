"""``symcoll evolve``: one run of the Lindblad equation (71) from the command line.

The chain (64) of any size N >= 1 bombarded on ``--site`` through (65), one map (``--map``:
exact (38), global (45) or local (54)-(56)), an initial state chosen with ``--init``:

* ``ground``: ``|0..0>`` (no excitation; the paper's initial state, Sec. VI E);
* ``excited``: ``|1..1>`` (every qubit excited);
* ``gibbs``: the Gibbs state (72) of H(eps) at ``--init-beta`` (default: the bath's ``--beta``);
* ``file``: a density matrix read from ``--state FILE.npy`` (a (d, d) complex array, in the
  basis given by ``--basis``: ``eigen``, the eigenbasis of H(eps) in ascending energy, or
  ``local``, ``|s_1 ... s_N>`` with qubit 1 the most significant bit).

The observables are those of :func:`symcoll.paper.run_one`, computed for the chain given:
the band ratio (74) ``P_1 / rho_00`` (``rho_123/rho_00`` for N = 3) is defined for every
N >= 1 wherever ``rho_00`` is resolved; ``beta_eff(0 -> 2)`` (75) needs N >= 2 and
``rho_23`` needs N >= 2 (four levels); otherwise they are reported as not applicable.
Every option is checked before computing, ``--out FILE`` included (written atomically).
"""
from __future__ import annotations

import json
import math
import os
import shlex
import sys
from dataclasses import dataclass

import numpy as np

from . import conventions as cv
from ._version import __version__

#: The choices of ``--init``.
INITS = ("ground", "excited", "gibbs", "file")

#: The ``symcoll evolve`` flag of each parameter name that starts the model's error messages.
EVOLVE_FLAGS = {"N": "--N", "h": "--h", "eps": "--eps", "beta": "--beta", "m": "--m", "g": "--g",
                "sigma_p": "--sigma-p", "Gamma": "--Gamma", "dps": "--dps", "times": "--times",
                "ladder": "--ladder", "site": "--site", "init_beta": "--init-beta", "state": "--state"}


@dataclass
class EvolveJob:
    """The checked inputs of one ``symcoll evolve`` run."""

    chain: object
    bath: object
    coupling: object
    Gamma: float
    options: object
    times: np.ndarray
    rho0: np.ndarray
    basis: str
    initial_state: dict


def parse_h(text):
    """``--h``: ``"4"`` -> 4.0 (uniform chain), ``"4,4.5"`` -> [4.0, 4.5] (one h per site, a detuned chain).

    The values themselves (length N, > 0) are checked by :class:`~symcoll.model.QubitChain`.

    Raises
    ------
    argparse.ArgumentTypeError
        A value that is not a number (the message names ``--h``).
    """
    import argparse

    parts = [x.strip() for x in str(text).split(",")]
    try:
        vals = [float(x) for x in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--h must be a number or a comma-separated list of numbers, one per site (got {text!r})") from None
    return vals[0] if len(vals) == 1 else vals


def initial_state(chain, init="ground", beta=None, state=None, basis="eigen"):
    """The initial state of ``symcoll evolve``: ``(rho0, basis, description)``.

    Parameters
    ----------
    chain : QubitChain
    init : {"ground", "excited", "gibbs", "file"}
        See the module docstring.
    beta : float, optional
        Inverse temperature of the Gibbs state (72) (``init="gibbs"``).
    state : array_like, optional
        The density matrix (``init="file"``), in ``basis``.
    basis : {"eigen", "local"}
        Basis of ``state``.

    Returns
    -------
    rho0 : (d, d) complex array
    basis : str
        Basis of ``rho0`` (for :meth:`symcoll.dynamics.Lindbladian.evolve`).
    description : dict
        JSON-ready: ``init`` and what it means.

    Raises
    ------
    ValueError, TypeError
        Bad ``init``, ``beta`` or ``state`` (checked by :func:`symcoll.model.check_density_matrix`).
    """
    from . import observables as ob
    from .model import check_density_matrix
    from .paper import basis_state

    if init == "ground":
        return basis_state(chain, 0), "eigen", {"init": "ground", "meaning": "|0..0><0..0|, no excitation "
                                                "(the paper's initial state)"}
    if init == "excited":
        return basis_state(chain, chain.N), "eigen", {"init": "excited", "meaning": "|1..1><1..1|, every qubit excited"}
    if init == "gibbs":
        rho = ob.gibbs_state(chain, beta)
        return rho, "eigen", {"init": "gibbs", "beta": float(beta), "meaning": "Gibbs state (72) of H(eps) at beta"}
    if init == "file":
        if basis not in ("eigen", "local"):
            raise ValueError(f"basis must be 'eigen' or 'local' (got {basis!r})")
        rho = check_density_matrix(state, chain.dim, "state")
        return rho, basis, {"init": "file", "basis": basis, "meaning": f"density matrix given in the {basis} basis"}
    raise ValueError(f"init must be one of {INITS} (got {init!r})")


def _load_state(path):
    """The array in ``path`` (.npy), or a ValueError naming ``--state``."""
    try:
        return np.load(path, allow_pickle=False)
    except OSError as exc:
        raise ValueError(f"--state {path}: cannot read it: {exc.strerror or exc}") from None
    except (ValueError, EOFError) as exc:
        raise ValueError(f"--state {path}: not a .npy array of numbers ({exc})") from None


def check_evolve_options(args) -> EvolveJob:
    """Check every option of ``symcoll evolve`` before computing; return the inputs of the run.

    Reuses the model's own validation (:class:`~symcoll.model.QubitChain`,
    :class:`~symcoll.model.EffusionBath`, :class:`~symcoll.model.DeltaCoupling`,
    :func:`~symcoll.model.check_density_matrix`, the Lindbladian's checks of Gamma and of the
    times, :class:`~symcoll.parameters.MapOptions`); the messages name the flag
    (``--h must be > 0, ...``).  ``--out FILE`` is checked for writability
    (:func:`symcoll.outputs.check_output_file`).

    Raises
    ------
    ValueError, TypeError, symcoll.outputs.OutputError
    """
    from .cli import naming_flags, parse_times
    from .dynamics import _check_gamma, _check_times
    from .model import DeltaCoupling, EffusionBath, QubitChain
    from .outputs import check_output_file
    from .parameters import MapOptions

    with naming_flags(EVOLVE_FLAGS):
        times = _check_times(parse_times(args.times))
        chain = QubitChain(args.N, args.h, args.eps, ladder=args.ladder)
        bath = EffusionBath(args.beta, args.m, args.sigma_p)
        coupling = DeltaCoupling(args.g, site=args.site)
        if coupling.site > chain.N:
            raise ValueError(f"site must be in 1..N = 1..{chain.N} (got {coupling.site})")
        _check_gamma(args.Gamma)
        options = MapOptions(args.kind, dps=args.dps)
        init = args.init or ("file" if args.state is not None else "ground")
        if init != "file" and (args.state is not None or args.basis is not None):
            raise ValueError(f"--state and --basis apply to --init file only (got --init {init})")
        if init != "gibbs" and args.init_beta is not None:
            raise ValueError(f"--init-beta applies to --init gibbs only (got --init {init})")
        if init == "file" and args.state is None:
            raise ValueError("--init file needs --state FILE.npy (a (d, d) density matrix)")
        state = _load_state(args.state) if init == "file" else None
    # the Gibbs state's beta is --init-beta (the bath's --beta unless given)
    with naming_flags({"beta": "--beta" if args.init_beta is None else "--init-beta", "state": "--state"}):
        rho0, basis, desc = initial_state(chain, init, beta=args.beta if args.init_beta is None else args.init_beta,
                                          state=state, basis=args.basis or "eigen")
    if init == "file":
        desc["path"] = os.path.abspath(args.state)
    if args.out is not None:
        check_output_file(args.out, "--out")
    return EvolveJob(chain, bath, coupling, args.Gamma, options, times, rho0, basis, desc)


def main(args) -> int:
    """``symcoll evolve``: one run; prints a table or the JSON entry; ``--out FILE`` also writes the JSON."""
    from .cli import naming_flags
    from .outputs import atomic_write
    from . import paper

    job = check_evolve_options(args)
    with naming_flags(EVOLVE_FLAGS):
        res = paper.run_one(job.chain, job.bath, job.coupling, job.Gamma, job.options, job.times,
                            rho0=job.rho0, basis=job.basis, progress=True if sys.stderr.isatty() else None)
    res["ladder"] = args.ladder
    res["initial_state"] = job.initial_state
    res["parameters"] = {"N": args.N, "h": args.h, "eps": args.eps, "beta": args.beta, "m": args.m, "g": args.g,
                         "sigma_p": args.sigma_p, "Gamma": args.Gamma, "site": job.coupling.site,
                         "map": job.options.to_dict(), "ladder": args.ladder}
    res["command"] = shlex.join(["symcoll"] + [str(a) for a in getattr(args, "argv", None) or ["evolve"]])
    res["symcoll_version"] = __version__
    if args.out is not None:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        atomic_write(args.out, lambda fh: fh.write(json.dumps(res, indent=1) + "\n"))
    if args.json:
        json.dump(res, sys.stdout, indent=1)
        print()
        return 0
    _print_table(res, args, job)
    if args.out is not None:
        print(f"# wrote {args.out}")
    return 0


def _print_table(res, args, job):
    """The human-readable table of one run."""
    print(f"# symcoll {__version__}  N={args.N} h={args.h} eps={args.eps:g} beta={args.beta} m={args.m} "
          f"g={args.g} sigma_p={args.sigma_p} Gamma={args.Gamma} site={job.coupling.site} map={args.kind} "
          f"ladder={args.ladder} ({cv.LADDER_DESCRIPTIONS[args.ladder]})")
    print(f"# initial state: {job.initial_state['init']}: {job.initial_state['meaning']}")
    print(f"# map entry error {res['map_error_estimate']:.2e} ("
          + ("bound" if res["map_error"]["rigorous"] else "estimate") + ")")
    cp = res["complete_positivity"]
    if cp["checked"]:
        print(f"# complete positivity: smallest Choi eigenvalue {cp['min_choi_eigenvalue']:.2e} "
              f"(noise estimate {cp['noise_estimate']:.1e})"
              + ("; NOT completely positive: a property of the incident state (41) at this sigma_p "
                 "(README: 'Where the model applies')" if cp["warned"] else "; CP within the noise"))
    ratio = "rho_123/rho_00" if args.N == 3 else "P_1/rho_00"
    print(f"{'t':>12} {'rho_00':>12} {ratio:>15} {'beta_eff(0->2)':>15} {'|rho_23|':>11} {'error':>9}")
    for i, t in enumerate(res["times"]):
        be, r = res["beta_eff_0_2"][i], res["ratio_123_00"][i]
        r23 = "n/a" if res["rho_23"][i] is None else format(math.hypot(*res["rho_23"][i]), ".3e")
        print(f"{t:12.4e} {res['populations'][i][0]:12.8f} {'not defined' if r is None else format(r, '.8f'):>15} "
              f"{'not defined' if be is None else format(be, '.8f'):>15} {r23:>11} {res['error_estimate'][i]:9.1e}")
    if res["ratio_123_00_note"]:
        print(f"# {ratio} (74) {res['ratio_123_00_note']}")
    if res["beta_eff_0_2_note"]:
        print(f"# beta_eff(0->2) {res['beta_eff_0_2_note']}")
    st = res["stationary"]
    if not st["unique"]:
        print(f"# stationary: not unique ({st['note']})")
        return
    print(f"# stationary: trace distance to Gibbs {st['trace_distance_gibbs']:.3e}, "
          f"to local thermal {st['trace_distance_local_thermal']:.3e}")
