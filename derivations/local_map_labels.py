"""(50), (51), (53), (60): the local s-matrix parametrisation and its labels.

Physics: (50) writes the eps -> 0 s-matrix as a 2x2 matrix on qubit 1 with a_+ at the upper right; with
the paper's sigma_+ = sigma_x + i sigma_y = 2|1><0| that matrix is in Appendix C order (|1>, |0>).
Expanding it in sigma_pm needs the factor 1/2 that (51) omits (the 1/4 of (53) is consistent with it);
its upper-left entry is the s1 = 1 amplitude 1/(1 + c_+^2) of (C27), labelled a_0, whereas (60) attaches
a_1 to s1 = 1 (labels swapped); and the text after (51) writes Delta_{j'j'} for Delta_{j'j}.

Code: symcoll.symbolic.scattering.block_smatrix_k, c_pm_E; symcoll.symbolic.chain.h_loc; checks:
registered derivation 'local_map_labels' (derive_local_labels).
Run: python derivations/local_map_labels.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation

from symcoll.symbolic import scattering as ss


def main(argv=None):
    sig_p = ss.SX_APPC + sp.I * ss.SY_APPC
    print("paper's sigma_+ = sigma_x + i sigma_y in Appendix C order (|1>, |0>):")
    sp.pprint(sig_p)
    a0, a1, ap, am = sp.symbols("a_0 a_1 a_+ a_-")
    print("\n(50):")
    sp.pprint(sp.Matrix([[a0, ap], [am, a1]]))
    print()
    return print_derivation("local_map_labels", argv)


if __name__ == "__main__":
    sys.exit(main())
