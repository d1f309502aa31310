"""Lambdified kernels: the derived closed forms as numpy, mpmath and Arb-ball (python-flint) functions.

The symbolic forms of :mod:`symcoll.symbolic.scattering` are printed to Python
source through ONE backend table (:data:`BACKENDS`: name -> printer, imports,
helpers, array semantics), with optional common-subexpression elimination
(``cse=True``), and compiled.  The generated source is readable: it is stored in
the kernel's ``__doc__``/``source`` and in a cache file, keyed by a SHA-256 of
everything that changes it (expression ``srepr``, argument order, backend,
precision, cse flag, symcoll, SymPy, generator and cache-format versions).  The
cache directory is ``$SYMCOLL_CACHE/kernels`` or ``./.symcoll-cache/kernels``.

The cache is checked, not trusted: each file starts with a header (format line,
the key, the SHA-256 of the body) and is executed only if the header matches the
expected key and the body matches its hash.  Garbage, empty, truncated, non-UTF-8
or modified files and another kernel's entry are moved aside to ``*.rejected`` and
rebuilt with a :class:`~symcoll.errors.KernelCacheWarning`.  (This guards against
corruption and stale or mixed-up entries; it is not a defence against someone who
can write the cache directory, which is as trusted as the installed code.)  Entries
are written atomically (temporary file + ``os.replace``), and each kernel is
compiled once per process (in-process memo; :func:`clear_memo` forgets it).

Kernels (all with ``hbar`` as an explicit argument; the rest of symcoll uses ``hbar = 1``):

====================  ============================  ===================================================
name                  arguments                     value
====================  ============================  ===================================================
``s_plus_1q``         ``E, h, m, g, hbar``          one-qubit ``s^(+)(E)`` (C4)-(C8), order (|0>,|1>)
``s_minus_1q``        ``E, h, m, g, hbar``          one-qubit ``s^(-)(E)`` (C5), (C7)
``s_plus_chain{N}``   ``E, h, m, g, hbar``          N-qubit eps = 0 ``s^(+)(E)`` (C24)-(C28), local basis
``s_minus_chain{N}``  ``E, h, m, g, hbar``          N-qubit eps = 0 ``s^(-)(E)`` (C2)
``c_plus_p``          ``p, h, m, g, hbar``          ``c_+(p)`` of (C32)
``c_minus_p``         ``p, h, m, g, hbar``          ``c_-(p)`` of (C32) (imaginary ``c^2`` below threshold)
``mu_eff``            ``p, beta, m``                effusion distribution (40)
====================  ============================  ===================================================

s-matrix kernels return arrays of shape ``E.shape + (d, d)``; entries whose
channels are closed (``E < eps_j``) are exactly 0.  Closed channels inside the
formulas use the evanescent branch ``+i sqrt(|x|)`` (a helper ``_csqrt`` built from
the real part, so numpy's ``sqrt(-4-0j) = -2j`` cannot flip it).  numpy kernels are
vectorised and complex128; mpmath kernels loop over the array and return numpy object
arrays of ``mpc`` numbers at ``dps`` digits, using a private mpmath context (the
global ``mpmath.mp`` is never touched) and printing rationals exactly.

Accuracy (estimate, checked by ``tests/test_kernels.py`` against a literal matrix
inversion of (C1)): float64 kernels agree with it to a few units of 1e-16 absolute
(|s| <= 1 on open channels); mpmath kernels at ``dps`` digits to about ``10**(-dps)``
(measured 2e-52 at 50 digits).  Exactly at a threshold (``E = eps_j``) the
threshold-safe form ``K^{1/2}(K + i lam V)^{-1} K^{1/2}`` stays finite.

Arb target (``backend="arb"``, the certified path of issue 12): the same expressions printed
for python-flint balls.  ``chain_kernel(N, alpha, backend="arb")(E, h, m, g, hbar, prec=None)``
takes ints, floats (their exact binary value), Fractions, fmpq, mpmath numbers, decimal
strings or ``arb``/``acb`` balls, and returns numpy object arrays of ``acb`` balls that
contain the exact value of the closed form at every point of the input balls (at
``prec`` bits, default the current ``flint.ctx.prec``).  Why the enclosure is rigorous: every
operation of the generated source is an Arb ball operation (``+ - * /``, integer powers,
``acb.sqrt``/``rsqrt``/``exp``/``pi``, each enclosing its exact result); rationals are the
exact ``fmpq`` converted to a ball, Floats their exact binary value, ``I`` the exact ball
``i``; nothing goes through float or mpmath (the printer refuses functions it has no ball
version of).  Branches: ``csqrt`` (closed channels, ``K = +i sqrt(|X|)``, DESIGN.md "Branch
pitfall") is decided on the sign of the real ball ``X`` and, when the sign is not decided or
``X`` is complex, evaluated as ``exp(i pi/4) sqrt(-i X)``, which equals the convention at every
real point (so the enclosure still holds) and continues it analytically off the real axis
(cut on the negative imaginary ``X`` axis); the ``sqrt(k)`` flux factors of a closed channel take
the principal root of ``i kappa`` (argument pi/4, far from the cut).  The open-channel masks
``E >= eps_j`` (and ``p > 0`` in (40)) are decided on the real part of the ball and raise
ValueError when the ball contains the threshold.  Only ``E`` (and the ``p`` of ``mu_eff``) may
be complex; ``h, m, hbar, beta`` must be real balls certainly > 0 and ``g`` certainly nonzero.

``symcoll kernels --out DIR [--N NMAX] [--target LIST]`` writes the kernels as modules:
``DIR/symcoll_kernels.py`` (numpy and mpmath targets; imports only numpy and mpmath) and,
with ``--target`` including ``arb``, ``DIR/symcoll_kernels_arb.py`` (imports only python-flint
and numpy).  The on-disk cache keeps each target apart: the backend is part of every cache
key and file name (``<name>-arb-<key>.py``) and arb entries are checked like the others.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

from ._version import __version__
from . import kernel_cache
from .kernel_cache import CACHE_FORMAT, CACHE_MAGIC, cache_dir  # noqa: F401 (public names of this module)

GENERATOR_VERSION = "2"  # 2: arb target; module header names the imports of its targets
"""Version of the source generator below; part of every cache key (with CACHE_FORMAT)."""
DEFAULT_MP_DPS = 50
MODULE_NAME = "symcoll_kernels"

# ----------------------------------------------------------------------------- helper source
NUMPY_HELPERS = '''
def _np_csqrt(x):
    """sqrt(x) for x >= 0, +1j*sqrt(-x) for x < 0 (evanescent branch), from the real part of x."""
    x = numpy.real(x)
    a = numpy.sqrt(numpy.abs(x))
    return numpy.where(x >= 0, a + 0j, 1j * a)


def _np_args(names, values, positive, nonzero):
    out = []
    for name, v in zip(names, values):
        try:
            a = numpy.asarray(v, dtype=float)
        except (TypeError, ValueError) as exc:
            raise TypeError(f"{name} must be real number(s) (got {type(v).__name__})") from exc
        if not numpy.all(numpy.isfinite(a)):
            raise ValueError(f"{name} must be finite real number(s)")
        if name in positive and numpy.any(a <= 0):
            raise ValueError(f"{name} must be > 0, allowed range (0, inf)")
        if name in nonzero and numpy.any(a == 0):
            raise ValueError(f"{name} must be nonzero")
        out.append(a)
    return out
'''

MPMATH_HELPERS = '''
_MP_CONTEXTS = {}


def _mp_context(dps):
    """Private mpmath context at dps digits (the global mpmath.mp is never changed)."""
    if isinstance(dps, bool) or not isinstance(dps, int) or dps < 15:
        raise ValueError(f"dps must be an integer >= 15 (got {dps!r})")
    ctx = _MP_CONTEXTS.get(dps)
    if ctx is None:
        ctx = mpmath.MPContext()
        ctx.dps = dps
        _MP_CONTEXTS[dps] = ctx
    return ctx


def _mp_csqrt(_mp, x):
    """sqrt(x) for x >= 0, +i sqrt(-x) for x < 0 (evanescent branch), from the real part of x."""
    x = _mp.re(x)
    return _mp.mpc(_mp.sqrt(x), 0) if x >= 0 else _mp.mpc(0, _mp.sqrt(-x))


def _mp_num(_mp, name, v, positive, nonzero):
    if isinstance(v, str):
        x = _mp.mpf(v)
    elif isinstance(v, (int,)):
        x = _mp.mpf(v)
    else:
        x = _mp.mpf(v) if not hasattr(v, "imag") or v.imag == 0 else None
        if x is None:
            raise ValueError(f"{name} must be real")
    if not _mp.isfinite(x):
        raise ValueError(f"{name} must be finite")
    if name in positive and not x > 0:
        raise ValueError(f"{name} must be > 0, allowed range (0, inf)")
    if name in nonzero and x == 0:
        raise ValueError(f"{name} must be nonzero")
    return x
'''


ARB_HELPERS = '''
_ARB_I = flint.acb(0, 1)
_ARB_COMPLEX_OK = ("E", "p")  # may be complex balls: E of the s-matrices, p of mu_eff (not p of c_pm)


def _arb_q(p, q):
    """The rational p/q as a complex ball (exact if p/q is dyadic and fits the precision, else rounded outward)."""
    return flint.acb(flint.fmpq(p, q))


def _arb_dyadic(sign, man, exp):
    """The binary number (-1)**sign * man * 2**exp (a SymPy Float) as a ball."""
    q = flint.fmpq(man * 2**exp) if exp >= 0 else flint.fmpq(man, 2**(-exp))
    return flint.acb(-q if sign else q)


def _arb_sqrt(x):
    """Principal square root (Arb encloses both sides of the cut if the ball x straddles it)."""
    return flint.acb(x).sqrt()


def _arb_exp(x):
    return flint.acb(x).exp()


def _arb_pi():
    return flint.acb.pi()


def _arb_csqrt(x):
    """sqrt(x) for x >= 0, +i sqrt(-x) for x < 0: the evanescent branch of K in (C1).

    Real ball of decided sign: the branch above, computed on the real line.  Otherwise (sign not
    decided, or x not real): exp(i pi/4) sqrt(-i x) with the principal root, which equals the
    convention at every real point (x >= 0: sqrt(x); x < 0: exp(i pi/4) sqrt(i |x|) = i sqrt(|x|);
    it is continuous at 0), so Arb's enclosure of it encloses csqrt on the whole ball; off the real
    axis it is the analytic continuation of the convention (cut on the negative imaginary axis).
    """
    x = flint.acb(x)
    if x.imag == 0:
        if x.real >= 0:
            return flint.acb(x.real.sqrt())
        if x.real < 0:
            return flint.acb(0, (-x.real).sqrt())
    return (-_ARB_I * x).sqrt() * (1 + _ARB_I) * flint.acb(flint.arb(2).rsqrt())


def _arb_cond(x, op, lead):
    """Decide ``Re x op 0`` (op in >=, >, <=, <) for a ball x, or raise ValueError if the ball straddles 0.

    These are the open-channel masks (E - eps_j >= 0) of the Piecewise closed forms and p > 0 of (40).
    """
    r = flint.acb(x).real
    if {">=": r >= 0, ">": r > 0, "<=": r <= 0, "<": r < 0}[op]:
        return True
    if {">=": r < 0, ">": r <= 0, "<=": r > 0, "<": r >= 0}[op]:
        return False
    raise ValueError(f"{lead} is within its ball radius of a channel threshold (or of 0): the ball {lead} - "
                     f"threshold = {r.str(5, radius=True)} contains 0, so whether the channel is open cannot "
                     f"be decided; move {lead} off the threshold, give it a smaller radius or raise the precision")


def _arb_num(name, v, positive, nonzero):
    """One argument as a complex ball, without leaving ball arithmetic.

    int, fmpz, fmpq, Fraction, SymPy Rational: exact; float and numpy floats: their binary value,
    exactly; mpmath mpf/mpc and SymPy Float: their binary value (rounded outward beyond the working
    precision); str: a ball containing the decimal; arb/acb: as given.  Only E (and the p of
    mu_eff) may be complex.
    """
    if isinstance(v, bool):
        raise TypeError(f"{name} must be a number or a flint arb/acb ball (got bool)")
    if isinstance(v, (flint.arb, flint.acb, int, flint.fmpz, flint.fmpq)):
        x = flint.acb(v)
    elif isinstance(v, numbers.Integral):
        x = flint.acb(int(v))
    elif isinstance(v, numbers.Rational):  # Fraction, SymPy Rational
        x = flint.acb(flint.fmpq(int(v.numerator), int(v.denominator)))
    elif isinstance(v, str):
        try:
            x = flint.acb(flint.arb(v))
        except Exception as exc:
            raise ValueError(f"{name} must be a number (got the string {v!r})") from exc
    elif hasattr(v, "_mpf_") or hasattr(v, "_mpc_"):
        x = flint.acb(v)
    elif isinstance(v, numbers.Real):
        x = flint.acb(float(v))
    elif isinstance(v, numbers.Complex):
        x = flint.acb(float(v.real), float(v.imag))
    else:
        raise TypeError(f"{name} must be a real number or a flint arb/acb ball (got {type(v).__name__})")
    if not x.is_finite():
        raise ValueError(f"{name} must be finite (got {x})")
    if not x.imag == 0 and not (name in _ARB_COMPLEX_OK and name not in positive):
        raise ValueError(f"{name} must be real (got {x}); only E (and the p of mu_eff) may be complex")
    if name in positive and not x.real > 0:
        raise ValueError(f"{name} must be > 0, allowed range (0, inf) (the ball {x.real} is not certainly > 0)")
    if name in nonzero and not (x.real > 0 or x.real < 0):
        raise ValueError(f"{name} must be nonzero (the ball {x.real} contains 0)")
    return x


def _arb_prec(prec):
    """Context with flint.ctx.prec = prec bits for the call (None: the current flint.ctx.prec)."""
    if prec is None:
        return contextlib.nullcontext()
    if isinstance(prec, bool) or not isinstance(prec, int) or prec < 16:
        raise ValueError(f"prec must be an integer number of bits >= 16, or None for flint.ctx.prec (got {prec!r})")
    return flint.ctx.workprec(prec)
'''


# ----------------------------------------------------------------------------- backend table
def _numpy_printer():
    from sympy.printing.numpy import NumPyPrinter

    class KernelNumPyPrinter(NumPyPrinter):
        def _print_csqrt(self, expr):
            return f"_np_csqrt({self._print(expr.args[0])})"

    return KernelNumPyPrinter({"fully_qualified_modules": True, "inline": True, "allow_unknown_functions": False})


def _mpmath_printer():
    from sympy.printing.pycode import MpmathPrinter

    class KernelMpmathPrinter(MpmathPrinter):
        def _module_format(self, fqn, register=True):
            if fqn.startswith("mpmath."):
                return "_mp." + fqn[len("mpmath."):]
            return super()._module_format(fqn, register)

        def _print_csqrt(self, expr):
            return f"_mp_csqrt(_mp, {self._print(expr.args[0])})"

        def _print_ImaginaryUnit(self, expr):
            return "_mp.mpc(0, 1)"

    return KernelMpmathPrinter({"fully_qualified_modules": True, "inline": True})


def _arb_printer():
    """Printer for python-flint balls: every operation an Arb ball operation (no float, no mpmath).

    Rationals print as exact fmpq balls (``_arb_q``), Floats as their exact binary value, ``I``
    as the exact ball ``i``; sqrt/exp/pi go through helpers that coerce to ``acb``; the relations
    of Piecewise (open-channel masks) are decided on balls (``_arb_cond``, ValueError if
    undecided).  Any other mpmath function is refused at generation time.
    """
    from sympy.printing.pycode import MpmathPrinter

    class KernelArbPrinter(MpmathPrinter):
        lead = "E"
        _FUNCS = {"mpmath.sqrt": "_arb_sqrt", "mpmath.exp": "_arb_exp", "mpmath.pi": "_arb_pi()"}

        def _module_format(self, fqn, register=True):
            if fqn in self._FUNCS:
                return self._FUNCS[fqn]
            raise NotImplementedError(f"the arb backend has no ball version of {fqn}")

        def _print_csqrt(self, expr):
            return f"_arb_csqrt({self._print(expr.args[0])})"

        def _print_ImaginaryUnit(self, expr):
            return "_ARB_I"

        def _print_Rational(self, expr):
            return f"_arb_q({int(expr.p)}, {int(expr.q)})"

        def _print_Half(self, expr):
            return self._print_Rational(expr)

        def _print_Float(self, expr):
            sign, man, exp, _ = expr._mpf_
            return f"_arb_dyadic({int(sign)}, {int(man)}, {int(exp)})"

        def _print_Relational(self, expr):
            op = expr.rel_op
            if op not in (">=", ">", "<=", "<"):
                raise NotImplementedError(f"the arb backend cannot decide the relation {op!r}")
            lhs, rhs = self._print(expr.lhs), self._print(expr.rhs)
            return f"_arb_cond(({lhs}) - ({rhs}), {op!r}, {self.lead!r})"

    return KernelArbPrinter({"fully_qualified_modules": True, "inline": True})


@dataclass(frozen=True)
class Backend:
    """One code-generation target: printer factory, imports, helper source, array semantics."""

    name: str
    printer: object
    imports: str
    helpers: str
    vectorised: bool
    precision: bool


BACKENDS = {
    "numpy": Backend("numpy", _numpy_printer, "import numpy", NUMPY_HELPERS, vectorised=True, precision=False),
    "mpmath": Backend("mpmath", _mpmath_printer, "import mpmath\nimport numpy", MPMATH_HELPERS, vectorised=False, precision=True),
    "arb": Backend("arb", _arb_printer, "import contextlib\nimport flint\nimport numbers\nimport numpy",
                   ARB_HELPERS, vectorised=False, precision=False),
}
"""Backend name -> :class:`Backend` (the one table every kernel goes through)."""


def _check_backend(backend, dps):
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {sorted(BACKENDS)} (got {backend!r})")
    b = BACKENDS[backend]
    if b.precision:
        dps = DEFAULT_MP_DPS if dps is None else dps
        if isinstance(dps, bool) or not isinstance(dps, int) or dps < 15:
            raise ValueError(f"dps must be an integer >= 15 for the mpmath backend (got {dps!r})")
    elif dps is not None:
        if backend == "arb":
            raise ValueError("dps must be None for the arb backend: its precision is flint.ctx.prec at call time, "
                             "or the kernel's prec= argument (bits)")
        raise ValueError(f"dps must be None for the {backend} backend (float64); use backend='mpmath'")
    return b, dps


_ARB_RUNTIME: dict = {}


def arb_runtime() -> dict:
    """The helpers of the arb target (``_arb_num``, ``_arb_csqrt``, ``_arb_cond``, ...) as one namespace.

    Compiled once from :data:`ARB_HELPERS`, the very source that every generated arb kernel
    carries, so that :mod:`symcoll.certified.scattering` converts inputs and picks branches with
    the same code as the arb kernels.
    """
    if not _ARB_RUNTIME:
        ns: dict = {}
        exec(compile(BACKENDS["arb"].imports + "\n" + ARB_HELPERS, "<symcoll arb runtime>", "exec"), ns)
        _ARB_RUNTIME.update(ns)
    return _ARB_RUNTIME


# ----------------------------------------------------------------------------- code generation
def _function_source(name, args, expr, backend, dps, cse, doc, positive=(), nonzero=(), real_out=False):
    """Python source of one kernel function for ``backend`` (no imports, no helpers)."""
    import sympy as sp

    b, dps = _check_backend(backend, dps)
    printer = b.printer()
    is_matrix = isinstance(expr, sp.MatrixBase)
    shape = expr.shape if is_matrix else ()
    if is_matrix:
        cells = [((i, j), expr[i, j]) for i in range(shape[0]) for j in range(shape[1]) if expr[i, j] != 0]
    else:
        cells = [((), expr)]
    exprs = [c[1] for c in cells]
    if cse:
        repl, reduced = sp.cse(exprs, symbols=sp.numbered_symbols("_x"), order="none")
    else:
        repl, reduced = [], exprs
    argn = [str(a) for a in args]
    ind = "        " if b.vectorised else "    "
    pos = tuple(str(a) for a in positive)
    nz = tuple(str(a) for a in nonzero)
    lines = []
    if backend == "arb":
        printer.lead = argn[0]
    body = [f"{ind}{lhs} = {printer.doprint(rhs)}" for lhs, rhs in repl]
    if backend == "arb":
        lines.extend(_arb_function_lines(name, argn, shape, is_matrix, cells, reduced, body, printer, doc, pos, nz))
    elif b.vectorised:
        dtype = "float" if real_out else "complex"
        lines.append(f"def {name}({', '.join(argn)}):")
        lines.append(f'    """{doc}"""')
        lines.append(f"    {', '.join(argn)}, = _np_args({argn!r}, ({', '.join(argn)},), {pos!r}, {nz!r})")
        lines.append(f"    _shape = numpy.broadcast({', '.join(argn)}).shape" if len(argn) > 1 else f"    _shape = {argn[0]}.shape")
        lines.append(f"    _out = numpy.zeros(_shape + {tuple(shape)!r}, dtype={dtype})")
        lines.append("    with numpy.errstate(all='ignore'):")
        lines.extend(body)
        for (idx, _), r in zip(cells, reduced):
            target = "_out[...]" if not is_matrix else f"_out[..., {idx[0]}, {idx[1]}]"
            lines.append(f"{ind}{target} = {printer.doprint(r)}")
        lines.append("    return _out")
    else:
        lines.append(f"def _{name}_scalar(_mp, {', '.join(argn)}):")
        lines.extend(body)
        if is_matrix:
            lines.append(f"    _out = [[_mp.mpc(0)] * {shape[1]} for _ in range({shape[0]})]")
            for (idx, _), r in zip(cells, reduced):
                lines.append(f"    _out[{idx[0]}][{idx[1]}] = _mp.mpc({printer.doprint(r)})")
            lines.append("    return _out")
        else:
            conv = "_mp.mpf" if real_out else "_mp.mpc"
            lines.append(f"    return {conv}({printer.doprint(reduced[0])})")
        lines.append("")
        lines.append("")
        lines.append(f"def {name}({', '.join(argn)}, dps={dps}):")
        lines.append(f'    """{doc}"""')
        lines.append("    _mp = _mp_context(dps)")
        lines.append(f"    _a = [numpy.asarray(v, dtype=object) for v in ({', '.join(argn)},)]")
        lines.append("    _b = numpy.broadcast(*_a)")
        lines.append(f"    _out = numpy.empty(_b.shape + {tuple(shape)!r}, dtype=object)")
        lines.append("    for _idx, _vals in zip(numpy.ndindex(*_b.shape), _b):")
        lines.append(f"        _v = [_mp_num(_mp, n, v, {pos!r}, {nz!r}) for n, v in zip({argn!r}, _vals)]")
        if is_matrix:
            lines.append(f"        _r = _{name}_scalar(_mp, *_v)")
            lines.append(f"        for _i in range({shape[0]}):")
            lines.append(f"            for _j in range({shape[1]}):")
            lines.append("                _out[_idx + (_i, _j)] = _r[_i][_j]")
        else:
            lines.append(f"        _out[_idx] = _{name}_scalar(_mp, *_v)")
        lines.append("    return _out")
    return "\n".join(lines) + "\n"


def _arb_function_lines(name, argn, shape, is_matrix, cells, reduced, body, printer, doc, pos, nz):
    """Source lines of one arb kernel: a scalar function of complex balls and a broadcasting wrapper.

    Every entry is returned as an ``acb`` ball (closed-channel entries: the exact ball 0).
    """
    lines = [f"def _{name}_scalar({', '.join(argn)}):"]
    lines.extend(body)
    if is_matrix:
        lines.append(f"    _out = [[flint.acb(0)] * {shape[1]} for _ in range({shape[0]})]")
        for (idx, _), r in zip(cells, reduced):
            lines.append(f"    _out[{idx[0]}][{idx[1]}] = flint.acb({printer.doprint(r)})")
        lines.append("    return _out")
    else:
        lines.append(f"    return flint.acb({printer.doprint(reduced[0])})")
    lines += ["", "", f"def {name}({', '.join(argn)}, prec=None):",
              f'    """{doc} Arb balls (python-flint acb) enclosing the exact value; prec: bits (None: flint.ctx.prec)."""',
              "    with _arb_prec(prec):",
              f"        _a = [numpy.asarray(v, dtype=object) for v in ({', '.join(argn)},)]",
              "        _b = numpy.broadcast(*_a)",
              f"        _out = numpy.empty(_b.shape + {tuple(shape)!r}, dtype=object)",
              "        for _idx, _vals in zip(numpy.ndindex(*_b.shape), _b):",
              f"            _v = [_arb_num(n, v, {pos!r}, {nz!r}) for n, v in zip({argn!r}, _vals)]"]
    if is_matrix:
        lines += [f"            _r = _{name}_scalar(*_v)",
                  f"            for _i in range({shape[0]}):",
                  f"                for _j in range({shape[1]}):",
                  "                    _out[_idx + (_i, _j)] = _r[_i][_j]"]
    else:
        lines.append(f"            _out[_idx] = _{name}_scalar(*_v)")
    lines.append("    return _out")
    return lines


def _module_source(functions, backends, title):
    head = [f'"""{title}', "", f"Generated by symcoll {__version__} (kernel generator {GENERATOR_VERSION}).",
            f"Imports only {_import_names(backends)}; no SymPy needed at run time.", '"""']
    imports = sorted({line for b in backends for line in BACKENDS[b].imports.split("\n")})
    parts = ["\n".join(head), "\n".join(imports)]
    for b in backends:
        parts.append(BACKENDS[b].helpers.strip("\n"))
    parts.extend(f.rstrip("\n") for f in functions)
    return "\n\n\n".join(parts) + "\n"


def _import_names(backends):
    """The third-party modules a generated module imports, in backend order ("numpy and mpmath")."""
    names = [line.split()[1] for b in backends for line in BACKENDS[b].imports.split("\n")]
    names = [{"flint": "python-flint"}.get(n, n) for n in dict.fromkeys(names) if n not in ("contextlib", "numbers")]
    if "numpy" in names:  # numpy first: it is what every target shares
        names.remove("numpy")
        names.insert(0, "numpy")
    return " and ".join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]


def cache_key(name, args, expr, backend, dps, cse, extra=()) -> str:
    """SHA-256 of everything that changes the generated source.

    The expression (``srepr``), argument order, backend, precision, cse flag, the
    symcoll, SymPy (its printers write the source), kernel-generator and cache-format
    versions, the SHA-256 of the backend's helper source and imports (so an edited helper,
    e.g. the arb branch rule, never runs from a stale entry), and ``extra`` (validation sets,
    output type, docstring).
    """
    import sympy as sp

    payload = {
        "name": name,
        "srepr": sp.srepr(expr),
        "args": [sp.srepr(a) for a in args],
        "backend": backend,
        "dps": dps,
        "cse": bool(cse),
        "symcoll": __version__,
        "sympy": sp.__version__,
        "generator": GENERATOR_VERSION,
        "cache_format": CACHE_FORMAT,
        "helpers": hashlib.sha256((b.imports + b.helpers).encode()).hexdigest() if (b := BACKENDS.get(backend)) else None,
        "extra": list(map(str, extra)),
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


@dataclass
class Kernel:
    """A compiled kernel with its source and provenance.

    Attributes
    ----------
    name, backend : str
    dps : int or None
        mpmath digits baked in as the default (``None`` for numpy).
    args : tuple of str
        Argument order.
    source : str
        The complete generated module source (also in ``func.__doc__`` and, after the
        check header, in the cache file).
    key : str
        Cache key (SHA-256, :func:`cache_key`).
    cache_path : Path or None
    cache_hit : bool
        ``True`` if the source was read from the on-disk cache (and passed its check)
        instead of being generated.  Later requests in the same process return this
        same object from the in-process memo.
    generation_seconds : float
        Time spent generating (0 on a cache hit).
    """

    name: str
    backend: str
    dps: object
    args: tuple
    source: str
    key: str
    func: object = field(repr=False)
    cache_path: object = None
    cache_hit: bool = False
    generation_seconds: float = 0.0

    def __call__(self, *args, **kwargs):
        return self.func(*args, **kwargs)


_MEMORY: dict = {}
"""In-process memo: ``(key, cache file or None)`` -> :class:`Kernel` (compiled once per process)."""
_KEYS: dict = {}
"""``(kind, N, backend, dps, cse)`` -> ``(name, key, args)`` of a named kernel (skips rebuilding its expression)."""


def clear_memo() -> None:
    """Forget the kernels compiled in this process (the on-disk cache is kept).

    The next request reads (and checks) the cache file again, or regenerates.
    """
    _MEMORY.clear()
    _KEYS.clear()


def _load(path, name, backend, dps, args, key):
    """The kernel cached at ``path`` if its entry passes the check (:func:`kernel_cache.read_entry`), else None."""
    source = kernel_cache.read_entry(path, key, name)
    if source is None:
        return None
    func = _compile(source, name)
    func.__doc__ = (func.__doc__ or "") + "\n\nGenerated source:\n\n" + source
    return Kernel(name, backend, dps, tuple(map(str, args)), source, key, func, path, True, 0.0)


def _compile(source, name):
    ns: dict = {}
    exec(compile(source, f"<symcoll kernel {name}>", "exec"), ns)
    return ns[name]


def _recall(name, backend, dps, args, key, cache):
    """The kernel with this key from the in-process memo or the checked on-disk cache, else None."""
    path = kernel_cache.cache_path(name, backend, key) if cache else None
    memo = (key, None if path is None else str(path))
    k = _MEMORY.get(memo)
    if k is None and path is not None:
        k = _load(path, name, backend, dps, args, key)
        if k is not None:
            _MEMORY[memo] = k
    return k


def make_kernel(name, args, expr, backend="numpy", dps=None, cse=True, cache=True, doc="",
                positive=(), nonzero=(), real_out=False) -> Kernel:
    """Generate (or recall) a kernel for ``expr`` as a function of ``args``.

    A kernel is compiled once per process (in-process memo keyed by :func:`cache_key`
    and the cache file).  With ``cache=True`` the generated source is also stored in
    :func:`cache_dir`; an entry is executed only after its header (cache format, key)
    and the SHA-256 of its body check out, otherwise it is moved aside and rebuilt
    with a :class:`~symcoll.errors.KernelCacheWarning`.

    Parameters
    ----------
    name : str
        Python identifier of the function.
    args : sequence of sympy.Symbol
        Argument order.
    expr : sympy.Expr or sympy.Matrix
    backend : {"numpy", "mpmath", "arb"}
    dps : int or None
        mpmath digits (default 50); must be None for numpy and arb (arb kernels take ``prec=`` bits
        at call time, default ``flint.ctx.prec``).
    cse : bool
        Common-subexpression elimination.
    cache : bool
        Use the on-disk cache (:func:`cache_dir`).

    Raises
    ------
    ValueError
        Unknown backend, bad dps or non-identifier name.

    Warns
    -----
    KernelCacheWarning
        A cache entry was rejected and rebuilt, or could not be read or written.
    """
    if not isinstance(name, str) or not name.isidentifier():
        raise ValueError(f"name must be a Python identifier (got {name!r})")
    _, dps = _check_backend(backend, dps)
    key = cache_key(name, args, expr, backend, dps, cse, extra=(positive, nonzero, real_out, doc))
    k = _recall(name, backend, dps, args, key, cache)
    if k is not None:
        return k
    t0 = time.perf_counter()
    fsrc = _function_source(name, args, expr, backend, dps, cse, doc, positive, nonzero, real_out)
    source = _module_source([fsrc], [backend], f"symcoll kernel {name} ({backend}{'' if dps is None else f', {dps} digits'}, cse={cse}); key {key}")
    func = _compile(source, name)
    secs = time.perf_counter() - t0
    func.__doc__ = (func.__doc__ or "") + "\n\nGenerated source:\n\n" + source
    path = kernel_cache.cache_path(name, backend, key) if cache else None
    if path is not None:
        kernel_cache.store(path, key, source)
    k = Kernel(name, backend, dps, tuple(map(str, args)), source, key, func, path, False, secs)
    _MEMORY[(key, None if path is None else str(path))] = k
    return k


# ----------------------------------------------------------------------------- the derived kernels
def _spec(kind, N=None):
    """(name, args, expr, doc, positive, nonzero, real_out) of a named derived kernel."""
    from .symbolic import scattering as ss

    E, h, m, g, hbar, p, beta = ss.E, ss.h, ss.m, ss.g, ss.hbar, ss.p, ss.beta
    sargs = (E, h, m, g, hbar)
    if kind in ("s_plus_1q", "s_minus_1q"):
        alpha = +1 if kind == "s_plus_1q" else -1
        doc = (f"One-qubit s^({'+' if alpha > 0 else '-'})(E), Eqs. (C4)-(C8), order (|0>, |1>); "
               "closed channels are 0. Returns E.shape + (2, 2).")
        return kind, sargs, ss.one_qubit_smatrix(alpha), doc, ("h", "m", "hbar"), ("g",), False
    if kind in ("s_plus_chain", "s_minus_chain"):
        alpha = +1 if kind == "s_plus_chain" else -1
        doc = (f"{N}-qubit eps=0 s^({'+' if alpha > 0 else '-'})(E), Eqs. (C24)-(C28) (block form), local basis "
               "|s1..sN> (qubit 1 most significant); closed channels are 0. Returns E.shape + (2**N, 2**N).")
        return f"{kind}{N}", sargs, ss.block_smatrix_eps0(N, alpha), doc, ("h", "m", "hbar"), ("g",), False
    if kind in ("c_plus_p", "c_minus_p"):
        sign = +1 if kind == "c_plus_p" else -1
        doc = f"c_{'+' if sign > 0 else '-'}(p) of Eq. (C32) (evanescent branch below threshold)."
        return kind, (p, h, m, g, hbar), ss.c_pm_p(sign), doc, ("p", "h", "m", "hbar"), ("g",), False
    if kind == "mu_eff":
        import sympy as sp

        q = sp.Symbol("p", real=True)  # any real p: mu_eff = 0 for p <= 0
        return kind, (q, beta, m), ss.mu_eff(q), "Effusion distribution mu_eff(p) of Eq. (40) (0 for p <= 0).", \
            ("beta", "m"), (), True
    raise ValueError(f"unknown kernel kind {kind!r}")


def _named(kind, N=None, backend="numpy", dps=None, cse=True, cache=True):
    _, dps_ = _check_backend(backend, dps)
    memo = (kind, N, backend, dps_, bool(cse))
    if memo in _KEYS:  # skip rebuilding the expression and hashing its srepr
        name, key, args = _KEYS[memo]
        k = _recall(name, backend, dps_, args, key, cache)
        if k is not None:
            return k
    name, args, expr, doc, pos, nz, real_out = _spec(kind, N)
    k = make_kernel(name, args, expr, backend, dps, cse, cache, doc, pos, nz, real_out)
    _KEYS[memo] = (k.name, k.key, k.args)
    return k


def one_qubit_kernel(alpha=+1, backend="numpy", dps=None, cse=True, cache=True) -> Kernel:
    """Kernel ``s(E, h, m, g, hbar)`` for the one-qubit ``s^(alpha)`` of (C4)-(C8)."""
    if alpha not in (+1, -1):
        raise ValueError(f"alpha must be +1 (transmitted) or -1 (reflected) (got {alpha!r})")
    return _named("s_plus_1q" if alpha == +1 else "s_minus_1q", None, backend, dps, cse, cache)


def chain_kernel(N, alpha=+1, backend="numpy", dps=None, cse=True, cache=True) -> Kernel:
    """Kernel ``s(E, h, m, g, hbar)`` for the N-qubit eps = 0 ``s^(alpha)`` of (C24)-(C28) (local basis)."""
    if alpha not in (+1, -1):
        raise ValueError(f"alpha must be +1 (transmitted) or -1 (reflected) (got {alpha!r})")
    return _named("s_plus_chain" if alpha == +1 else "s_minus_chain", N, backend, dps, cse, cache)


def c_pm_kernel(sign, backend="numpy", dps=None, cse=True, cache=True) -> Kernel:
    """Kernel ``c(p, h, m, g, hbar)`` for ``c_pm(p)`` of (C32)."""
    if sign not in (+1, -1):
        raise ValueError(f"sign must be +1 or -1 (got {sign!r})")
    return _named("c_plus_p" if sign == +1 else "c_minus_p", None, backend, dps, cse, cache)


def mu_eff_kernel(backend="numpy", dps=None, cse=True, cache=True) -> Kernel:
    """Kernel ``mu_eff(p, beta, m)`` of Eq. (40)."""
    return _named("mu_eff", None, backend, dps, cse, cache)


TARGETS = ("numpy", "mpmath", "arb")
"""Code-generation targets of ``symcoll kernels --target`` (the names of :data:`BACKENDS`)."""
DEFAULT_TARGETS = ("numpy", "mpmath")
SUFFIX = {"numpy": "", "mpmath": "_mp", "arb": "_arb"}
"""Function-name suffix of each target in the written modules (``s_plus_chain3``, ``_mp``, ``_arb``)."""
ARB_MODULE_NAME = MODULE_NAME + "_arb"


def parse_targets(targets):
    """``targets`` (a comma-separated string, a sequence of names or None) as a tuple of target names.

    Raises
    ------
    ValueError
        An empty list or a name that is not one of :data:`TARGETS`.
    """
    if targets is None:
        return DEFAULT_TARGETS
    names = [t.strip() for t in targets.split(",")] if isinstance(targets, str) else list(targets)
    names = [t for t in names if t != ""]
    bad = [t for t in names if t not in TARGETS]
    if bad or not names:
        raise ValueError(f"target must be a comma-separated list of {', '.join(TARGETS)} "
                         f"(got {targets!r}{'; unknown: ' + ', '.join(map(repr, bad)) if bad else ''})")
    return tuple(dict.fromkeys(names))


def write_module(out_dir, N_max=4, dps=DEFAULT_MP_DPS, cse=True, targets=DEFAULT_TARGETS):
    """Write the kernels of ``targets`` to ``out_dir``; return the path of the first module written.

    numpy and mpmath kernels go to ``out_dir/symcoll_kernels.py`` (numpy functions carry the
    plain names, ``s_plus_chain3``; mpmath ones the suffix ``_mp``,
    ``s_plus_chain3_mp(E, h, m, g, hbar, dps=50)``); it imports only numpy and mpmath.  Arb
    kernels go to their own module ``out_dir/symcoll_kernels_arb.py`` with the suffix ``_arb``
    (``s_plus_chain3_arb(E, h, m, g, hbar, prec=None)``, python-flint ``acb`` balls), which
    imports only python-flint and numpy.  Use :func:`write_modules` for every path.
    """
    return write_modules(out_dir, N_max, dps, cse, targets)[0]


def write_modules(out_dir, N_max=4, dps=DEFAULT_MP_DPS, cse=True, targets=DEFAULT_TARGETS):
    """Like :func:`write_module`; returns the list of paths written (one or two modules)."""
    if isinstance(N_max, bool) or not isinstance(N_max, int) or not 1 <= N_max <= 8:
        raise ValueError(f"N must be an integer in 1..8 (got {N_max!r})")
    targets = parse_targets(targets)
    specs = [_spec(k) for k in ("s_plus_1q", "s_minus_1q", "c_plus_p", "c_minus_p", "mu_eff")]
    for N in range(1, N_max + 1):
        specs += [_spec("s_plus_chain", N), _spec("s_minus_chain", N)]
    groups = [(MODULE_NAME, [t for t in ("numpy", "mpmath") if t in targets]), (ARB_MODULE_NAME, [t for t in ("arb",) if t in targets])]
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for module, backends in groups:
        if not backends:
            continue
        funcs, names = [], []
        for name, args, expr, doc, pos, nz, real_out in specs:
            for b in backends:
                extra = {"numpy": "", "mpmath": f" mpmath, default {dps} digits.", "arb": ""}[b]
                funcs.append(_function_source(name + SUFFIX[b], args, expr, b, dps if b == "mpmath" else None, cse,
                                              doc + extra, pos, nz, real_out))
                names.append(name + SUFFIX[b])
        title = (f"symcoll kernels ({', '.join(backends)}): scattering matrices (C4)-(C8), (C24)-(C28) for N = 1..{N_max}, "
                 f"c_pm(p) (C32), mu_eff (40).\n\nFunctions: {', '.join(names)}.")
        src = _module_source(funcs, backends, title)
        src += f"\n__all__ = {names!r}\n"
        path = out / f"{module}.py"
        path.write_text(src)
        paths.append(path)
    return paths


def cli_main(args) -> int:
    """``symcoll kernels --out DIR [--N NMAX] [--target LIST]``: write the kernel module(s), print what was written."""
    N_max = getattr(args, "N", None) or 4
    targets = parse_targets(getattr(args, "target", None))
    paths = write_modules(args.out, N_max=N_max, targets=targets)
    for path in paths:
        text = path.read_text()
        names = [line[4:line.index("(")] for line in text.splitlines() if line.startswith("def ") and not line.startswith("def _")]
        imports = _import_names(["arb"] if path.stem == ARB_MODULE_NAME else [t for t in targets if t != "arb"])
        print(f"wrote {path} ({len(text.splitlines())} lines, {len(names)} kernels; imports only {imports})")
        for n in names:
            print(f"  {n}")
        print(f"use: import sys; sys.path.insert(0, {str(Path(args.out))!r}); import {path.stem}")
    return 0
