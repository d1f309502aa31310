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
    "symcoll.symbolic.appendices",
]

_REGISTRY: dict = {}


#: The verdicts of a check, each with one meaning (issue 13).
VERDICTS = ("AGREES", "MISPRINT", "DIFFERS-BY-CONVENTION", "FAIL")
VERDICT_MEANING = {
    "AGREES": "the derived form equals the printed one (the residual is shown)",
    "MISPRINT": "the printed form is wrong; the correction is shown and checked equal to the derived form",
    "DIFFERS-BY-CONVENTION": "derived and printed forms differ only by a stated convention (e.g. ladder "
                             "normalisation); the conversion is shown and checked",
    "FAIL": "the derivation does not reproduce a correct result: a bug in symcoll",
}


@dataclass
class Check:
    """One checked statement and its verdict (:data:`VERDICTS`), computed by a comparison, never typed.

    Attributes
    ----------
    equation : str
        The paper's equation label, e.g. ``"(C4)"`` or ``"(42)-(43)"``.
    statement : str
        What is checked, in words.
    verdict : str
        One of :data:`VERDICTS`, set by :meth:`Derivation.compare` / :meth:`Derivation.check` only.
    derived, printed, correction : SymPy expressions (or matrices) or None
        symcoll's derived form, the paper's printed form, and (MISPRINT) the corrected printed form.
    residual : object
        ``simplify(derived - printed)`` (0 for AGREES), or the numeric residual of a numeric check.
    method : str
        ``"symbolic"`` or e.g. ``"numeric, 30 digits"``.
    convention : str
        For DIFFERS-BY-CONVENTION: the convention that maps the printed form onto the derived one.
    """

    equation: str
    statement: str
    verdict: str
    residual: object = None
    method: str = "symbolic"
    derived: object = None
    printed: object = None
    correction: object = None
    convention: str = ""

    def __post_init__(self):
        if self.verdict not in VERDICTS:
            raise ValueError(f"verdict must be one of {VERDICTS} (got {self.verdict!r})")

    @property
    def passed(self) -> bool:
        """True unless the verdict is FAIL (a misprint in the paper is not a failure of symcoll)."""
        return self.verdict != "FAIL"

    def line(self) -> str:
        res = "" if self.residual is None else f"  residual={_fmt(self.residual)}"
        return f"{self.verdict:<21} {self.equation:<12} {self.statement} [{self.method}]{res}"


def _fmt(r):
    try:
        return f"{float(r):.3e}"
    except (TypeError, ValueError):
        return str(r)


def _is_zero(expr, simplify):
    """``(zero?, simplified residual)`` for a SymPy expression or matrix (or a number)."""
    import sympy

    if isinstance(expr, (int, float, complex)):
        return expr == 0, expr
    if hasattr(expr, "applyfunc"):  # matrix
        r = expr.applyfunc(simplify)
        return all(x == 0 for x in r), r
    r = simplify(expr)
    return r == 0 or (r.is_zero is True), r


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
        """A statement with no printed form to compare (an identity symcoll derives): AGREES or FAIL."""
        c = Check(equation, statement, "AGREES" if bool(passed) else "FAIL", residual, method)
        self.checks.append(c)
        return c

    def compare(self, equation, statement, derived, printed, *, correction=None, convention=None, to_convention=None,
                method="symbolic", simplify=None, tol=None):
        """Compare symcoll's ``derived`` form with the paper's ``printed`` form and record the verdict.

        * ``simplify(derived - printed) == 0`` -> AGREES;
        * else, with ``convention`` (a description) and ``to_convention`` (a function mapping the printed
          form into symcoll's convention): ``simplify(derived - to_convention(printed)) == 0`` ->
          DIFFERS-BY-CONVENTION;
        * else, with ``correction`` (the corrected printed form): ``simplify(derived - correction) == 0`` ->
          MISPRINT;
        * else FAIL.

        ``tol``: a numeric comparison instead (``|residual| <= tol`` counts as zero; say so in ``method``).
        ``simplify`` defaults to ``sympy.simplify``.
        """
        import sympy

        simp = simplify or sympy.simplify
        if tol is not None:
            def zero(x):
                import mpmath

                val = x.evalf(30) if hasattr(x, "evalf") else x
                vals = list(val) if hasattr(val, "tolist") or hasattr(val, "shape") else [val]
                return max((abs(complex(v)) for v in vals), default=0.0) <= tol, val
        else:
            def zero(x):
                return _is_zero(x, simp)

        ok, res = zero(derived - printed)
        verdict, conv = ("AGREES", "") if ok else (None, "")
        if verdict is None and to_convention is not None:
            ok2, _ = zero(derived - to_convention(printed))
            if ok2:
                verdict, conv = "DIFFERS-BY-CONVENTION", convention or "a convention"
        if verdict is None and correction is not None:
            ok3, _ = zero(derived - correction)
            if ok3:
                verdict = "MISPRINT"
        if verdict is None:
            verdict = "FAIL"
        c = Check(equation, statement, verdict, res, method, derived, printed, correction, conv)
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
    counts = {v: sum(c.verdict == v for c in d.checks) for v in VERDICTS}
    print(f"== {d.name}: " + ", ".join(f"{n} {v}" for v, n in counts.items() if n)
          + f" ({len(d.checks)} checks, {d.seconds:.2f} s)")
    return 0 if d.passed else 1
