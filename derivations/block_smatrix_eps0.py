"""(C9)-(C17), (C24)-(C28): the N-qubit s-matrix at eps = 0 as one-qubit blocks at shifted energies.

Physics: at eps = 0, H = H_loc is diagonal in the local basis |s1 ... sN> and V = sigma_x^(1) flips only
the first qubit, so (C1) splits into 2x2 blocks coupling |0 r> (energy n_r h) and |1 r> (energy
(n_r + 1) h), each the one-qubit s-matrix at the shifted energy E - n_r h. In the eigenbasis of H, with
the incoming state at eps_j, the column s1 = 0 has its partner at eps_j + h (c_-) and the column s1 = 1
at eps_j - h (c_+): (C24)-(C28). Printed (C24)-(C26) write hbar where the qubit energy h is meant.
(C10)-(C12) print the incident wave as e^{-ikx} (coming from the right); the matching solution for that
direction gives the same amplitudes. (C29) is printed empty.

Steps: (1) the block form vs (C1) for N = 1, 2, 3; (2) thresholds (C9), (C16); (3) (C10)-(C12) by
matching from the right; (4) amplitudes (C13), (C17), (C24)-(C26); (5) c_pm of (C25); (6) (C27)-(C28)
from symcoll's Piecewise block s-matrix.

Code: symcoll.symbolic.scattering.block_smatrix_k, block_smatrix_eps0, pairs, c_pm_E, matching_solution;
checks: registered derivation 'block_smatrix_eps0' (derive_block).
Run: python derivations/block_smatrix_eps0.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation

from symcoll.symbolic import scattering as ss


def main(argv=None):
    print("Local-basis pairs (|0 r>, |1 r>, n_r) coupled by sigma_x^(1), N = 2:", ss.pairs(2))
    print("\nN = 2 s^(+) at eps = 0 in band wave numbers k_n = sqrt(2m(E - n h))/hbar (local basis):")
    sp.pprint(ss.block_smatrix_k(2))
    print("\nc_- and c_+ of (C25) (with h; the printed hbar is a misprint):")
    sp.pprint(ss.c_pm_E(-1, ss.E, sp.Symbol("epsilon_j")))
    sp.pprint(ss.c_pm_E(+1, ss.E, sp.Symbol("epsilon_j")))
    print()
    return print_derivation("block_smatrix_eps0", argv)


if __name__ == "__main__":
    sys.exit(main())
