"""(39): S^{jk}_{j'k'} = [S^{kj}_{k'j'}]^* from (38) by the change of variable p' = pi(p).

Physics: exchanging (j, j') with (k, k') flips the sign of delta = Delta_{j'j} - Delta_{k'k}; conjugating
and substituting p = pi(q) = sqrt(q^2 - 2m delta) swaps the two energies of (38), turns sqrt(p/pi) dp
into sqrt(q/pi(q)) dq and, with a Hermitian rho_U, gives back (38); the lower limits map onto each other.
Code: symcoll.symbolic.balance.hermiticity_substitution, hermiticity_numeric, derive_hermiticity.
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation


def main(argv=None):
    from symcoll.symbolic.balance import hermiticity_substitution

    r = hermiticity_substitution()
    print("integrand of (38) for S^{jk}_{j'k'}:\n" + sp.pretty(r["integrand38"]))
    return print_derivation("hermiticity_39", argv)


if __name__ == "__main__":
    sys.exit(main())
