"""The ``symcoll`` command line (also ``python -m symcoll``).

Commands (each implemented in its own module, imported lazily so that
``symcoll --help`` is instant):

* ``paper``   -- reproduce the paper's numerical section (Sec. VI E, Figs. 2-4), with the
  paper's parameters as defaults and every model parameter, the eps lists, the maps and the
  time grid overridable (:mod:`symcoll.paper`);
* ``verify``  -- run every derivation, one line per checked equation with its computed verdict
  (AGREES, MISPRINT, DIFFERS-BY-CONVENTION, FAIL), ``--report`` and ``--coverage`` (:mod:`symcoll.verify`);
* ``kernels`` -- write the lambdified kernels as an importable module;
* ``evolve``  -- one run of the Lindblad equation (71) for any chain, initial state and
  bombarded site, its JSON optionally written to a file (:mod:`symcoll.evolve`);
* ``transport`` -- heat transport between a hot and a cold bath, with checked claims
  (:mod:`symcoll.transport_run`; exit status 1 if a numerical-consistency claim fails).
* ``scaling`` -- relaxation time, local-thermal plateau and stationary distance to Gibbs versus N
  (:mod:`symcoll.scaling`).
* ``sweep``, ``phase-diagram`` -- parameter grids on Dask, results in a zarr store
  (:mod:`symcoll.sweep`, :mod:`symcoll.phase_diagram`).

Every option's help text says what it means and its default (the model's defaults are read
from :data:`symcoll.parameters.PARAMETERS`, with where the paper states each).  The helpers
that read option values (:func:`parse_list`, :func:`parse_grid`, :func:`parse_times`) and
:func:`naming_flags` (a model error ``h must be > 0`` becomes ``--h must be > 0``) live here.

Every option is checked before any computation.  Exit status: 0 on success (``paper``
writes its report whatever the verdicts of the claims; ``verify`` returns 1 if a check
fails), 2 for a bad option or an unusable output location (one line on stderr,
``symcoll: error: ...``, naming the flag or the path), 1 for an I/O error during the run,
130 on Ctrl-C (one line, ``symcoll: interrupted; ...``, saying what became of ``--out``).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading

from ._version import __version__


def _evolve_h(text):
    """``--h`` of ``symcoll evolve``: one number, or a comma-separated list (one h per site; :func:`symcoll.evolve.parse_h`)."""
    from .evolve import parse_h

    return parse_h(text)


def _positive_int(text):
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return v


def _fmt(value):
    """A default as the user would type it (``0.1,0.003``, ``exact,global``, ``4``)."""
    if isinstance(value, (list, tuple)):
        return ",".join(_fmt(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _paper_help(name, quick=None):
    """Help of a ``symcoll paper`` parameter option: meaning, default and where the paper states it."""
    from .parameters import PARAMETERS

    info = PARAMETERS[name]
    alt = f"; --quick: {_fmt(quick)}" if quick is not None else ""
    return f"{info.meaning} (default: {_fmt(info.value)}{alt}; {info.source})"


def build_parser() -> argparse.ArgumentParser:
    from .parameters import PAPER_PARAMETERS as P
    from .parameters import PARAMETERS as R
    from .parameters import QUICK_PARAMETERS as Q

    p = argparse.ArgumentParser(
        prog="symcoll",
        description="Collisional reservoirs of qubit chains (Tabanera-Bravo et al.): "
        "symbolic derivations, kernels, collision maps and dynamics with error budgets (bounds and estimates).",
    )
    p.add_argument("--version", action="version", version=f"symcoll {__version__}",
                   help="print the version and exit")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    pp = sub.add_parser(
        "paper",
        help="reproduce Sec. VI E (Figs. 2-4) with data, figures and a checked-claims report",
        description="Reproduce the paper's numerical section with its parameters embedded as defaults; any model "
        "parameter, the eps lists, the maps and the time grid can be overridden, and results.json records the "
        "values used and the command line.",
    )
    pp.add_argument("--out", metavar="DIR", default="symcoll-paper",
                    help="output directory for fig2-4.png, results.json, report.md and manifest.json "
                         "(default: ./symcoll-paper)")
    pp.add_argument("--ladder", choices=["paper", "unit"], default="paper",
                    help="ladder convention: paper = sigma_pm = sigma_x pm i sigma_y as printed in (64), hopping "
                         "4 eps; unit = |1><0|, hopping eps (default: paper)")
    pp.add_argument("--dps", type=int, default=None, metavar="DIGITS",
                    help="also validate the float64 runs against mpmath at DIGITS >= 15 decimal digits "
                         "(default: no validation)")
    pp.add_argument("--quick", action="store_true",
                    help="small grid for smoke tests: eps 0.1 and 5e-5, 29 times, map tol 1e-10 (default: off)")
    pp.add_argument("--certify", action="store_true",
                    help="also run every (eps, map) in Arb ball arithmetic: results.json gets mid/rad enclosures, "
                         "report.md decides the claims on intervals and compares the float64 estimates with the "
                         "certified radii (exit status 1 if a float64 estimate is dishonest) (default: off)")
    for name, flag, kind, meta in (("N", "--N", _positive_int, "N"), ("h", "--h", float, "H"),
                                   ("beta", "--beta", float, "BETA"), ("m", "--m", float, "M"),
                                   ("g", "--g", float, "G"), ("sigma_p", "--sigma-p", float, "SIGMA_P"),
                                   ("Gamma", "--Gamma", float, "GAMMA")):
        pp.add_argument(flag, dest=name, type=kind, default=None, metavar=meta, help=_paper_help(name))
    pp.add_argument("--eps", default=None, metavar="LIST",
                    help="comma-separated " + _paper_help("eps", Q["eps"]))
    pp.add_argument("--eps-sweep", dest="eps_sweep", default=None, metavar="LIST",
                    help="comma-separated " + _paper_help("eps_sweep", Q["eps_sweep"])
                    + "; with --eps given, the --eps list")
    pp.add_argument("--maps", default=None, metavar="LIST",
                    help="comma-separated " + _paper_help("maps"))
    pp.add_argument("--times", default=None, metavar="START:STOP:COUNT",
                    help=f"COUNT log-spaced times from START to STOP (default: {_fmt(P['t_min'])}:"
                         f"{_fmt(P['t_max'])}:{P['n_times']}; --quick: {_fmt(Q['t_min'])}:{_fmt(Q['t_max'])}:"
                         f"{Q['n_times']}; {R['t_max'].source}; {R['n_times'].source})")

    pv = sub.add_parser(
        "verify",
        help="run every derivation; one line per checked equation with its verdict (AGREES, MISPRINT, "
             "DIFFERS-BY-CONVENTION, FAIL)",
        description="Run the derivations of symcoll's registry and print every check with its computed verdict "
        "and a count per verdict. Exit status 1 only if a check FAILs (a bug in symcoll; a crashing derivation "
        "is a FAIL), 0 otherwise: MISPRINT and DIFFERS-BY-CONVENTION describe the paper, not symcoll.",
    )
    pv.add_argument("-v", "--verbose", action="store_true",
                    help="print each derivation as a worked example: steps, derived and printed forms, "
                         "their simplified difference and the verdict (default: one line per check)")
    pv.add_argument("--only", action="append", default=None, metavar="NAME",
                    help="run only the derivation NAME (repeatable, or comma-separated names; an unknown name is "
                         "an error listing the known ones) (default: run all)")
    pv.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                    help="run the derivations in N worker processes; results are printed in registry order "
                         "(default: 1, in this process)")
    pv.add_argument("--latex", action="store_true",
                    help="with -v, print the forms in LaTeX instead of sympy.pretty ASCII art (default: off)")
    pv.add_argument("--coverage", action="store_true",
                    help="also print the coverage table: every numbered equation of the paper, checked (with "
                         "the verdicts of its checks) or the reason it is not checked (default: off)")
    pv.add_argument("--report", default=None, metavar="FILE.md",
                    help="write a Markdown report, atomically: every check with its derived and printed forms "
                         "in LaTeX, verdict and evidence, the coverage table and the counts per verdict "
                         "(default: no report)")

    pk = sub.add_parser(
        "kernels",
        help="write the lambdified numpy/mpmath (or Arb ball) kernels as an importable module",
        description="Generate the kernels from the symbolic forms and write them to DIR.",
    )
    pk.add_argument("--out", required=True, metavar="DIR", help="output directory (required, no default)")
    pk.add_argument("--N", type=_positive_int, default=None,
                    help="largest chain size whose chain kernels are written (default: 1..4)")
    pk.add_argument("--target", default=None, metavar="LIST",
                    help="comma-separated code-generation targets among numpy, mpmath, arb; numpy and mpmath go to "
                         "symcoll_kernels.py, arb (python-flint balls enclosing the exact values) to "
                         "symcoll_kernels_arb.py (default: numpy,mpmath)")

    pe = sub.add_parser(
        "evolve",
        help="one run of the Lindblad equation (71) for a chain",
        description="Evolve an initial state of the chain (64) under Eq. (71) with one collision map and print "
        "the observables (populations, band ratio (74), beta_eff (75), rho_23, each with its error estimate).",
    )
    eps0 = P["eps"][0]
    for name, flag, kind, meta, default in (
            ("N", "--N", _positive_int, "N", P["N"]), ("h", "--h", _evolve_h, "H", P["h"]),
            ("eps", "--eps", float, "EPS", eps0), ("beta", "--beta", float, "BETA", P["beta"]),
            ("m", "--m", float, "M", P["m"]), ("g", "--g", float, "G", P["g"]),
            ("sigma_p", "--sigma-p", float, "SIGMA_P", P["sigma_p"]), ("Gamma", "--Gamma", float, "GAMMA", P["Gamma"])):
        meaning = "inter-qubit coupling eps of (64)" if name == "eps" else _paper_meaning(name)
        if name == "h":
            meaning += "; or one value per site, comma-separated (a detuned chain, e.g. --h 4,4.5)"
        pe.add_argument(flag, dest=name, type=kind, default=default, metavar=meta,
                        help=f"{meaning} (default: {_fmt(default)}, the paper's)")
    pe.add_argument("--site", type=_positive_int, default=1,
                    help="bombarded qubit, 1..N (1-based; V = sigma_x on it in (65)) (default: 1, the paper's)")
    pe.add_argument("--map", dest="kind", choices=["exact", "global", "local"], default="exact",
                    help="collision map: exact (38), global (45) or local (54)-(56) (default: exact)")
    pe.add_argument("--ladder", choices=["paper", "unit"], default="paper",
                    help="ladder convention: paper = sigma_pm = sigma_x pm i sigma_y (hopping 4 eps); unit = "
                         "|1><0| (hopping eps) (default: paper)")
    pe.add_argument("--times", default="1e-2:1e5:50", metavar="TIMES",
                    help="'t1,t2,...' or 'start:stop:count' (count log-spaced times) (default: 1e-2:1e5:50)")
    pe.add_argument("--dps", type=int, default=None, metavar="DIGITS",
                    help="mpmath at DIGITS >= 15 decimal digits for the map and the propagation "
                         "(default: float64)")
    pe.add_argument("--init", choices=["ground", "excited", "gibbs", "file"], default=None,
                    help="initial state: ground = |0..0> (the paper's), excited = |1..1>, gibbs = Gibbs state "
                         "(72) at --init-beta, file = --state (default: ground, or file when --state is given)")
    pe.add_argument("--init-beta", dest="init_beta", type=float, default=None, metavar="BETA",
                    help="inverse temperature of --init gibbs (default: the bath's --beta)")
    pe.add_argument("--state", default=None, metavar="FILE.npy",
                    help="initial density matrix, a (d, d) complex .npy array, d = 2^N, Hermitian, trace 1, "
                         "positive (default: none)")
    pe.add_argument("--basis", choices=["eigen", "local"], default=None,
                    help="basis of --state: eigen = eigenbasis of H(eps), ascending energies; local = "
                         "|s_1...s_N>, qubit 1 the most significant bit (default: eigen)")
    pe.add_argument("--json", action="store_true",
                    help="print the run's JSON (the fields of a results.json run) instead of a table (default: off)")
    pe.add_argument("--out", default=None, metavar="FILE",
                    help="also write the run's JSON to FILE, atomically; checked before computing "
                         "(default: no file)")
    from .transport_run import add_parser as _add_transport

    _add_transport(sub)
    from .scaling import add_parser as _add_scaling

    _add_scaling(sub)
    _add_sweep_parsers(sub)
    return p


def _add_sweep_parsers(sub):
    """``symcoll sweep`` and ``symcoll phase-diagram`` (:mod:`symcoll.sweep`, :mod:`symcoll.phase_diagram`)."""
    def cluster_options(q):
        q.add_argument("--scheduler", default=None, metavar="ADDR",
                       help="address of an existing Dask scheduler, tcp://host:port (default: a local cluster)")
        q.add_argument("--workers", type=_positive_int, default=None, metavar="K",
                       help="worker processes of the local cluster, one BLAS thread each (default: one per core)")
        q.add_argument("--timeout", type=float, default=10.0, metavar="S",
                       help="seconds to wait for --scheduler (default: 10)")
        q.add_argument("--progress", action="store_true", help="progress bar even when stderr is not a terminal")

    ps = sub.add_parser(
        "sweep", help="a parameter grid as Dask tasks, results in a zarr store (resumable)",
        description="Run a task at every point of a parameter grid on a Dask cluster and write an xarray Dataset "
        "to a zarr store, point by point; re-running on the same store skips finished points. The last line is "
        "'points: D done, S skipped, F failed; wall W s; efficiency E' (E = compute time / (wall x workers)).")
    ps.add_argument("--grid", action="append", metavar="NAME=SPEC",
                    help="a swept parameter (repeatable): NAME=v1,v2,... or NAME=start:stop:COUNT (linear) or "
                         "NAME=start:stop:COUNTlog; NAME among N, h, eps, beta, m, g, sigma_p, Gamma, site, ladder, "
                         "kind, tol, beta_hot, beta_cold, gamma_hot, gamma_cold, site_hot, site_cold (required)")
    ps.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help="a fixed parameter (repeatable) (default: the paper's values, Sec. VI E)")
    ps.add_argument("--task", choices=["stationary", "evolve", "transport"], default="stationary",
                    help="stationary: steady state of (71) and its observables; evolve: rho(t) from |0..0> at "
                         "--times; transport: two reservoirs and heat_flows (default: stationary)")
    ps.add_argument("--times", default=None, metavar="TIMES",
                    help="times of --task evolve: 't1,t2,...' or 'start:stop:count' (log-spaced) (default: none)")
    ps.add_argument("--out", required=True, metavar="STORE.zarr",
                    help="zarr store (created, or resumed when it holds the same sweep; never overwritten) (required)")
    cluster_options(ps)

    pd = sub.add_parser(
        "phase-diagram", help="preset sweeps with PNG heatmaps: (a) relaxation time and local-thermal plateau, "
                              "(b) trace distance to Gibbs, (c) heat current",
        description="Preset sweeps and their figures (see symcoll.phase_diagram). The store and the PNG go to "
        "--out; the last line is the sweep's summary line.")
    pd.add_argument("--preset", choices=["a", "b", "c"], required=True,
                    help="a: relaxation time 1/gap of (71) and local-thermal plateau over (eps, Gamma), exact map; "
                         "b: stationary trace distance to Gibbs (72) over (eps, sigma_p), exact vs local; "
                         "c: heat current over (eps, beta_c - beta_h), three maps (required)")
    pd.add_argument("--out", default="symcoll-phase", metavar="DIR",
                    help="output directory for phase_<preset>.zarr and phase_<preset>.png (default: ./symcoll-phase)")
    pd.add_argument("--grid", action="append", metavar="NAME=SPEC",
                    help="replace one axis of the preset's grid (same syntax as symcoll sweep) (default: the preset's)")
    pd.add_argument("--set", action="append", metavar="NAME=VALUE",
                    help="a fixed parameter (default: the paper's values, N = 3)")
    cluster_options(pd)


def _paper_meaning(name):
    from .parameters import PARAMETERS

    return PARAMETERS[name].meaning


# ----------------------------------------------------------------------------- option values
@contextlib.contextmanager
def naming_flags(flags):
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


def parse_list(text, flag, kind=float):
    """``'a,b,c'`` as a list of ``kind`` (float or str); a ValueError naming ``flag`` otherwise."""
    items = [x.strip() for x in str(text).split(",")]
    if not all(items):
        raise ValueError(f"{flag} must be a comma-separated list without empty items (got {text!r})")
    try:
        return [kind(x) for x in items]
    except ValueError:
        raise ValueError(f"{flag} must be a comma-separated list of numbers (got {text!r})") from None


def parse_grid(text, flag="--times"):
    """``'start:stop:count'`` as ``(start, stop, count)`` with ``0 < start < stop`` and ``count >= 1``."""
    parts = str(text).strip().split(":")
    try:
        if len(parts) != 3:
            raise ValueError
        a, b, n = float(parts[0]), float(parts[1]), int(parts[2])
    except ValueError:
        raise ValueError(f"{flag} must be 'start:stop:count' (log-spaced), with numbers and an integer count "
                         f"(got {text!r})") from None
    if not (0 < a < b < float("inf") and n >= 1):
        raise ValueError(f"{flag} start:stop:count needs 0 < start < stop and count >= 1 (got {text!r})")
    return a, b, n


def parse_times(text):
    """The times of ``evolve --times``: ``'t1,t2,...'`` or ``'start:stop:count'`` (``count`` log-spaced times)."""
    import numpy as np

    text = str(text).strip()
    if ":" in text:
        try:
            a, b, n = parse_grid(text, "times")
        except ValueError as exc:
            raise ValueError(str(exc).replace("'start:stop:count' (log-spaced)",
                                              "'t1,t2,...' or 'start:stop:count' (log-spaced)")) from None
        return np.logspace(np.log10(a), np.log10(b), n)
    try:
        return np.array([float(x) for x in text.split(",") if x.strip()])
    except ValueError:
        raise ValueError(f"times must be 't1,t2,...' or 'start:stop:count' (log-spaced), with numbers and an "
                         f"integer count (got {text!r})") from None


def _command(name):
    """The function that runs command ``name`` (imported lazily)."""
    if name == "verify":
        from .verify import main as run
    elif name == "kernels":
        from .kernels import cli_main as run
    elif name == "paper":
        from .paper import main as run
    elif name == "evolve":
        from .evolve import main as run
    elif name == "transport":
        from .transport_run import main as run
    elif name == "scaling":
        from .scaling import main as run
    elif name == "sweep":
        from .sweep import main as run
    elif name == "phase-diagram":
        from .phase_diagram import main as run
    else:  # pragma: no cover - argparse rejects unknown commands
        raise ValueError(f"unknown command {name}")
    return run


def main(argv=None) -> int:
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else [str(a) for a in argv]
    args = parser.parse_args(argv)
    args.argv = list(argv)  # recorded in the outputs (results.json, evolve's JSON)
    if args.command is None:
        parser.print_help()
        return 2
    from .outputs import OutputError, check_output_dir

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)
    try:
        run = _command(args.command)
        if args.command == "kernels":  # kernels.cli_main writes after generating: check first
            check_output_dir(args.out)
        return int(run(args) or 0)
    except (ValueError, TypeError, OutputError) as exc:
        print(f"symcoll: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:  # an I/O failure during the run (disk full, file removed, ...)
        where = f": {exc.filename}" if exc.filename else ""
        print(f"symcoll: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as exc:
        return _interrupted(getattr(exc, "detail", None))
    except ImportError:
        # a Ctrl-C that lands inside a C extension's initialisation surfaces as ImportError
        if _SIGINT_SEEN:
            return _interrupted(None)
        raise


def run():
    """Process entry point (console script ``symcoll`` and ``python -m symcoll``): exit with main's status.

    After an interrupt the process leaves with ``os._exit(130)`` once the streams are flushed:
    a KeyboardInterrupt that passed through code run by a C extension marks the interpreter,
    which would otherwise end itself with SIGINT (status -2) after the clean one-line exit.
    """
    rc = main()
    if rc == 130:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(130)
    sys.exit(rc)


_SIGINT_SEEN = []


def _on_sigint(signum, frame):
    """SIGINT handler of the command line: remember it, then act as Python's default (KeyboardInterrupt)."""
    _SIGINT_SEEN.append(signum)
    raise KeyboardInterrupt


def _interrupted(detail) -> int:
    """One line on stderr, exit status 130; later Ctrl-C's no longer interrupt the exit."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    print("symcoll: interrupted" + (f"; {detail}" if detail else ""), file=sys.stderr)
    return 130


if __name__ == "__main__":  # pragma: no cover
    run()
