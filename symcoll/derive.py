"""The derivation protocol shared by ``symcoll verify`` and the scripts in ``derivations/``.

A derivation is a function decorated with :func:`derivation`; it receives a
:class:`Derivation` record, appends human-readable ``steps`` and machine-checked
:class:`Check` results (one per equation of the paper it checks), and returns it.
The derivation logic lives in the package (so an installed symcoll can verify
itself); ``derivations/<name>.py`` are worked examples that print it with
:func:`print_derivation` (derived form, printed form, their simplified difference and the
computed verdict for every check).  :func:`run_derivation` runs one derivation by name (a crash
or an empty derivation becomes a FAIL check); ``symcoll verify`` (:mod:`symcoll.verify`) runs them all.
"""
from __future__ import annotations

import importlib
import os
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
    "symcoll.symbolic.energy",
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
        run.equations = list(equations)  # declared (what the derivation claims); coverage uses the Checks
        run.title = title or (func.__doc__ or "").strip().split("\n")[0]
        _REGISTRY[name] = run
        return run

    return deco


def registry() -> dict:
    """All registered derivations (imports :data:`DERIVATION_MODULES`)."""
    for mod in DERIVATION_MODULES:
        importlib.import_module(mod)
    return dict(_REGISTRY)


# ----------------------------------------------------------------------------- running and printing
def run_derivation(name: str) -> Derivation:
    """Run the registered derivation ``name`` and return its finished :class:`Derivation`.

    Never raises for a failing derivation: an exception inside it becomes one FAIL :class:`Check`
    (equation ``"(derivation)"``, the exception in the statement), and a derivation that records no
    check gets one FAIL check saying so -- both verdicts are computed by :meth:`Derivation.check`
    from what happened, not typed.  An unknown ``name`` is a ValueError listing the known names.
    """
    reg = registry()
    if name not in reg:
        raise ValueError(f"unknown derivation {name!r}; known derivations: {', '.join(reg)}")
    run = reg[name]
    t0 = time.perf_counter()
    try:
        d = run()
    except Exception as exc:  # a crashing derivation is a FAIL (a bug in symcoll), reported with its cause
        d = Derivation(name, list(getattr(run, "equations", [])), getattr(run, "title", ""))
        d.seconds = time.perf_counter() - t0
        d.check("(derivation)", f"the derivation ran to completion (it raised {type(exc).__name__}: {exc})",
                False, method="exception")
        return d
    if not d.checks:
        d.check("(derivation)", "the derivation recorded at least one check (it recorded none)", False,
                method="protocol")
    return d


def verdict_counts(checks) -> dict:
    """``{verdict: count}`` over ``checks``, in the order of :data:`VERDICTS` (zeros included)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for c in checks:
        counts[c.verdict] += 1
    return counts


def format_counts(counts) -> str:
    """``'12 AGREES, 1 MISPRINT, 0 DIFFERS-BY-CONVENTION, 0 FAIL'``."""
    return ", ".join(f"{n} {v}" for v, n in counts.items())


@dataclass
class Rendered:
    """A form already rendered as text (plain/pretty and LaTeX): what a worker process sends back when a
    SymPy/mpmath object cannot be pickled (see :func:`portable`)."""

    text: str
    latex: str

    def __str__(self):
        return self.text


def _number(x):
    """A Python/NumPy/mpmath real or complex number as a SymPy number (exact value kept), else None."""
    import numbers

    import sympy

    if isinstance(x, bool):
        return None
    if isinstance(x, numbers.Number) and not isinstance(x, sympy.Basic):
        if isinstance(x, numbers.Integral):
            return sympy.Integer(int(x))
        if isinstance(x, numbers.Real):
            return sympy.Float(float(x))
        z = complex(x)
        return sympy.Float(z.real) + sympy.I * sympy.Float(z.imag)
    mod = type(x).__module__ or ""
    if mod.startswith("mpmath"):
        import mpmath

        re_ = sympy.Float(mpmath.nstr(x.real, 20), 20)
        if getattr(x, "imag", 0) != 0:
            return re_ + sympy.I * sympy.Float(mpmath.nstr(x.imag, 20), 20)
        return re_
    if mod.startswith("numpy") and getattr(x, "shape", None) == ():
        return _number(x.item())
    return None


MAX_SHOWN_ENTRIES = 64
"""Matrices with more entries are summarised (shape, nonzero count) by :func:`format_form`."""


def format_form(obj, latex: bool = False, unicode: bool = False) -> str:
    """``obj`` (a SymPy expression or matrix, a number, a string, a :class:`Rendered`) as text.

    ``latex=False``: ``sympy.pretty`` (ASCII unless ``unicode``); ``latex=True``: ``sympy.latex``.
    Floats (numeric residuals) are shown with 4 significant digits.
    """
    import sympy

    if obj is None:
        return ""
    if isinstance(obj, Rendered):
        return obj.latex if latex else obj.text
    if isinstance(obj, str):
        return obj if not latex else r"\text{" + obj.replace("_", r"\_").replace("^", r"\^{}") + "}"
    num = _number(obj)
    if num is not None:
        obj = num
    if hasattr(obj, "shape") and len(getattr(obj, "shape", ())) == 2 and obj.shape[0] * obj.shape[1] > MAX_SHOWN_ENTRIES:
        # a large matrix (e.g. all 4096 entries of an N = 3 tensor) is summarised, not pretty-printed
        nz = sum(1 for x in obj if x != 0)
        what = f"{obj.shape[0]} x {obj.shape[1]} matrix, {nz} nonzero entries"
        return r"\text{" + what + "}" if latex else f"<{what}; shown in full only up to {MAX_SHOWN_ENTRIES} entries>"
    if isinstance(obj, sympy.Basic):
        obj = obj.xreplace({f: sympy.Float(f, 4) for f in obj.atoms(sympy.Float)})
    elif hasattr(obj, "applyfunc"):
        obj = obj.applyfunc(lambda e: e.xreplace({f: sympy.Float(f, 4) for f in e.atoms(sympy.Float)}))
    try:
        return sympy.latex(obj) if latex else sympy.pretty(obj, use_unicode=unicode)
    except Exception:  # an object SymPy cannot print: its str
        return str(obj)


_FORM_FIELDS = ("residual", "derived", "printed", "correction")


def portable(d: Derivation) -> Derivation:
    """``d`` with every form picklable (for worker processes): mpmath/NumPy numbers become SymPy numbers;
    a form that still cannot be pickled is replaced by its :class:`Rendered` text and LaTeX."""
    import pickle

    for c in d.checks:
        for f in _FORM_FIELDS:
            v = getattr(c, f)
            num = _number(v)
            if num is not None:
                v = num
            try:
                pickle.dumps(v)
            except Exception:
                v = Rendered(format_form(v), format_form(v, latex=True))
            setattr(c, f, v)
    return d


def _indent(text, prefix="        "):
    return "\n".join(prefix + line for line in str(text).splitlines())


def print_derivation(name_or_derivation, argv=None, file=None) -> int:
    """Print a derivation as a worked example and return its exit status (1 only if a check FAILed).

    Parameters
    ----------
    name_or_derivation : str or Derivation
        A registered derivation's name (it is run, see :func:`run_derivation`) or a finished
        :class:`Derivation`.
    argv : list of str, optional
        Options, as for a script: ``--latex`` (forms in LaTeX instead of ``sympy.pretty``),
        ``--unicode`` (pretty printing with Unicode; default ASCII for plain terminals),
        ``--no-steps`` (omit the steps).  Default ``sys.argv[1:]``.
    file : file object, optional
        Where to print (default ``sys.stdout``).

    Printed: the title and equations, the steps, then for every :class:`Check` its equation and
    statement, the derived form, the printed form, the correction (MISPRINT) or the convention
    (DIFFERS-BY-CONVENTION), the simplified difference (residual), the method, and the line
    ``verdict: <VERDICT>`` (the Check's own verdict, never another string); finally the count per verdict.

    Returns
    -------
    int
        1 if a check's verdict is FAIL, else 0 (MISPRINT and DIFFERS-BY-CONVENTION are not failures
        of symcoll); 2 for an unknown derivation name (the known names are printed on stderr).
    """
    import argparse

    out = file or sys.stdout
    p = argparse.ArgumentParser(prog=os.path.basename(sys.argv[0]) if argv is None else "derivation",
                                description="Run and print a symcoll derivation (derived vs printed forms).")
    p.add_argument("--latex", action="store_true", help="print the forms in LaTeX (default: sympy.pretty)")
    p.add_argument("--unicode", action="store_true", help="pretty printing with Unicode (default: ASCII)")
    p.add_argument("--no-steps", dest="steps", action="store_false", help="do not print the steps")
    opts = p.parse_args(sys.argv[1:] if argv is None else list(argv))
    if isinstance(name_or_derivation, Derivation):
        d = name_or_derivation
    else:
        try:
            d = run_derivation(str(name_or_derivation))
        except ValueError as exc:
            print(f"symcoll: error: {exc}", file=sys.stderr)
            return 2

    def form(label, obj):
        if obj is None:
            return
        text = format_form(obj, latex=opts.latex, unicode=opts.unicode)
        if "\n" in text or len(text) > 60:
            print(f"    {label}:", file=out)
            print(_indent(text), file=out)
        else:
            print(f"    {label}: {text}", file=out)

    print(f"== {d.name}: {d.title}", file=out)
    if d.equations:
        print(f"   paper equations: {', '.join(d.equations)}", file=out)
    if opts.steps:
        for i, s in enumerate(d.steps, 1):
            print(f"   step {i}: {s}", file=out)
    for i, c in enumerate(d.checks, 1):
        print(f"-- check {i}/{len(d.checks)}  {c.equation}: {c.statement}", file=out)
        form("derived", c.derived)
        form("printed", c.printed)
        if c.correction is not None:
            form("correction (the printed form corrected)", c.correction)
        if c.convention:
            print(f"    convention: {c.convention}", file=out)
        form("difference (simplified derived - printed)" if c.printed is not None else "residual", c.residual)
        print(f"    method: {c.method}", file=out)
        print(f"    verdict: {c.verdict}", file=out)
    counts = verdict_counts(d.checks)
    print(f"== {d.name}: {format_counts(counts)} ({len(d.checks)} checks, {d.seconds:.2f} s)", file=out)
    return 1 if counts["FAIL"] else 0


def run_script(name: str, argv=None) -> int:
    """Alias of :func:`print_derivation` kept for old scripts (``sys.exit(run_script(name))``)."""
    return print_derivation(name, argv)
