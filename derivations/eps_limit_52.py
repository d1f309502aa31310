"""(52)-(53): the collision tensor (38) with a local s-matrix (50) and the selection (48).

Physics: (50) writes s = <j'|A (x) I|j>; between states of one band only the diagonal part of A
survives, between neighbouring bands only a_+- sigma_+-/2 (sigma_pm = sigma_x pm i sigma_y = 2|.><.|,
hence the 1/4 of (53)); (48) kills pairs with different band changes.  Checked for every index
quadruple of N = 2 and 3 with symbolic amplitudes.
Code: symcoll.symbolic.coherence.eps_limit_52, derive_eps_limit.
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation


def main(argv=None):
    from symcoll.symbolic.coherence import _paper_ladder

    sp_, sm_ = _paper_ladder(1)
    print("sigma_+ and sigma_- of the paper, local order (|0>, |1>):\n" + sp.pretty(sp_) + "\n" + sp.pretty(sm_))
    return print_derivation("eps_limit_52", argv)


if __name__ == "__main__":
    sys.exit(main())
