"""Propagators of Eq. (71): ``vec rho(t) = exp(L t) vec rho(0)`` for many times at once.

L is constant in time, so every method is exact in t (no time stepper).  One contract,
:meth:`Propagator.propagate`, three algorithms:

``"eig"`` (:class:`EigPropagator`, float64)
    ``L = V diag(lambda) V^{-1}`` per block (:class:`~symcoll.dynamics.spectrum.FloatSpectrum`),
    then ``vec rho(t) = sum_i c_i exp(lambda_i t) v_i``.  The stationary eigenvalue is set to
    exactly 0 (trace preservation makes 0 an exact eigenvalue; without this a rounding-size
    ``lambda_0 ~ 1e-16`` would drift the stationary state by ``lambda_0 t`` at t = 1e7).  The
    conditioning ``cond(V)`` and the eigenvalue condition numbers ``kappa_i`` enter the rounding
    estimate (:func:`eig_rounding_estimate`).
``"expm"`` (:class:`ExpmPropagator`, float64)
    ``rho(t) = rho_ss + expm(L t) (rho(0) - rho_ss)`` with scipy's scaling-and-squaring Pade
    ``expm`` per time and block: slower, insensitive to eigenvector conditioning.
``"refined"`` (:class:`RefinedPropagator`, mpmath at any ``dps``)
    The eigen-decomposition refined to ``dps`` digits (:mod:`symcoll.dynamics.refine`).

:func:`method_for` is the one place where the method is chosen, including the one branch on
the number type: float64 cannot deliver ``dps`` digits, so the mpmath path always refines.
"""
from __future__ import annotations

import math

import numpy as np
import scipy.linalg as sla

from .. import conventions as cv
from ._arrays import to_complex
from .lean_spectrum import LeanSpectrum
from .tolerances import FLOAT64_EPS, DynamicsTolerances

__all__ = ["METHODS", "Propagator", "EigPropagator", "ExpmPropagator", "RefinedPropagator", "PROPAGATORS",
           "check_method", "method_for", "eig_rounding_estimate"]

METHODS = ("auto", "eig", "expm", "refined")
"""Values of ``method=`` in :meth:`Lindbladian.evolve`."""


class Propagator:
    """``exp(L t) x`` for the generator of a :class:`~symcoll.dynamics.Lindbladian`.

    Subclasses set :attr:`method` and implement :meth:`propagate`.  What they precompute
    (decompositions) is cached on the generator, which does not keep propagators: no reference
    cycle keeps a large generator alive.  ``d`` is the dimension of the system, ``n = d**2``
    that of ``vec rho``.
    """

    method: str = ""

    def __init__(self, generator):
        self.generator = generator
        self.d = generator.d
        self.n = generator.d * generator.d

    def propagate(self, x, times):
        """Propagate ``x = vec rho(0)`` (eigenbasis, at the generator's precision) to ``times``.

        Returns
        -------
        states : (T, d, d) array
            ``rho(t)`` (complex128, or mpmath numbers on the mpmath path), not hermitized.
        rounding : (T,) float array
            Rounding **estimate** of the method (max-abs entry), per time.
        diagnostics : dict
            ``cond_V``, ``norm_L``, ``n``, ``blocks``, ``max_block`` and method-specific entries.
        """
        raise NotImplementedError


class EigPropagator(Propagator):
    """float64 eigen-propagation, block by block (see the module doc)."""

    method = "eig"

    def propagate(self, x, times):
        n, u = self.n, FLOAT64_EPS
        spec = self.generator.spectrum()
        if isinstance(spec, LeanSpectrum):  # the exact map from N = 6: real form, no complex V
            vecs, rnd, diag = spec.propagate(x, times)
            return cv.unvec(vecs, self.d), rnd, diag
        diag = spec.diagnostics()
        if not spec.invertible:
            raise np.linalg.LinAlgError("L is numerically defective; use method='expm'")
        vecs = np.zeros((len(times), n), dtype=complex)
        rnd = np.zeros(len(times))
        kmax = 0.0
        for b, bk in enumerate(spec.blocks):
            idx, lam, V, Vinv = bk.idx, bk.lam.copy(), bk.V, bk.Vinv
            kappa = np.linalg.norm(Vinv, axis=1)  # ||y_i|| ||v_i|| / |y_i^H v_i|, ||v_i|| = 1
            kmax = max(kmax, float(kappa.max()))
            j0 = spec.j0 if b == spec.b0 else None
            if j0 is not None:
                tol0 = DynamicsTolerances(u).zero_mode(spec.normL, n, kappa[j0])
                diag["zero_mode_snapped"] = bool(abs(lam[j0]) <= tol0)
                if diag["zero_mode_snapped"]:
                    lam[j0] = 0.0  # exact: trace preservation (unique stationary mode)
            xb = x[idx]
            c = Vinv @ xb if len(idx) > 1 else xb / V[0, 0]
            ex = np.exp(np.outer(times, lam))  # (T, nb)
            vecs[:, idx] = (ex * c[None, :]) @ V.T
            rnd += eig_rounding_estimate(lam, c, kappa, bk.condV, spec.normL, times,
                                         float(np.linalg.norm(xb)), u, j0)
        diag["kappa_max"] = kmax
        return cv.unvec(vecs, self.d), rnd, diag


class ExpmPropagator(Propagator):
    """float64 ``expm`` per time and block, of the decaying part ``rho(0) - rho_ss``."""

    method = "expm"

    def propagate(self, x, times):
        g, n = self.generator, self.n
        diag = g.spectrum().diagnostics()
        L = g.superoperator_float()
        try:  # propagate only the decaying part rho(0) - rho_ss when the kernel is unique
            ss = g.steady_state()
            xss, ss_round = cv.vec(to_complex(ss.state)), ss.error["rounding"].value
        except ValueError:  # e.g. Gamma = 0: no unique stationary state
            xss, ss_round = np.zeros_like(x), 0.0
        y = x - xss
        normL1 = float(np.abs(L).sum(axis=0).max())
        vecs = np.zeros((len(times), n), dtype=complex)
        for idx in g.blocks():
            Lb = L[np.ix_(idx, idx)]
            for a, ta in enumerate(times):
                vecs[a, idx] = sla.expm(Lb * ta) @ y[idx]
        vecs += xss[None, :]
        # expm: backward error ~ u ||L t||; CPTP semigroup: ||exp(Ls)||_2 <= sqrt(d)
        rnd = FLOAT64_EPS * (8 * n * normL1 * times * math.sqrt(self.d) * np.linalg.norm(y) + 8 * n) + ss_round
        return cv.unvec(vecs, self.d), np.asarray(rnd, dtype=float), diag


class RefinedPropagator(Propagator):
    """mpmath propagation with the eigen-decomposition refined to ``dps`` digits."""

    method = "refined"

    def propagate(self, x, times):
        g, d, n = self.generator, self.d, self.n
        rbs = g.refined_blocks()
        vecs = np.empty((len(times), n), dtype=object)
        T = np.asarray(times, dtype=float)
        rnd = np.zeros(len(times))
        for rb in rbs:
            vecs[:, rb.idx] = rb.propagate(g.ctx.mp, x[rb.idx], times)
            rnd += rb.rounding_estimate(g.ctx.eps, T)
        states = np.empty((len(times), d, d), dtype=object)
        for a in range(len(times)):
            states[a] = cv.unvec(vecs[a], d)
        diag = {"cond_V": max(rb.condV for rb in rbs), "norm_L": rbs[0].normL, "n": n,
                "blocks": len(rbs), "iterations": max(rb.iterations for rb in rbs),
                "max_block": max(len(c) for rb in rbs for c, _ in rb.clusters),
                "zero_mode_snapped": any(rb.zero_mode_snapped for rb in rbs)}
        return states, rnd, diag


PROPAGATORS = {cls.method: cls for cls in (EigPropagator, ExpmPropagator, RefinedPropagator)}
"""Method name -> propagator class."""


def check_method(method):
    """ValueError unless ``method`` is one of :data:`METHODS`."""
    if method not in METHODS:
        raise ValueError(f"method must be one of {', '.join(map(repr, METHODS))} (got {method!r})")


def method_for(generator, method="auto") -> str:
    """The propagation method used for ``method`` (one of :data:`METHODS`).

    * mpmath path (``generator.ctx.is_mp``): always ``"refined"`` -- the number type decides,
      since the float64 methods cannot deliver ``dps`` digits;
    * float64: ``"refined"`` is refused; ``"auto"`` is ``"eig"`` unless ``cond_2(V) >``
      :data:`~symcoll.dynamics.tolerances.COND_V_MAX` or V is singular (near-defective L, as when
      ``Gamma (S - I)`` couples Bohr frequencies split by ~eps), then ``"expm"``.
    """
    check_method(method)
    if generator.ctx.is_mp:
        return "refined"
    if method == "refined":
        raise ValueError("method='refined' needs the mpmath path (Lindbladian(..., dps=...))")
    if method == "auto":
        spec = generator.spectrum()
        return "eig" if (DynamicsTolerances.eig_is_safe(spec.condV) and spec.invertible) else "expm"
    return method


def eig_rounding_estimate(lam, c, kappa, condV, normL, t, xnorm, u, i0):
    """Rounding **estimate** for the eigen-propagation ``sum_i c_i exp(lambda_i t) v_i``.

    Two first-order terms (backward error of ``geev`` ``||E|| ~ u ||L||_F``):

    * eigenvalue errors ``|d lambda_i| <= kappa_i ||E||`` dephase mode i by
      ``|c_i| min(|d lambda_i| t, 2) exp(Re lambda_i t)`` (mode i0, snapped to 0, excluded);
    * errors of the eigenvectors and of ``c = V^{-1} x``: ``~ n u cond(V) ||x||`` at every time.
    """
    n = len(lam)
    E = 4.0 * math.sqrt(n) * u * normL
    amp = np.abs(c)
    dl = kappa * E
    mask = np.ones(n, dtype=bool)
    if i0 is not None:
        mask[i0] = False
    T = np.asarray(t, dtype=float)[:, None]
    decay = np.exp(np.minimum(np.real(lam)[None, :], 0.0) * T)
    phase = np.minimum(dl[None, :] * T, 2.0) * amp[None, :] * decay
    term1 = phase[:, mask].sum(axis=1)
    term2 = 4.0 * n * u * condV * max(xnorm, float(amp.max()))
    return term1 + term2
