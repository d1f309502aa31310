"""Energy conservation of the scattering: the particles lose Tr[H_scatt (S - I) rho] per collision (issue 14).

Physics: (C1) (K = sqrt(2m(E - H))) and (B3) give every open channel l the wave number k_l = sqrt(2m(E - eps_l)), so a particle entering
channel j with kinetic energy E_p leaves channel j' with E_p + eps_j - eps_j' (eps_l: levels of H_scatt, H(eps) for
the exact (38) and global (45) maps, H(0) for the local map (54)-(56)).  The outgoing energy density of (38) with
k' = j' (the (B2)-(B3) reading) weighted by that kinetic energy, plus flux unitarity (C1)-(C2) pointwise in p, give
<K_in> - <K_out> = sum_j' eps_j' S^{jk}_{j'j'} - eps_j delta_jk = Tr[H_scatt (S - I)|j><k|]; by linearity the heat
Q_i = Gamma_i Tr[H_scatt (S_i - I) rho] of symcoll.transport is what the particles of reservoir i actually lose.
Numeric: the outgoing kinetic energy integrated directly (mpmath.quad, 20 digits) vs the entries of (38).
Code: symcoll.symbolic.energy (channel_energies, population_identity, coherence_identity, kinetic_energy_loss,
derive_energy_conservation).
"""
import sys

import sympy as sp

from symcoll.derive import print_derivation


def main(argv=None):
    from symcoll.symbolic.energy import coherence_identity, mean_incoming_energy, population_identity

    der, tgt = population_identity(3, 1)
    print("input |1><1|, particle's loss (trace preservation imposed):\n" + sp.pretty(der))
    print("Tr[H (S - I)|1><1|]:\n" + sp.pretty(tgt))
    out, tgt = coherence_identity(3)
    print("input |j><k|, outgoing kinetic energy density (flux unitarity imposed):\n" + sp.pretty(out))
    print("mean kinetic energy of the effusion flux (40): " + sp.sstr(mean_incoming_energy()))
    return print_derivation("energy_conservation", argv)


if __name__ == "__main__":
    sys.exit(main())
