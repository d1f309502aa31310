"""Kraus operators (57)-(59) of the local map, their local-basis form (60)-(62) and the dissipator.

Physics: (56) is a rank-one tensor, so M_- = sqrt(mu)/2 a_- sigma_- (58) is its Kraus operator; in the
local basis (61) the 1/2 cancels the 2 of sigma_- and a_-(E_p + eps_j^(0)) = a_-(E_p + n h).  Flux
unitarity of (C30)-(C31) gives sum M^dag M = mu_eff(p) I at every p, hence completeness and the
Lindblad form of Gamma (S(0) - I) used in (67).  The range sqrt(2 m hbar) of (59)/(62) is a misprint.
Code: symcoll.symbolic.coherence.kraus_local, kraus_completeness, derive_local_kraus.
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation


def main(argv=None):
    from symcoll.symbolic.coherence import kraus_local

    k = kraus_local(2)
    print("M_- of (58) in the eigenbasis of H (N = 2):\n" + sp.pretty(k["Mm"]))
    return print_derivation("local_kraus_58_61", argv)


if __name__ == "__main__":
    sys.exit(main())
