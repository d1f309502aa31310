"""Appendix A of the paper, Eqs. (A1)-(A7): matrices of generalized local operators.

Physics.  If the chain Hamiltonian splits as H = H_loc + H_int with [H_loc, H_int] = 0 (A1), an
eigenvector |j> of H is also an eigenvector of H_loc ((A2)-(A3)): it lives inside one band of
H_loc (n excitations, eps^(0)_j = n h).  Hence <s|j> = 0 unless eps^(0)_s = eps^(0)_j, and for
any function f

    f(eps^(0)_j) <s|j> = f(eps^(0)_s) <s|j>.                         (A4), corrected

The paper prints a complex conjugate on the right-hand side of (A4) (and on the left only of
(A5)); that is right only for real f.  An operator defined in the eigenbasis by
<j'|L|j> = lambda(eps^(0)_j', eps^(0)_j) <j'|L^(1) x I|j> (A6) then has, in the local basis,

    <s'|L|s> = lambda(eps^(0)_s', eps^(0)_s) <s'_1|L^(1)|s_1> delta_{s'_2 s_2} ... delta_{s'_N s_N}   (A7)

i.e. it is local in the generalized sense (10).  The same step turns the eigenbasis Kraus
operators (57)-(59) of the eps -> 0 map into the local-basis matrices (60)-(62).

Steps (code: symcoll.symbolic.appendices.derive_generalized_local):
1. exact eigenvectors of the chain (64) for N = 2, 3 (band blocks of H_int, sqrt(2) for N = 3)
   -- chain_eigenbasis(N); a generic commuting pair on two qubits -- generic_commuting_pair();
2. (A1)-(A3) as matrix identities; (A4)-(A5) with a generic complex f (printed form vs the
   corrected one) and with a real f;
3. (A7): U (Lambda o U^dag (L^(1) x I) U) U^dag for generic complex L^(1) and lambda against the
   printed right-hand side -- eigen_to_local_A7, printed_A7;
4. (57)-(59) rotated to the local basis and compared with (60)-(62).

Run:  python derivations/generalized_local_A.py [--latex]
"""
import sys

import sympy as sp

from symcoll.symbolic import appendices as A

from symcoll.derive import print_derivation


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    fmt = sp.latex if "--latex" in argv else sp.pretty
    U, eps0, lams = A.chain_eigenbasis(3)
    print("Chain (64), N = 3, paper ladder: eigenvectors |j> (columns, local basis |s1 s2 s3>, qubit 1 first)")
    print(fmt(U))
    print("eps^(0)_j =", eps0, "   H_int eigenvalues lambda_j =", lams)
    print("\n(A6) with a generic one-qubit L^(1) =")
    print(fmt(A.L1))
    U2, e2, _ = A.chain_eigenbasis(2)
    print("\nN = 2: local-basis matrix of the operator (A6), derived = U (Lambda o U^dag (L^(1) x I) U) U^dag:")
    print(fmt(A.eigen_to_local_A7(U2, e2).applyfunc(sp.expand)))
    print("\nprinted (A7): lambda(eps^(0)_s', eps^(0)_s) <s'_1|L^(1)|s_1> delta ...:")
    print(fmt(A.printed_A7(2)))
    print()
    return print_derivation("generalized_local_A", argv)


if __name__ == "__main__":
    sys.exit(main())
