"""(67)-(68): e^{-beta H(0)}/Z_0 is the stationary state of the local equation for every Gamma.

Physics: the local map acts on qubit 1 only, is H_loc-covariant and obeys detailed balance
U = e^{-beta h} D (C33), so it fixes e^{-beta H_loc}; [H_loc, H_int] = 0 makes that state commute with
H(eps).  Uniqueness needs eps > 0.
Code: symcoll.symbolic.coherence.local_map_symbolic, stationary_symbolic, stationary_numeric.
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation


def main(argv=None):
    from symcoll.symbolic.coherence import local_map_symbolic

    _, sy = local_map_symbolic(2)
    print("one-qubit coefficients of S(0):", sp.pretty(sy["G"]), " U =", sp.pretty(sy["U"]))
    return print_derivation("local_stationary_state", argv)


if __name__ == "__main__":
    sys.exit(main())
