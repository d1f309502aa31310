"""(64), Fig. 1: band-1 spectrum of the chain and its exact degeneracies.

Physics: band 1 of H_int is t times the adjacency matrix of the path graph (t = 4 with the paper's ladder,
1 with unit ladders); its characteristic polynomial is the Chebyshev U_N(x/2), so the one-excitation
energies are h + 2 t eps cos(k pi/(N+1)). Repeated roots of a band's characteristic polynomial are exact
degeneracies at every eps (N = 4: the double level 2h). No printed formula: each check is an identity.

Code: symcoll.symbolic.chain.band_block, band1_energies, exact_degeneracies; checks: registered
derivation 'chain_spectrum' (derive_chain_spectrum).
Run: python derivations/chain_spectrum.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation

from symcoll.symbolic import chain as sc


def main(argv=None):
    print("band-1 block of H_int, N = 4, paper ladder:")
    sp.pprint(sc.band_block(4, 1))
    print("\nband-1 energies, N = 4:")
    sp.pprint(sc.band1_energies(4))
    print("\n" + sc.describe_degeneracies(4))
    print()
    return print_derivation("chain_spectrum", argv)


if __name__ == "__main__":
    sys.exit(main())
