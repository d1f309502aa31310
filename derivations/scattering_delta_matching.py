"""(C1)-(C2): the s-matrices of the delta interaction (65) from the matching conditions.

Physics: a particle of mass m hits the system H at x = 0 through g V delta(x). Away from x = 0 each
channel |j> is a plane wave with wave number k_j = sqrt(2m(E - eps_j))/hbar. The wave function is
continuous at 0 and its derivative jumps by (2 m g/hbar^2) V psi(0). Solving these 2d linear equations
for the transmitted (t) and reflected (r) amplitudes and normalising by the flux (s_kj = sqrt(k_k/k_j)
amplitude_k) gives (C1) s^(+) = K^(1/2)[I + i m g/hbar^2 K^-1 V]^-1 K^(-1/2) and (C2) s^(-) = s^(+) - I.

Steps: (1) the matching conditions for d = 2 channels, generic real symmetric V; (2) their solution;
(3) the flux-normalised s-matrix beside the printed (C1); (4) d = 3 with exact rationals; (5) which
channels are open (the text after (C2) prints 'eps_j > E').

Code: symcoll.symbolic.scattering.matching_solution, matched_smatrix, smatrix_C1; the checks are the
registered derivation 'scattering_delta_matching' (derive_delta_matching).
Run: python derivations/scattering_delta_matching.py [--latex]
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation

from symcoll.symbolic import scattering as ss


def main(argv=None):
    ks = sp.symbols("k0:2", positive=True)
    v00, v01, v11 = sp.symbols("v00 v01 v11", real=True)
    V = sp.Matrix([[v00, v01], [v01, v11]])
    t = sp.Matrix(sp.symbols("t0:2"))
    r = sp.Matrix(sp.symbols("r0:2"))
    e0 = sp.Matrix([1, 0])
    K = sp.diag(*ks)
    print("Matching conditions at x = 0, incident in channel 0 (continuity; derivative jump):")
    sp.pprint(sp.Eq(e0 + r, t))
    sp.pprint(sp.Eq(sp.I * K * t - (sp.I * K * e0 - sp.I * K * r), 2 * ss.m * ss.g / ss.hbar**2 * V * t))
    tt, rr = ss.matching_solution(ks, V, 0)
    print("\nTransmitted amplitudes t (incident in channel 0):")
    sp.pprint(tt.applyfunc(sp.simplify))
    S_p, _ = ss.matched_smatrix(ks, V)
    print("\ns^(+) from the matching solution (flux normalised), entry (1, 0):")
    sp.pprint(sp.simplify(S_p[1, 0]))
    print("\nprinted (C1) K^(1/2)[I + i m g/hbar^2 K^-1 V]^-1 K^(-1/2), entry (1, 0):")
    sp.pprint(sp.simplify(ss.smatrix_C1(ks, V, literal=True)[0][1, 0]))
    print()
    return print_derivation("scattering_delta_matching", argv)


if __name__ == "__main__":
    sys.exit(main())
