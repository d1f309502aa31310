"""The ``symcoll`` command line (also ``python -m symcoll``).

Commands (each implemented in its own module, imported lazily so that
``symcoll --help`` is instant):

* ``paper``   -- reproduce the paper's numerical section (Sec. VI E, Figs. 2-4);
* ``verify``  -- run every derivation script, one PASS/FAIL line per checked equation;
* ``kernels`` -- write the lambdified kernels as an importable module;
* ``evolve``  -- one run of the Lindblad equation (71) from the command line.

Every option is checked before any computation.  Exit status: 0 on success (``paper``
writes its report whatever the verdicts of the claims; ``verify`` returns 1 if a check
fails), 2 for a bad option or an unusable output location (one line on stderr,
``symcoll: error: ...``, naming the flag or the path), 1 for an I/O error during the run,
130 on Ctrl-C (one line, ``symcoll: interrupted; ...``, saying what became of ``--out``).
"""
from __future__ import annotations

import argparse
import os
import signal
import sys
import threading

from ._version import __version__


def _positive_int(text):
    v = int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer (got {text})")
    return v


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="symcoll",
        description="Collisional reservoirs of qubit chains (Tabanera-Bravo et al.): "
        "symbolic derivations, kernels, collision maps and dynamics with error budgets (bounds and estimates).",
    )
    p.add_argument("--version", action="version", version=f"symcoll {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")

    pp = sub.add_parser(
        "paper",
        help="reproduce Sec. VI E (Figs. 2-4) with data, figures and a checked-claims report",
        description="Reproduce the paper's numerical section with its parameters embedded as defaults.",
    )
    pp.add_argument("--out", default="symcoll-paper", help="output directory (default ./symcoll-paper/)")
    pp.add_argument("--ladder", choices=["paper", "unit"], default="paper", help="ladder convention")
    pp.add_argument("--dps", type=int, default=None, help="mpmath digits for the validation runs")
    pp.add_argument("--quick", action="store_true", help="small grid for smoke tests")

    pv = sub.add_parser(
        "verify",
        help="run every derivation; one PASS/FAIL line per checked equation",
        description="Run every derivation script in symcoll's derivation registry.",
    )
    pv.add_argument("-v", "--verbose", action="store_true", help="print each derivation's steps")
    pv.add_argument("--only", default=None, help="run only derivations whose name contains this text")

    pk = sub.add_parser(
        "kernels",
        help="write the lambdified numpy/mpmath kernels as an importable module",
        description="Generate the kernels from the symbolic forms and write them to DIR.",
    )
    pk.add_argument("--out", required=True, help="output directory")
    pk.add_argument("--N", type=_positive_int, default=None, help="largest chain size (default: 1..4)")

    pe = sub.add_parser(
        "evolve",
        help="one run of the Lindblad equation (71) for a chain",
        description="Evolve |0...0><0...0| under Eq. (71) and print the observables.",
    )
    pe.add_argument("--N", type=_positive_int, default=3)
    pe.add_argument("--h", type=float, default=4.0)
    pe.add_argument("--eps", type=float, default=0.1)
    pe.add_argument("--beta", type=float, default=0.1)
    pe.add_argument("--m", type=float, default=0.1)
    pe.add_argument("--g", type=float, default=50.0)
    pe.add_argument("--sigma-p", dest="sigma_p", type=float, default=0.5)
    pe.add_argument("--Gamma", type=float, default=1.0)
    pe.add_argument("--map", dest="kind", choices=["exact", "global", "local"], default="exact")
    pe.add_argument("--ladder", choices=["paper", "unit"], default="paper")
    pe.add_argument("--times", default="1e-2:1e5:50", help="'t1,t2,...' or 'start:stop:count' (log-spaced)")
    pe.add_argument("--dps", type=int, default=None)
    pe.add_argument("--json", action="store_true", help="print JSON instead of a table")
    return p


def _command(name):
    """The function that runs command ``name`` (imported lazily)."""
    if name == "verify":
        from .verify import main as run
    elif name == "kernels":
        from .kernels import cli_main as run
    elif name == "paper":
        from .paper import main as run
    elif name == "evolve":
        from .paper import evolve_main as run
    else:  # pragma: no cover - argparse rejects unknown commands
        raise ValueError(f"unknown command {name}")
    return run


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
