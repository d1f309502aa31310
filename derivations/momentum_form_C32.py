"""(C30)-(C32), (C33), (40), (55), (59), (62): the s-matrix as a function of the incident momentum p.

Physics: with E = p^2/2m + eps_j, c_pm of (C25) become c_pm(p) = (g m/hbar)[p sqrt(p^2 pm 2 m h)]^(-1/2)
(C32); the up-transition channel opens at E_p = h, i.e. p = sqrt(2 m h), the lower limit of the integrals
(55), (59), (62), (C33) (printed sqrt(2 m hbar)). Below that threshold c_-(p)^2 is imaginary (C31), as
in (C8). mu_eff of (40) is normalised.

Code: symcoll.symbolic.scattering.c_pm_E, c_pm_p, mu_eff; checks: registered derivation
'momentum_form_C32' (derive_momentum).
Run: python derivations/momentum_form_C32.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation

from symcoll.symbolic import scattering as ss


def main(argv=None):
    print("c_+(p), c_-(p) of (C32), corrected (2 m h):")
    sp.pprint(ss.c_pm_p(+1))
    sp.pprint(ss.c_pm_p(-1))
    print("\nthreshold of the up-transition: E_p = h  =>  p =", sp.solve(sp.Eq(ss.p**2 / (2 * ss.m), ss.h), ss.p))
    print("\nmu_eff(p) of (40):")
    sp.pprint(ss.mu_eff())
    print()
    return print_derivation("momentum_form_C32", argv)


if __name__ == "__main__":
    sys.exit(main())
