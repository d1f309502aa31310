"""Flux unitarity and symmetry of the s-matrices (C1)-(C2), (C27)-(C28), needed by (42).

Physics: on the open channels, sum_{k, alpha} |s^(alpha)_kj|^2 = 1 (the flux is conserved) and
s_kj = s_jk (micro-reversibility, needed for detailed balance (42)). With M = K^(-1/2) V K^(-1/2) real
symmetric (all open), s^(+) = (I + i lam M)^-1 and A^dag A = I + lam^2 M^2 for A = I + i lam M prove both
for any number of channels; closed channels (K = i kappa) are checked for d = 2 (symbolic) and d = 3
(50 digits); the eps = 0 block s-matrix in every energy window between thresholds (N = 1..3).
No printed formula: each check is an identity (AGREES or FAIL).

Code: symcoll.symbolic.scattering.smatrix_C1, block_smatrix_k; checks: registered derivation
'flux_unitarity_symmetry' (derive_unitarity).
Run: python derivations/flux_unitarity_symmetry.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation

from symcoll.symbolic import scattering as ss


def main(argv=None):
    M01 = sp.Symbol("M01", real=True)
    M = sp.Matrix([[sp.Symbol("M00", real=True), M01], [M01, sp.Symbol("M11", real=True)]])
    A = sp.eye(2) + sp.I * ss.lam * M
    print("A = I + i lam M (M real symmetric); A^dag A - I =")
    sp.pprint((A.H * A - sp.eye(2)).expand())
    print("= lam^2 M^2:")
    sp.pprint((ss.lam**2 * M * M).expand())
    print()
    return print_derivation("flux_unitarity_symmetry", argv)


if __name__ == "__main__":
    sys.exit(main())
