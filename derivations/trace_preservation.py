"""Trace preservation sum_j' S^{jk}_{j'j'} = delta_jk of the collisional map (38).

Physics: with k' = j' both s-matrices of (38) are evaluated at the same total energy, so the sum over
outputs is the flux-unitarity sum s^dag s = I of (C1)-(C2); only the normalised diagonal of rho_U enters.
Code: symcoll.symbolic.balance.trace_preservation_structure, derive_trace_preservation.
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation


def main(argv=None):
    from symcoll.symbolic.balance import trace_preservation_structure

    r = trace_preservation_structure()
    print("s+^dag s+ + s-^dag s- - I for (C4)-(C5):\n" + sp.pretty(r["flux_open"]))
    return print_derivation("trace_preservation", argv)


if __name__ == "__main__":
    sys.exit(main())
