"""Appendix B of the paper, Eqs. (B1)-(B3): Kraus operators of the exact map in the outgoing energy.

Physics.  Write the incident state as a mixture of pure states,
rho_U(p, p'') = int dp0 mu(p0) phi(p; p0) phi(p''; p0)^*  (B1).  Inserting it in (37) and
comparing with the Kraus form (18) gives one Kraus operator per (alpha, p0, E_out):

  <j'|M|j> = int_0^oo dp sqrt(p mu/m) phi(p) delta(p^2/2m - Delta_j'j - E_out) s_j'j(p^2/2m + eps_j)   (B2)
           = sqrt(m mu) Theta(Delta_j'j + E_out) [2m(Delta_j'j + E_out)]^(-1/4)
             phi(sqrt(2m(Delta_j'j + E_out))) s_j'j(E_out + eps_j')                                  (B3)

E_out is the kinetic energy of the outgoing particle: the delta has its root at
p = sqrt(2m(Delta_j'j + E_out)) with Jacobian m/p.

Steps (code: symcoll.symbolic.appendices.derive_kraus_B):
1. (B1) as a two-term mixture; sum over p0 and int_0^oo dE_out of <j'|M|j><k'|M|k>^* with (B2):
   the two delta functions combine to delta(E_p - E_p'' - Delta_j'j + Delta_k'k) Theta(E_p - Delta_j'j),
   the integrand of (37) on its stated range;
2. (B2) -> (B3) by SymPy's delta integration (and Theta = 0 when Delta_j'j + E_out < 0);
3. the Kraus sum in the variable p (dE_out = p dp/m) is the integrand of (38), with pi(p) and p_inf;
4. trace preservation: at fixed total energy the Kraus matrix is s C with C diagonal, so
   sum M^dag M = C^dag (sum_alpha s^dag s) C = |C|^2 by flux conservation (C2), and
   int dE_tot |c_j|^2 = int dp mu |phi|^2 -> Tr rho_U = 1;
5. (B1) needs rho_U >= 0: the Gaussian state (41) on p > 0 has a negative 2x2 minor (p' -> 0).

Run:  python derivations/kraus_outgoing_energy_B.py [--latex]
"""
import sys

import sympy as sp

from symcoll.symbolic import appendices as A

from symcoll.derive import print_derivation


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    fmt = sp.latex if "--latex" in argv else sp.pretty
    integrand = (sp.sqrt(A.p * A.mu / A.m) * A.phi(A.p) * sp.DiracDelta(A.p**2 / (2 * A.m) - A.D1 - A.E_out)
                 * A.s_f(A.p**2 / (2 * A.m) + A.e_j))
    print("(B2) integrand in p:")
    print(fmt(integrand))
    res, printed = A.kraus_B2_integrated()
    print("\n(B2) integrated by SymPy, with w = Delta_j'j + E_out > 0:")
    print(fmt(res))
    print("\n(B3) as printed:")
    print(fmt(A.kraus_B3_printed()))
    R, closed, _ = A.gaussian_rhoU_minor_ratio()
    print("\n(41): |rho_U(p,p')|^2 / (rho_U(p,p) rho_U(p',p')) =")
    print(fmt(closed))
    print()
    return print_derivation("kraus_outgoing_energy_B", argv)


if __name__ == "__main__":
    sys.exit(main())
