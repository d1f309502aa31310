"""Independent numerical oracles that tests and ``symcoll verify`` derivations compare against.

Each oracle computes a quantity the numeric layer also computes, by a different method, and
imports none of the code it checks:

* :mod:`symcoll.oracles.quad38` -- entries of the exact map (38) by ``mpmath.quad`` (tanh-sinh)
  entry by entry, with its own (C1) solve and Gaussian elimination (not :mod:`symcoll.maps`,
  not :func:`symcoll.scattering.c1_rows`, not :func:`symcoll.numeric.gauss_solve`);
* :mod:`symcoll.oracles.local_map0` -- the eps -> 0 local map (54)-(56) from the closed forms
  (C30)-(C32) of Appendix C (not :mod:`symcoll.maps`, no linear solve).
"""
