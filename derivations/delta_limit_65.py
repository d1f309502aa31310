"""(65) from (36): the delta interaction as the limit L -> 0, nu -> oo with L nu = g.

Physics: (36) couples the particle to the system by chi_L(x) nu V, a slab of width L. Inside it
psi'' = W psi with W = (2m/hbar^2)(H - E + nu V); the transfer matrix across the slab is
exp(L A), A = [[0, I], [W, 0]]. Since (L A)^2 = diag(X, X) with X = L^2 W = O(L) when nu = g/L, the
transfer matrix tends to [[I, 0], [(2 m g/hbar^2) V, I]]: continuity of psi and a jump of psi' by
(2 m g/hbar^2) V psi(0), exactly the matching conditions of g V delta(x) (65) that give (C1).
Also (g/2)(sigma_+ + sigma_-) = g sigma_x with the paper's ladder (with unit ladders: a factor 2).

Code: symcoll.symbolic.amplitudes.barrier_transfer; checks: registered derivation 'delta_limit_65'
(derive_delta_limit).
Run: python derivations/delta_limit_65.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation

from symcoll.symbolic import amplitudes as am
from symcoll.symbolic import scattering as ss


def main(argv=None):
    L = sp.Symbol("L", positive=True)
    W = 2 * ss.m / ss.hbar**2 * (sp.diag(0, ss.h) - am.E * sp.eye(2) + ss.g / L * ss.SX)
    print("W = (2m/hbar^2)(H - E + (g/L) sigma_x), one qubit:")
    sp.pprint(W)
    T = am.barrier_transfer(W, L, 1)
    print("\ntransfer matrix across the slab to first order in X = L^2 W:")
    sp.pprint(T.applyfunc(sp.expand))
    print("\nits limit L -> 0:")
    sp.pprint(T.applyfunc(lambda e: sp.limit(sp.expand(e), L, 0, "+")))
    print()
    return print_derivation("delta_limit_65", argv)


if __name__ == "__main__":
    sys.exit(main())
