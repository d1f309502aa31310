"""(C18)-(C23): transmission amplitudes in the eigenbasis of H at eps -> 0 (N = 2).

Physics: [H_loc, H_int] = 0, so each eigenvector |j> of H lies in one band (C18). At eps = 0 every local
state of that band has the same wave number, so the incident wave e^{-ik_j x}|j> (C19) is the
superposition (C20) of local plane waves; each is transmitted as in (C11)-(C12), and recombining
(C21)-(C22) gives t_kj = <k|[[t_11, t_10], [t_01, t_00]] (x) I|j> (C23), where c depends on s1 (column
s1 = 0 couples to the band above, s1 = 1 to the band below). Independent check: the printed matrix form
solves the matching conditions written directly in the eigenbasis.

Code: symcoll.symbolic.amplitudes.eigenvectors_eps0; checks: registered derivation
'eigenbasis_amplitudes_C23' (derive_eigenbasis).
Run: python derivations/eigenbasis_amplitudes_C23.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation

from symcoll.symbolic import amplitudes as am


def main(argv=None):
    U, bands, lams = am.eigenvectors_eps0(2)
    print("N = 2: eigenvectors of H(eps) (columns; local basis |00>, |01>, |10>, |11>):")
    sp.pprint(U)
    print("bands:", bands, " H_int eigenvalues (paper ladder):", lams)
    print()
    return print_derivation("eigenbasis_amplitudes_C23", argv)


if __name__ == "__main__":
    sys.exit(main())
