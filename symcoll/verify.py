"""``symcoll verify``: run every registered derivation, one PASS/FAIL line per checked equation.

The derivations cover Eqs. (30), (35), (38)-(43), (47), (50)-(68) and Appendix C (C1)-(C39);
see README_derivations.md for the map equation -> script -> result.
"""
from __future__ import annotations

import sys

from .derive import registry


def main(args=None) -> int:
    verbose = bool(getattr(args, "verbose", False))
    only = getattr(args, "only", None)
    reg = registry()
    names = [n for n in reg if only is None or only in n]
    if not names:
        print(f"no derivation matches {only!r}; known: {sorted(reg)}", file=sys.stderr)
        return 2
    from .derive import VERDICTS

    counts = dict.fromkeys(VERDICTS, 0)
    n_fail = n_checks = 0
    for name in names:
        try:
            d = reg[name]()
        except Exception as exc:  # a crashing derivation is a FAIL, reported with its cause
            print(f"FAIL  {name}: derivation raised {type(exc).__name__}: {exc}")
            n_fail += 1
            continue
        print(f"-- {d.name}: {d.title} ({d.seconds:.1f} s)")
        if verbose:
            for s in d.steps:
                print(f"     . {s}")
        for c in d.checks:
            print("   " + c.line())
            n_checks += 1
            counts[c.verdict] += 1
            n_fail += not c.passed
        if not d.checks:
            print(f"FAIL  {name}: no checks recorded")
            n_fail += 1
    print("verdicts: " + ", ".join(f"{n} {v}" for v, n in counts.items()))
    print(f"{n_checks - n_fail if n_fail <= n_checks else 0} passed, {n_fail} failed")
    return 1 if n_fail else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
