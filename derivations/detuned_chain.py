"""(47), (64) with one qubit energy per site (issue 14): the detuned chain.

Physics: H_loc = sum_i h_i (sigma_z^(i) + I)/2. The excitation number still commutes with H_loc and
H_int, so H(eps) is block diagonal in the bands, but [H_loc, H_int]_ab = (E_a - E_b) (H_int)_ab is
nonzero once the sites differ: the eigenvectors depend on eps and the energies are not n h + eps lambda.
Two qubits: band 1 is [[h2, t eps], [t eps, h1]] with t = f^2 (4 for the paper's sigma_pm = sigma_x pm
i sigma_y, 1 for unit ladders), so E_pm = (h1+h2)/2 pm sqrt(((h1-h2)/2)^2 + (t eps)^2).

Code: symcoll.symbolic.chain.h_loc_detuned, hamiltonian_detuned, detuned_two_qubit_energies;
symcoll.QubitChain(N, h=[...], eps); checks: registered derivation 'detuned_chain' (derive_detuned_chain).
Run: python derivations/detuned_chain.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation
from symcoll.symbolic import chain as sc


def main(argv=None):
    h1, h2 = sc.site_energies(2)
    print("H(eps) of two detuned qubits, paper ladder (local basis |00>, |01>, |10>, |11>):")
    sp.pprint(sc.hamiltonian_detuned(2, [h1, h2]))
    for ladder in ("paper", "unit"):
        print(f"\nclosed-form energies, {ladder} ladder:")
        sp.pprint(sc.detuned_two_qubit_energies(ladder))
    print()
    return print_derivation("detuned_chain", argv)


if __name__ == "__main__":
    sys.exit(main())
