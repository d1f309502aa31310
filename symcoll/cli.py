"""The ``symcoll`` command line (also ``python -m symcoll``).

Commands (each implemented in its own module, imported lazily so that
``symcoll --help`` is instant):

* ``paper``   -- reproduce the paper's numerical section (Sec. VI E, Figs. 2-4);
* ``verify``  -- run every derivation script, one PASS/FAIL line per checked equation;
* ``kernels`` -- write the lambdified kernels as an importable module;
* ``evolve``  -- one run of the Lindblad equation (71) from the command line.
"""
from __future__ import annotations

import argparse
import sys

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
        "symbolic derivations, kernels, collision maps and dynamics with error bounds.",
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


def main(argv=None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 2
    if args.command == "verify":
        from .verify import main as run
    elif args.command == "kernels":
        from .kernels import cli_main as run
    elif args.command == "paper":
        from .paper import main as run
    elif args.command == "evolve":
        from .paper import evolve_main as run
    else:  # pragma: no cover - argparse rejects unknown commands
        parser.error(f"unknown command {args.command}")
    try:
        return int(run(args) or 0)
    except (ValueError, TypeError) as exc:
        print(f"symcoll {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
