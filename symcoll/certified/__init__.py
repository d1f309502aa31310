"""Certified results in Arb ball arithmetic (python-flint): every number an enclosure ``(mid, rad)``.

The third number type of symcoll (DESIGN.md, "Errors and number types"): float64 gives fast
results with error *estimates*, mpmath gives high-precision results with estimates, and this
package gives *enclosures*: every entry of a certified map, state or observable is an Arb ball
that provably contains the true value, and every reported error here is a bound.

Modules
-------
maps        certified collision maps (38), (45), (54)-(56): :class:`CertifiedMap`
eigen       verified eigensystems of H (balls), with the project's phase rule
quadrature  Gauss-Legendre on Bernstein ellipses with a rigorous remainder
scattering  the (C1) solve in balls
dynamics    certified Lindblad evolution (71) and steady states
observables intervals for (72)-(75)
"""

__all__ = ["CertifiedMap", "certified_collision_map"]


def __getattr__(name):  # PEP 562: python-flint is imported only when the certified path is used
    if name in ("CertifiedMap", "certified_collision_map"):
        from . import maps

        return getattr(maps, name)
    raise AttributeError(f"module 'symcoll.certified' has no attribute {name!r}")
