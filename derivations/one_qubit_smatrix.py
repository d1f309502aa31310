"""(C3)-(C8), (C13)-(C15): the one-qubit s-matrix of Appendix C in closed form.

Physics: one qubit H = diag(0, h) (order (|0>, |1>)), V = sigma_x. For E > h both channels are open and
(C1) gives the 2x2 matrices (C4)-(C5) with c = (g/hbar) sqrt(m/2) [E(E-h)]^(-1/4) (C6). For 0 < E < h
the channel |1> is closed: its wave number is +i kappa (a wave decaying away from the scatterer), c^2
becomes imaginary (C8) and the elastic amplitudes (C7) keep all the flux. The transmitted amplitudes
t = K^(-1/2) s K^(1/2) are (C13)-(C14); the printed 't_01 = t_10' of (C14) is wrong (t_10/t_01 = k_0/k_1).

Steps: (1) K of (C3); (2) s^(+), s^(-) from (C1); (3) compare with (C4)-(C6), (C15); (4) the closed
channel; (5) the amplitudes t.

Code: symcoll.symbolic.scattering.smatrix_C1, one_qubit_block, c_one_qubit, c2_closed_one_qubit,
wave_number; checks: registered derivation 'one_qubit_smatrix' (derive_one_qubit).
Run: python derivations/one_qubit_smatrix.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation

from symcoll.symbolic import scattering as ss


def main(argv=None):
    x = sp.Symbol("x", positive=True)
    E = ss.h + x  # E > h
    k0, k1 = ss.wave_number(E), ss.wave_number(E - ss.h)
    print("E = h + x > h: K = diag(k_0, k_1) =")
    sp.pprint(sp.diag(k0, k1))
    s_p, s_m = ss.smatrix_C1([k0, k1], ss.SX, literal=True)
    print("\ns^(+)(E) from (C1), simplified:")
    sp.pprint(s_p.applyfunc(sp.simplify))
    print("\nc of (C6):")
    sp.pprint(ss.c_one_qubit(E))
    print("\n0 < E < h: the 2x2 block with the evanescent K_1 = +i kappa (z = E, y = h - E):")
    y, z = sp.symbols("y z", positive=True)
    sp.pprint(ss.one_qubit_block(ss.wave_number(z), ss.wave_number(-y)))
    print()
    return print_derivation("one_qubit_smatrix", argv)


if __name__ == "__main__":
    sys.exit(main())
