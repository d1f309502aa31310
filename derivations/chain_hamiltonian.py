"""(47), (64): the chain Hamiltonian H(eps) = H_loc + eps H_int.

Physics: H_loc = sum_i h (sigma_z^(i) + I)/2 counts excitations (energy n h); H_int moves an excitation
between neighbours, sigma_+^(i) sigma_-^(i+1) + h.c. The printed '+ c.c.' (complex conjugate) is wrong:
sigma_+ (x) sigma_- is a real matrix, so H would not be Hermitian. With the paper's ladder
sigma_pm = sigma_x pm i sigma_y = 2|1><0| the hopping is 4 eps; with unit ladders (symcoll's 'unit') eps.
[H_loc, H_int] = 0, so the spectrum splits in bands of binomial(N, n) states.

Code: symcoll.symbolic.chain.h_loc, h_int, h_int_printed, h_int_from_paulis, h_loc_from_paulis,
hamiltonian; checks: registered derivation 'chain_hamiltonian' (derive_chain_hamiltonian).
Run: python derivations/chain_hamiltonian.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation

from symcoll.symbolic import chain as sc


def main(argv=None):
    print("H(eps) of (64), N = 2, paper ladder, local basis |00>, |01>, |10>, |11>:")
    sp.pprint(sc.hamiltonian(2))
    print("\nwith the printed '+ c.c.' (not Hermitian):")
    sp.pprint(sc.h_int_printed(2))
    print()
    return print_derivation("chain_hamiltonian", argv)


if __name__ == "__main__":
    sys.exit(main())
