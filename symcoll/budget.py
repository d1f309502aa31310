"""Error budgets: every reported error with its parts, each a proven *bound* or an *estimate*.

One vocabulary for every object that reports an error (collision maps (38), (45), (54)-(56);
evolutions and steady states of (71)):

* ``obj.error`` -- an :class:`ErrorBudget`: ``parts`` (name -> :class:`ErrorPart` with
  ``value``, ``kind`` in ``{"bound", "estimate"}`` and a ``note`` saying where it comes from),
  ``total`` (sum of the parts), ``rigorous`` (True only if every part is a proven bound);
* ``obj.error_estimate`` -- ``error.total``, always a number (or an array over times);
* ``obj.error_bound`` -- ``error.total`` when ``error.rigorous``, else ``None``: an estimate is
  never called a bound.

A part is a *bound* only when a proof is cited in its note (an analytic tail bound, Weyl's
inequality, Duhamel + Gronwall fed by bounds, a residual bound); anything heuristic (the
difference of two quadrature rules, rounding models) is an *estimate*, and every estimate is
checked against an independent computation in the tests.

Examples
--------
>>> from symcoll.budget import ErrorBudget
>>> b = ErrorBudget({"tail": (1e-15, "bound", "analytic"), "quadrature": (3e-14, "estimate", "G10 vs K21")})
>>> b.rigorous, f"{b.total:.2e}", b.bound is None
(False, '3.10e-14', True)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ErrorPart", "ErrorBudget", "KINDS", "HasErrorBudget"]

KINDS = ("bound", "estimate")
"""The two kinds of error: a proven *bound* or a heuristic *estimate*."""


def _value(v):
    """A part's value as a float, or a float array (per time); finite or +inf, never NaN or < 0."""
    a = np.asarray(v, dtype=float)
    if np.any(np.isnan(a)) or np.any(a < 0):
        raise ValueError(f"an error part must be >= 0 and not NaN (got {v!r})")
    return float(a) if a.ndim == 0 else a


@dataclass(frozen=True)
class ErrorPart:
    """One named contribution to an error budget.

    Attributes
    ----------
    value : float or (T,) float array
        Size of the contribution (absolute, in the quantity's units).
    kind : {"bound", "estimate"}
        ``"bound"``: proven (the note cites the argument); ``"estimate"``: not proven.
    note : str
        Where the number comes from.
    """

    value: object
    kind: str
    note: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} (got {self.kind!r})")
        object.__setattr__(self, "value", _value(self.value))

    @property
    def is_bound(self) -> bool:
        return self.kind == "bound"

    def to_dict(self) -> dict:
        v = self.value
        return {"value": v.tolist() if isinstance(v, np.ndarray) else v, "kind": self.kind, "note": self.note}


class ErrorBudget:
    """Named error parts; their sum is the reported error.

    Parameters
    ----------
    parts : dict
        ``name -> ErrorPart``, or ``name -> (value, kind[, note])``, or
        ``name -> {"value", "kind", "note"}``.

    Attributes
    ----------
    parts : dict of str -> ErrorPart
    total : float or array
        Sum of the part values (``inf`` if a part is infinite).
    rigorous : bool
        True only if every part is a proven bound (an empty budget is rigorous: exact input).
    bound : float, array or None
        ``total`` if ``rigorous`` else None.
    estimate : float or array
        ``total``.
    """

    def __init__(self, parts=None):
        self.parts = {}
        for name, p in (parts or {}).items():
            self.parts[str(name)] = self._as_part(p)

    @staticmethod
    def _as_part(p) -> ErrorPart:
        if isinstance(p, ErrorPart):
            return p
        if isinstance(p, dict):
            kind = str(p["kind"])
            # older notes wrote the kind first ("bound (...)"); keep only the word
            kind = kind.split()[0] if kind.split() else kind
            return ErrorPart(p["value"], kind, p.get("note", ""))
        if isinstance(p, (tuple, list)) and len(p) in (2, 3):
            return ErrorPart(*p)
        raise TypeError(f"an error part must be an ErrorPart, a dict or a (value, kind[, note]) tuple (got {p!r})")

    # --------------------------------------------------------------- totals
    @property
    def total(self):
        if not self.parts:
            return 0.0
        vals = [p.value for p in self.parts.values()]
        out = vals[0]
        for v in vals[1:]:
            out = out + v
        return float(out) if np.ndim(out) == 0 else np.asarray(out, dtype=float)

    @property
    def rigorous(self) -> bool:
        return all(p.is_bound for p in self.parts.values())

    @property
    def bound(self):
        return self.total if self.rigorous else None

    @property
    def estimate(self):
        return self.total

    def share(self, kind: str):
        """Sum of the parts of one kind (``"bound"`` or ``"estimate"``)."""
        if kind not in KINDS:
            raise ValueError(f"kind must be one of {KINDS} (got {kind!r})")
        sel = [p.value for p in self.parts.values() if p.kind == kind]
        if not sel:
            return 0.0
        out = sel[0]
        for v in sel[1:]:
            out = out + v
        return float(out) if np.ndim(out) == 0 else np.asarray(out, dtype=float)

    # --------------------------------------------------------------- combination
    def with_part(self, name, value, kind, note="") -> "ErrorBudget":
        """A new budget with one more (or a replaced) part."""
        parts = dict(self.parts)
        parts[name] = ErrorPart(value, kind, note)
        return ErrorBudget(parts)

    def __getitem__(self, name) -> ErrorPart:
        return self.parts[name]

    def __contains__(self, name) -> bool:
        return name in self.parts

    def __iter__(self):
        return iter(self.parts)

    def __len__(self):
        return len(self.parts)

    # --------------------------------------------------------------- output
    def to_dict(self) -> dict:
        """JSON-ready: ``{"total", "rigorous", "bound", "parts": {name: {"value", "kind", "note"}}}``."""
        tot = self.total
        tot_j = tot.tolist() if isinstance(tot, np.ndarray) else tot
        return {"total": tot_j, "rigorous": self.rigorous, "bound": tot_j if self.rigorous else None,
                "parts": {k: p.to_dict() for k, p in self.parts.items()}}

    def describe(self) -> str:
        """One line: ``"estimate 3.1e-14 (quadrature 3.0e-14 estimate, tail 1.0e-15 bound)"``."""
        def fmt(v):
            return f"{float(np.max(v)):.1e}" if np.size(v) else "0"

        word = "bound" if self.rigorous else "estimate"
        inner = ", ".join(f"{k} {fmt(p.value)} {p.kind}" for k, p in self.parts.items())
        return f"{word} {fmt(self.total)} ({inner})"

    def __repr__(self):
        return f"ErrorBudget({self.describe()})"


class HasErrorBudget:
    """Mixin: ``error_estimate`` and ``error_bound`` read off ``self.error`` (an :class:`ErrorBudget`)."""

    error: ErrorBudget

    @property
    def error_estimate(self):
        """The reported error: ``error.total`` (float, or an array over times); an estimate unless
        ``error.rigorous``."""
        return self.error.total

    @property
    def error_bound(self):
        """``error.total`` when every part is a proven bound (``error.rigorous``), else ``None``."""
        return self.error.bound

    @property
    def error_parts(self) -> dict:
        """``name -> {"value", "kind", "note"}`` (JSON-ready view of ``error.parts``)."""
        return {k: p.to_dict() for k, p in self.error.parts.items()}

