"""The sum in (35) is O(eps): first-order coherences are O(Gamma), not O(Gamma/eps).

Physics: [H_loc, H_int] = 0, so the eigenvectors of H(eps) do not depend on eps and the levels are
n h + eps lambda exactly; at eps = 0 the sum X_jk of (35) is the off-diagonal of (66), i.e. 0; on the
exact map (38) X_12 ~ i C eps, so rho^(1)_12 = -i X/Delta_12 has a finite limit.
Code: symcoll.symbolic.coherence.band_perturbation, coherence_sweep (20 digits), derive_coherence.
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation


def main(argv=None):
    from symcoll.symbolic import chain as schain

    print("H(eps) for N = 2 (47)/(64):\n" + sp.pretty(sp.Matrix(schain.hamiltonian(2))))
    return print_derivation("coherence_order_eps", argv)


if __name__ == "__main__":
    sys.exit(main())
