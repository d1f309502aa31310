"""Appendix C sum rule (C34)-(C39) = (66), and the index misprint of (63).

Physics: at eps -> 0 the collision acts on qubit 1 only, with amplitudes (C30)-(C31) of c_+-(p) (C32).
Summing the map over input populations weighted by e^{-beta eps_j} collects, for outputs j', k' in one
band, the same-band term (C34), the excitation from the band below (C35) and the decay from the band
above (C36); (C33) moves the last two between the variables c_- and c_+, and the transmitted (C37) and
reflected (C38) integrands add to 1 on every piece, so (C39)/(66) hold.  (C37)-(C38) are printed
'with the zero energy at eps_j'' (DIFFERS-BY-CONVENTION).  (63) prints S_{jj}^{j'k'}: evaluated on the
N = 2 local map it is not the thermal state, (66)'s S^{jj}_{j'k'} is (MISPRINT).
Code: symcoll.symbolic.sumrules.appendix_c_ledger, sum_rule_numeric, printed_63_numeric, derive_sum_rule.
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation


def main(argv=None):
    from symcoll.symbolic.sumrules import _appc_amplitudes

    cp, cm = sp.symbols("c_p c_m", positive=True)
    print("transmission matrix (C30), Appendix C order (|1>, |0>):\n" + sp.pretty(_appc_amplitudes(cp, cm, cm**2)))
    print("reflection (C31) = (C30) - I")
    return print_derivation("sum_rule_C39", argv)


if __name__ == "__main__":
    sys.exit(main())
