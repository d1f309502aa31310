"""A TEST DOUBLE with the interface of a certified collision map -- NOT a certified map.

It exists only to test the certified dynamics machinery (:mod:`symcoll.certified.dynamics`,
:mod:`symcoll.certified.observables`) before the real :class:`symcoll.certified.maps.CertifiedMap`
lands.  Its balls do **not** enclose the physical collision map (38)/(45)/(54)-(56); they
enclose a *declared* reference map ``T*`` defined below, which is all the dynamics code may
assume of a certified map:

* ``T*`` is exactly trace preserving and exactly Hermiticity preserving (made so in exact
  dyadic arithmetic, see :func:`exact_reference_tensor`);
* ``T*`` is close to the collision map (float64 path by default, or the mpmath path at
  ``dps`` digits with ``source="mp"``; the mpmath map at N = 3 takes minutes, too slow for
  the fast suite);
* the energies are ``system.eigensystem(40)`` (mpmath, 40 digits);
* every ball is centred exactly on ``T*`` (or the 40-digit energy) with radius ``radius``,
  except the structural zeros of the tensor (exact zeros, e.g. outside the Bohr selection
  rule of the global map (45)), which stay exact zeros as in a real certified map.

So ``T*`` and the 40-digit energies lie in the balls, and the mpmath dynamics
``Lindbladian(system, double.reference_map(dps), Gamma, dps=dps)`` (an independent method,
:mod:`symcoll.dynamics.refine`) is the dynamics of a member of the ball family, up to the
rounding of ``T*`` to ``dps`` digits (relative 1e-40 at ``dps = 40``, far below ``radius``).

``rebuild(tol=...)`` returns the same ``T*`` with radius ``tol`` (never below ``min_radius``),
which imitates a certified map rebuilt to a tighter tolerance.  ``perturbed(...)`` moves the
centres without growing the radii: a deliberately *wrong* double whose enclosures must miss
the reference (tests that a too small radius is caught).
"""
from __future__ import annotations

import math

import mpmath
import numpy as np
from flint import acb, acb_mat, arb, ctx

from symcoll import DeltaCoupling, EffusionBath, collision_map
from symcoll import conventions as cv
from symcoll.budget import ErrorBudget
from symcoll.dynamics import TensorMap

_EXACT_BITS = 4000  # dyadic sums of float64 / 40-digit numbers are exact at this precision


def _mp_ctx():
    c = mpmath.MPContext()
    c.prec = _EXACT_BITS
    return c


def exact_reference_tensor(T, mpc_ctx):
    """``T*``: ``T`` made exactly Hermiticity preserving and trace preserving.

    ``T*^{jk}_{j'k'} = (T^{jk}_{j'k'} + conj(T^{kj}_{k'j'})) / 2`` (Hermiticity preservation),
    then ``T*^{jk}_{00} = delta_jk - sum_{j' >= 1} T*^{jk}_{j'j'}`` (trace preservation,
    ``sum_{j'} S^{jk}_{j'j'} = delta_jk``; keeps Hermiticity preservation because the sum is
    Hermitian in (j, k)).  All operations are exact: the inputs are binary floats and the
    context has 4000 bits.  Returns an object array of mpc numbers of ``mpc_ctx``.
    """
    d = T.shape[0]
    c = mpc_ctx
    A = np.empty((d, d, d, d), dtype=object)
    for idx in np.ndindex(d, d, d, d):
        v = T[idx]
        A[idx] = c.mpc(c.mpf(v.real), c.mpf(v.imag))
    B = np.empty_like(A)
    for jp, kp, j, k in np.ndindex(d, d, d, d):
        B[jp, kp, j, k] = (A[jp, kp, j, k] + c.conj(A[kp, jp, k, j])) / 2
    for j in range(d):
        for k in range(d):
            s = c.mpc(0)
            for jp in range(1, d):
                s += B[jp, jp, j, k]
            B[0, 0, j, k] = (1 if j == k else 0) - s
    return B


def _arb_of_mpf(x):
    """Exact conversion mpf -> arb: ``_mpf_ = (sign, man, exp, bc)`` is ``(-1)^sign man 2^exp``."""
    sign, man, exp, _ = x._mpf_
    if not man:
        return arb(0)
    return arb((-int(man) if sign else int(man), int(exp)))


def _acb_of_mpc(z):
    return acb(_arb_of_mpf(z.real), _arb_of_mpf(z.imag))


class CertifiedMapDouble:
    """Test double with the interface of a certified map (see the module docstring: NOT certified).

    Attributes follow the certified-map interface: ``certified`` (True), ``kind``, ``system``,
    ``bath``, ``coupling``, ``dim``, ``system_fingerprint``, ``prec``, ``balls()``,
    ``energy_balls()``, ``enclosure()``, ``error`` (all parts "bound" -- bounds *for the
    declared reference T**, not for the physical map), ``error_bound``, ``rebuild()``.
    """

    certified = True

    def __init__(self, system, bath, coupling, kind, Tstar, energies, radius, prec=128, min_radius=1e-30,
                 shift=None):
        self.system, self.bath, self.coupling, self.kind = system, bath, coupling, kind
        self.dim = system.dim
        self.system_fingerprint = system.fingerprint()
        self.prec = int(prec)
        self.radius = float(radius)
        self.min_radius = float(min_radius)
        self.Tstar = Tstar            # object array of exact mpc (the declared reference map)
        self.energies = energies      # mpf energies (40 digits), the declared reference energies
        self.shift = shift            # None, or (index, value): a deliberately wrong centre
        self.error = ErrorBudget({"declared": (self.radius, "bound",
                                               "TEST DOUBLE: declared radius around the reference map T*")})

    # ------------------------------------------------------------------ construction
    @classmethod
    def build(cls, system, kind="exact", radius=1e-30, source="float", dps=40, prec=128,
              beta=0.1, m=0.1, sigma_p=0.5, g=50.0):
        """The double for ``system`` at the paper's bath/coupling (Sec. VI E) by default."""
        bath, coupling = EffusionBath(beta, m, sigma_p), DeltaCoupling(g)
        if source == "float":
            cm = collision_map(system, bath, coupling, kind=kind)
        elif source == "mp":
            cm = collision_map(system, bath, coupling, kind=kind, dps=dps)
            radius = radius + float(cm.error_estimate)
        else:
            raise ValueError(f"source must be 'float' or 'mp' (got {source!r})")
        mc = _mp_ctx()
        Tstar = exact_reference_tensor(np.asarray(cm.tensor), mc)
        energies = [mc.mpf(e) for e in system.eigensystem(40).energies]
        return cls(system, bath, coupling, kind, Tstar, energies, radius, prec)

    def rebuild(self, tol=None, dps=None):
        """The same reference ``T*`` with radius ``max(tol, min_radius)`` (a 'tighter' map)."""
        r = self.radius if tol is None else max(float(tol), self.min_radius)
        prec = self.prec if dps is None else max(self.prec, int(math.ceil(dps * 3.33)) + 16)
        return CertifiedMapDouble(self.system, self.bath, self.coupling, self.kind, self.Tstar, self.energies,
                                  r, prec, self.min_radius, self.shift)

    def perturbed(self, index, value):
        """A WRONG double: the centre of superoperator entry ``index`` moved by ``value`` (radius kept)."""
        return CertifiedMapDouble(self.system, self.bath, self.coupling, self.kind, self.Tstar, self.energies,
                                  self.radius, self.prec, self.min_radius, (tuple(index), complex(value)))

    # ------------------------------------------------------------------ interface
    @property
    def error_bound(self):
        return self.error.bound

    def balls(self):
        """``d^2 x d^2`` column-stacking superoperator (``sup[j' + d k', j + d k] = S^{jk}_{j'k'}``)."""
        d = self.dim
        sup = cv.tensor_to_superoperator(self.Tstar)
        old = ctx.prec
        ctx.prec = self.prec
        try:
            n = d * d
            M = acb_mat(n, n)
            for a in range(n):
                for b in range(n):
                    z = sup[a, b]
                    if z == 0:
                        continue  # structural zero: exact
                    w = _acb_of_mpc(z)
                    if self.shift is not None and (a, b) == self.shift[0]:
                        w = w + acb(self.shift[1].real, self.shift[1].imag)
                    # round the exact centre to prec bits, then add the declared radius
                    w = +w
                    M[a, b] = acb(arb(w.real.mid(), w.real.rad() + self.radius),
                                  arb(w.imag.mid(), w.imag.rad() + self.radius))
            return M
        finally:
            ctx.prec = old

    def energy_balls(self):
        old = ctx.prec
        ctx.prec = self.prec
        try:
            out = []
            for e in self.energies:
                x = +_arb_of_mpf(e)
                out.append(arb(x.mid(), x.rad() + self.radius))
            return out
        finally:
            ctx.prec = old

    def enclosure(self):
        """``(mid, rad)`` of the tensor ``[j', k', j, k]`` (complex128 mids, float64 radii covering the
        rounding of the mid to float64 by one ulp of the largest part plus the ball radius)."""
        d = self.dim
        M = self.balls()
        n = d * d
        mid = np.zeros((n, n), dtype=complex)
        rad = np.zeros((n, n))
        for a in range(n):
            for b in range(n):
                z = M[a, b]
                re, im = float(z.real.mid()), float(z.imag.mid())
                mid[a, b] = complex(re, im)
                e = (abs(z.real - re) + abs(z.imag - im)).upper()
                rad[a, b] = np.nextafter(float(e), np.inf)
        return cv.superoperator_to_tensor(mid), cv.superoperator_to_tensor(rad)

    # ------------------------------------------------------------------ the independent reference
    def reference_map(self, dps=40):
        """``T*`` rounded to ``dps`` digits as a :class:`~symcoll.dynamics.TensorMap` for the mpmath
        path of :class:`~symcoll.dynamics.Lindbladian` (the independent computation of the tests)."""
        from symcoll.numeric import get_context
        c = get_context(dps)
        T = np.empty(self.Tstar.shape, dtype=object)
        for idx in np.ndindex(*T.shape):
            z = self.Tstar[idx]
            T[idx] = c.mp.mpc(z.real, z.imag)
        return TensorMap(T, self.system, 0.0, self.kind, dps)
