"""Identity (C33): int_0^oo mu_eff f(c_+) dp = e^{+beta h} int_sqrt(2mh)^oo mu_eff f(c_-) dp, any f.

Physics: c_+(p) belongs to a qubit that starts excited (kinetic energy p^2/2m, total p^2/2m + h);
c_-(p') to one that starts in |0> with the excitation channel open (p'^2/2m >= h).  Energy
conservation p'^2 = p^2 + 2mh maps one onto the other; the Boltzmann factor of the effusion
distribution (40) produces e^{+beta h}.  Steps: substitute p = sqrt(p'^2 - 2mh), show
c_+(p) = c_-(p'), p dp = p' dp', compare the factor with the printed e^{+beta h} and the lower
limit with the printed sqrt(2 m hbar) (a misprint: hbar is not an energy); then 30-digit checks.
Code: symcoll.symbolic.sumrules.c33_substitution, c33_numeric, derive_c33.
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation


def main(argv=None):
    from symcoll.symbolic.sumrules import c33_substitution, c_pm_sym, mu_eff_sym, p, pp

    print("c_+(p) =", sp.pretty(c_pm_sym(+1, p)), "\nc_-(p) =", sp.pretty(c_pm_sym(-1, p)))
    print("mu_eff(p) (40):\n" + sp.pretty(mu_eff_sym(p)))
    r = c33_substitution()
    print("[mu_eff(p) dp/dp'] / mu_eff(p') after p = sqrt(p'^2 - 2mh):", sp.pretty(r["factor"]))
    return print_derivation("identity_C33", argv)


if __name__ == "__main__":
    sys.exit(main())
