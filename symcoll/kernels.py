"""Lambdified kernels: the derived closed forms as fast numpy and arbitrary-precision mpmath functions.

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

``symcoll kernels --out DIR [--N NMAX]`` writes all kernels as one module
``DIR/symcoll_kernels.py`` that imports only numpy and mpmath.
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

GENERATOR_VERSION = "1"
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
    else:
        if dps is not None:
            raise ValueError(f"dps must be None for the {backend} backend (float64); use backend='mpmath'")
    return b, dps


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
    body = [f"{ind}{lhs} = {printer.doprint(rhs)}" for lhs, rhs in repl]
    pos = tuple(str(a) for a in positive)
    nz = tuple(str(a) for a in nonzero)
    lines = []
    if b.vectorised:
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


def _module_source(functions, backends, title):
    head = [f'"""{title}', "", f"Generated by symcoll {__version__} (kernel generator {GENERATOR_VERSION}).",
            "Imports only numpy and mpmath; no SymPy needed at run time.", '"""']
    imports = sorted({line for b in backends for line in BACKENDS[b].imports.split("\n")})
    parts = ["\n".join(head), "\n".join(imports)]
    for b in backends:
        parts.append(BACKENDS[b].helpers.strip("\n"))
    parts.extend(f.rstrip("\n") for f in functions)
    return "\n\n\n".join(parts) + "\n"


def cache_key(name, args, expr, backend, dps, cse, extra=()) -> str:
    """SHA-256 of everything that changes the generated source.

    The expression (``srepr``), argument order, backend, precision, cse flag, the
    symcoll, SymPy (its printers write the source), kernel-generator and cache-format
    versions, and ``extra`` (validation sets, output type, docstring).
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
    backend : {"numpy", "mpmath"}
    dps : int or None
        mpmath digits (default 50); must be None for numpy.
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


def write_module(out_dir, N_max=4, dps=DEFAULT_MP_DPS, cse=True) -> Path:
    """Write every kernel (numpy and mpmath) to ``out_dir/symcoll_kernels.py``; return the path.

    numpy functions carry the plain names (``s_plus_chain3``), mpmath ones the suffix
    ``_mp`` (``s_plus_chain3_mp(E, h, m, g, hbar, dps=50)``).
    """
    if isinstance(N_max, bool) or not isinstance(N_max, int) or not 1 <= N_max <= 8:
        raise ValueError(f"N must be an integer in 1..8 (got {N_max!r})")
    specs = [_spec(k) for k in ("s_plus_1q", "s_minus_1q", "c_plus_p", "c_minus_p", "mu_eff")]
    for N in range(1, N_max + 1):
        specs += [_spec("s_plus_chain", N), _spec("s_minus_chain", N)]
    funcs, names = [], []
    for name, args, expr, doc, pos, nz, real_out in specs:
        funcs.append(_function_source(name, args, expr, "numpy", None, cse, doc, pos, nz, real_out))
        funcs.append(_function_source(name + "_mp", args, expr, "mpmath", dps, cse, doc + f" mpmath, default {dps} digits.", pos, nz, real_out))
        names += [name, name + "_mp"]
    title = (f"symcoll kernels: scattering matrices (C4)-(C8), (C24)-(C28) for N = 1..{N_max}, c_pm(p) (C32), "
             f"mu_eff (40).\n\nFunctions: {', '.join(names)}.")
    src = _module_source(funcs, ["numpy", "mpmath"], title)
    src += f"\n__all__ = {names!r}\n"
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"{MODULE_NAME}.py"
    path.write_text(src)
    return path


def cli_main(args) -> int:
    """``symcoll kernels --out DIR [--N NMAX]``: write the kernel module and print what was written."""
    N_max = getattr(args, "N", None) or 4
    path = write_module(args.out, N_max=N_max)
    text = path.read_text()
    names = [line[4:line.index("(")] for line in text.splitlines() if line.startswith("def ") and not line.startswith("def _")]
    print(f"wrote {path} ({len(text.splitlines())} lines, {len(names)} kernels; imports only numpy and mpmath)")
    for n in names:
        print(f"  {n}")
    print(f"use: import sys; sys.path.insert(0, {str(Path(args.out))!r}); import {MODULE_NAME}")
    return 0
