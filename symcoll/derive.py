"""The derivation protocol shared by ``symcoll verify`` and the scripts in ``derivations/``.

A derivation is a function decorated with :func:`derivation`; it receives a
:class:`Derivation` record, appends human-readable ``steps`` and machine-checked
:class:`Check` results (one per equation of the paper it checks), and returns it.
The derivation logic lives in the package (so an installed symcoll can verify
itself); ``derivations/<name>.py`` are thin runners around :func:`run_script`.
"""
from __future__ import annotations

import importlib
import sys
import time
from dataclasses import dataclass, field

# Modules that register derivations (imported by ``symcoll verify``).  Add yours here.
DERIVATION_MODULES = [
    "symcoll.symbolic.chain",
    "symcoll.symbolic.scattering",
    "symcoll.symbolic.balance",
    "symcoll.symbolic.sumrules",
    "symcoll.symbolic.coherence",
]

_REGISTRY: dict = {}


@dataclass
class Check:
    """One checked statement.

    Attributes
    ----------
    equation : str
        The paper's equation label, e.g. ``"(C4)"`` or ``"(42)-(43)"``.
    statement : str
        What is checked, in words.
    passed : bool
    residual : float, str or None
        The residual (0 for an exact symbolic identity), printed.
    method : str
        ``"symbolic"`` or e.g. ``"numeric, 30 digits"``.
    """

    equation: str
    statement: str
    passed: bool
    residual: object = None
    method: str = "symbolic"

    def line(self) -> str:
        res = "" if self.residual is None else f"  residual={_fmt(self.residual)}"
        return f"{'PASS' if self.passed else 'FAIL'}  {self.equation:<12} {self.statement} [{self.method}]{res}"


def _fmt(r):
    try:
        return f"{float(r):.3e}"
    except (TypeError, ValueError):
        return str(r)


@dataclass
class Derivation:
    """Result of one derivation: its steps and checks."""

    name: str
    equations: list
    title: str = ""
    steps: list = field(default_factory=list)
    checks: list = field(default_factory=list)
    seconds: float = 0.0

    def step(self, text: str):
        self.steps.append(str(text))

    def check(self, equation, statement, passed, residual=None, method="symbolic"):
        c = Check(equation, statement, bool(passed), residual, method)
        self.checks.append(c)
        return c

    @property
    def passed(self) -> bool:
        return bool(self.checks) and all(c.passed for c in self.checks)


def derivation(name: str, equations, title: str = ""):
    """Register ``func(d: Derivation) -> Derivation`` under ``name``."""

    def deco(func):
        def run():
            d = Derivation(name, list(equations), title or (func.__doc__ or "").strip().split("\n")[0])
            t0 = time.perf_counter()
            out = func(d)
            d = out if isinstance(out, Derivation) else d
            d.seconds = time.perf_counter() - t0
            return d

        run.__name__ = func.__name__
        run.__doc__ = func.__doc__
        _REGISTRY[name] = run
        return run

    return deco


def registry() -> dict:
    """All registered derivations (imports :data:`DERIVATION_MODULES`)."""
    for mod in DERIVATION_MODULES:
        importlib.import_module(mod)
    return dict(_REGISTRY)


def run_script(name: str, verbose: bool = True) -> int:
    """Run one derivation as a script: print its steps and checks, return the exit status."""
    reg = registry()
    if name not in reg:
        print(f"unknown derivation {name!r}; known: {sorted(reg)}", file=sys.stderr)
        return 2
    d = reg[name]()
    print(f"== {d.name}: {d.title}  (equations {', '.join(d.equations)})")
    if verbose:
        for i, s in enumerate(d.steps, 1):
            print(f"  step {i}: {s}")
    for c in d.checks:
        print("  " + c.line())
    print(f"== {'PASS' if d.passed else 'FAIL'} {d.name} ({len(d.checks)} checks, {d.seconds:.2f} s)")
    return 0 if d.passed else 1
