"""Detailed balance (42)-(43) => (30) and the misprinted last term of (43).

Physics: the transition probability S^{jj}_{j'j'} (42) involves only the diagonal rho_U(p,p) = mu_eff(p)
(40); the substitution p = sqrt(p'^2 + 2m Delta_{j'j}) turns it into e^{-beta Delta_{j'j}} times the
reverse probability, given micro-reversibility s_{j'j} = s_{jj'}.  The printed last term S^{j'j'}_{jj'}
is a coherence output; the exact map of one qubit shows the correction S^{j'j'}_{jj} (MISPRINT).
Code: symcoll.symbolic.balance.detailed_balance_substitution, misprint_43_numeric, derive_detailed_balance.
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation


def main(argv=None):
    from symcoll.symbolic.balance import detailed_balance_substitution

    r = detailed_balance_substitution()
    print("integrand of (42):\n" + sp.pretty(r["integrand42"]))
    print("printed integrand of (43):\n" + sp.pretty(r["target43"]))
    return print_derivation("detailed_balance", argv)


if __name__ == "__main__":
    sys.exit(main())
