"""Minimal local stand-in for ``symcoll.derive.print_derivation`` (issue 13); the lead removes it on merge.

Prints the steps and, per check, the derived form, the printed form, their difference (pretty or LaTeX)
and the verdict computed by the Check; returns 1 only if a check FAILs.
"""
import sys

import sympy as sp


def print_derivation(name_or_derivation, argv=None):
    from symcoll.derive import registry

    argv = sys.argv[1:] if argv is None else argv
    latex = "--latex" in argv
    d = name_or_derivation
    if isinstance(d, str):
        d = registry()[d]()
    show = sp.latex if latex else (lambda e: sp.pretty(e, use_unicode=False))
    print(f"== {d.name}: {d.title}")
    for i, s in enumerate(d.steps, 1):
        print(f"  step {i}: {s}")
    for c in d.checks:
        print(f"\n  {c.equation}: {c.statement} [{c.method}]")
        for label, val in (("derived", c.derived), ("printed", c.printed), ("correction", c.correction),
                           ("difference", c.residual)):
            if val is not None:
                print(f"    {label}:\n" + "\n".join("      " + ln for ln in str(show(val)).splitlines()))
        if c.convention:
            print(f"    convention: {c.convention}")
        print(f"    verdict: {c.verdict}")
    return 1 if any(c.verdict == "FAIL" for c in d.checks) else 0
