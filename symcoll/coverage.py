"""Coverage of the paper's numbered equations by symcoll's derivations (issue 13).

Every numbered equation of the paper is either **checked** -- some :class:`~symcoll.derive.Check`
of a registered derivation carries its label (ranges such as ``"(C34)-(C37)"`` count for every
equation in them) -- or listed in :data:`NOT_CHECKABLE` with the reason it is not checked.
"Checked" is read from the Check objects of finished derivations, never from what a derivation
declares it covers.

Scope (the reading of issue 13, "every numbered equation ... that symcoll uses or that the paper
derives in Sec. II-V and Appendices A, B and C"): all of Secs. II-V, (1)-(46), and Appendices A,
B and C, (A1)-(A7), (B1)-(B3), (C1)-(C39); and Sec. VI, (47)-(75), because symcoll uses every
one of them (the model (47)/(64)/(65), the maps (50)-(62), the claims (63), (66)-(70) and the
observables (71)-(75)).  No equation is dropped from the table: Sec. VI's numerical ones carry a
reason (they are checked numerically by the test suite, not by a derivation).  :data:`PAPER_EQUATIONS`
was read from the paper's text (``\\quad (n)`` / ``\\tag{Cn}`` markers): 75 + 7 + 3 + 39 = 124 labels.

>>> expand_labels("(C34)-(C37)")
['(C34)', '(C35)', '(C36)', '(C37)']
>>> expand_labels("(54)-(56), (67)")
['(54)', '(55)', '(56)', '(67)']
>>> expand_labels("Fig. 1")
[]
"""
from __future__ import annotations

import re
from dataclasses import dataclass

#: Sections of the paper and their numbered equations (read from the paper's text).
SECTIONS = (
    ("II", "CPTP maps and Lindblad equations", [f"({i})" for i in range(1, 9)]),
    ("III", "Local and global maps", [f"({i})" for i in range(9, 27)]),
    ("IV", "Thermalization", [f"({i})" for i in range(27, 36)]),
    ("V", "Collisional reservoirs", [f"({i})" for i in range(36, 47)]),
    ("VI", "Case study: locally bombarded qubit chains", [f"({i})" for i in range(47, 76)]),
    ("A", "Appendix A: matrices of generalized local operators", [f"(A{i})" for i in range(1, 8)]),
    ("B", "Appendix B: Kraus operators of the exact scattering map", [f"(B{i})" for i in range(1, 4)]),
    ("C", "Appendix C: scattering map for eps = 0", [f"(C{i})" for i in range(1, 40)]),
)

#: Every numbered equation in the scope of the coverage table, in the paper's order.
PAPER_EQUATIONS = tuple(label for _, _, labels in SECTIONS for label in labels)
SECTION_OF = {label: sec for sec, _, labels in SECTIONS for label in labels}

_GEN = "a general statement about arbitrary CPTP maps / Lindblad equations (Secs. II-IV), not specific to the model"

#: Equations not checked by a derivation, each with the specific reason.
NOT_CHECKABLE = {
    # added when the appendix and scattering derivations were merged (issue 13)
    "(A6)": "a definition (the class of generalized local operators); it is the hypothesis of the (A7) checks of "
            "generalized_local_A, which derive its local-basis form",
    "(B1)": "a definition (the diagonalisation of rho_U); the hypothesis of the (B2)-(B3) checks of "
            "kraus_outgoing_energy_B -- and (41) admits no such positive mixture (README_derivations, item 14)",
    "(C19)": "a definition (the incident wave e^{-i k_j x}|j>); its decomposition (C20) is checked in "
             "eigenbasis_amplitudes_C23",
    "(C29)": "printed empty: an equation number with no content (README_derivations, item 4)",
    # Sec. II
    "(1)": "a definition: the Kraus representation of a CPTP map",
    "(2)": "a definition: the outcome probability p_l of a Kraus measurement",
    "(3)": "a definition: the post-measurement state",
    "(4)": "a definition: the Kraus operators of a map close to the identity (first order in Delta t)",
    "(5)": "a definition: the jump Kraus operators sqrt(Gamma Delta t) L_l",
    "(6)": "a definition: the general Lindblad equation; symcoll builds the Poissonian form (7)/(71) instead",
    "(7)": "not a derivation of symcoll: the superoperator of (7)/(71) is tested entrywise against "
           "-i[H, rho] + Gamma(S - I)rho in tests/test_dynamics.py::test_superoperator_is_eq71_entrywise (numeric)",
    "(8)": "an approximation to first order in Delta t (the '~' of sqrt(1 - Gamma Delta t)), an interpretation of (7)",
    # Sec. III
    "(10)": "a definition: generalized local operators (used in Appendix A, (A6)-(A7))",
    "(11)": "a definition: strictly local operators",
    "(12)": "a definition: the repeated-interaction Hamiltonian (not the collisional model symcoll implements)",
    "(13)": "a definition: the repeated-interaction map (not used by symcoll)",
    "(14)": "an approximation (tau -> 0 with g = nu sqrt(tau) fixed) of a general unitary, not used by symcoll",
    "(15)": "an approximation of (13) to order tau in the repeated-interaction scheme, not used by symcoll",
    "(16)": "a definition of Gamma in the repeated-interaction scheme (symcoll's Gamma is the collision rate of (7))",
    "(17)": "a definition: the components S^{jk}_{j'k'} of a map (symcoll's tensor layout, DESIGN.md)",
    "(18)": "a definition: the map tensor from Kraus operators; used by symcoll.dynamics.kraus_map (numeric tests)",
    "(19)": "a definition: incoherent operations (IO)",
    "(20)": "a general form of IO Kraus operators (cited from Ref. [34]), " + _GEN,
    "(21)": "a definition: translation-invariant operations (TIO)",
    "(22)": "a general consequence of (21) for any TIO map, " + _GEN,
    "(23)": "a general form of TIO Kraus operators (cited from Ref. [33]), " + _GEN,
    "(24)": "a general property of the TIO Kraus operators (23), " + _GEN,
    "(25)": "a definition: thermal operations (not the collisional map symcoll implements)",
    "(26)": "a definition: the thermal state of the environment",
    # Sec. IV
    "(27)": "the general Lindblad equation (6) in the eigenbasis for diagonal rho, " + _GEN,
    "(28)": "a definition: transition rates of a general Lindblad equation",
    "(29)": "a definition: the detailed-balance condition for the rates (28); "
            "symcoll checks the collisional form (30)",
    "(31)": "a definition: the expansion of the stationary state in powers of Gamma; the expansion is tested "
            "numerically in tests/test_dynamics.py::test_perturbative_coherences_eq35",
    "(32)": "zeroth order of the perturbative expansion of a general Lindblad equation, " + _GEN,
    "(33)": "first order of the perturbative expansion of a general Lindblad equation, " + _GEN,
    "(34)": "the diagonal of (33), a rate equation for general L_l, " + _GEN,
    # Sec. V
    "(44)": "a definition: the narrow-packet limit of rho_U(p, pi(p))",
    "(45)": "not checked by a derivation: (38) with (44) substituted; symcoll implements it as the global map "
            "(symcoll.maps, kind='global'), tested numerically (tests/test_dynamics.py::test_global_map_no_coherences)",
    "(46)": "not checked by a derivation: a Kraus representation of (45) (the narrow-packet Kraus operators), "
            "not used by symcoll, which builds the map tensor (45) directly",
    # Sec. VI
    "(48)": "an approximation with order symbols ('o(h)', 'o(eps)'), a modelling assumption, not an identity",
    "(49)": "an approximation ('S ~ 0 if ... of order h'), a consequence of the assumption (48), not an identity",
    "(50)": "a modelling assumption (a local s-matrix); its bookkeeping is checked under the labels (51), (53), "
            "(60) by local_map_labels",
    "(69)": "a definition: the exact Lindblad equation (the same generator as (7)/(71))",
    "(70)": "an asymptotic statement in Gamma (o(Gamma)); tested numerically (D/Gamma -> const, i.e. O(Gamma), "
            "README_derivations.md 'Discrepancies found (issue 5)') in "
            "tests/test_dynamics.py::test_exact_map_steady_state_order_gamma_eq70",
    "(71)": "a definition: the Lindblad equation of the numerical section (built and tested numerically, "
            "tests/test_dynamics.py::test_superoperator_is_eq71_entrywise)",
    "(72)": "a definition: the Gibbs state (tested numerically against scipy expm in "
            "tests/test_observables.py::test_gibbs_state_eq72_against_expm)",
    "(73)": "a definition: the local thermal state (tested in tests/test_observables.py::test_local_thermal_state_eq73)",
    "(74)": "a definition: the first-band population (tested in tests/test_observables.py::test_band_ratio_eq74)",
    "(75)": "a definition: the effective inverse temperature (tested in "
            "tests/test_observables.py::test_beta_eff_eq75_of_gibbs_is_beta)",
    # Appendix C
}

_LABEL = re.compile(r"\(([ABC]?)(\d+)\)")
_RANGE = re.compile(r"\(([ABC]?)(\d+)\)\s*[-\u2013]\s*\(([ABC]?)(\d+)\)")


def expand_labels(text: str) -> list:
    """The equation labels named in ``text``: ``"(C34)-(C37)"`` -> ``['(C34)', ..., '(C37)']``.

    A range needs the same prefix on both ends (``(A..)``, ``(B..)``, ``(C..)`` or none) and an
    increasing number; otherwise (or for text such as ``"Fig. 1"``) only the labels written are returned.
    """
    out, pos = [], 0
    text = str(text)
    for m in _RANGE.finditer(text):
        out += [f"({a}{n})" for a, n in _LABEL.findall(text[pos:m.start()])]
        p1, n1, p2, n2 = m.group(1), int(m.group(2)), m.group(3), int(m.group(4))
        if p1 == p2 and n1 <= n2:
            out += [f"({p1}{i})" for i in range(n1, n2 + 1)]
        else:
            out += [f"({p1}{n1})", f"({p2}{n2})"]
        pos = m.end()
    out += [f"({a}{n})" for a, n in _LABEL.findall(text[pos:])]
    seen = []
    for lab in out:
        if lab not in seen:
            seen.append(lab)
    return seen


@dataclass
class Row:
    """One line of the coverage table."""

    label: str
    section: str
    verdicts: dict          # {verdict: count} over the checks carrying this label (empty if unchecked)
    derivations: list       # names of the derivations whose checks carry the label
    reason: str             # NOT_CHECKABLE reason ("" if checked or uncovered)

    @property
    def status(self) -> str:
        if self.verdicts:
            return "checked"
        return "not checked" if self.reason else "UNCOVERED"


def checked_labels(derivations) -> dict:
    """``{label: [(derivation name, verdict), ...]}`` from the Checks of finished derivations."""
    out = {}
    for d in derivations:
        for c in d.checks:
            for lab in expand_labels(c.equation):
                out.setdefault(lab, []).append((d.name, c.verdict))
    return out


def coverage(derivations, equations=PAPER_EQUATIONS, reasons=None) -> list:
    """One :class:`Row` per equation of ``equations`` (default every numbered equation in scope)."""
    from .derive import VERDICTS

    reasons = NOT_CHECKABLE if reasons is None else reasons
    found = checked_labels(derivations)
    rows = []
    for lab in equations:
        hits = found.get(lab, [])
        counts = {v: sum(1 for _, w in hits if w == v) for v in VERDICTS if any(w == v for _, w in hits)}
        names = list(dict.fromkeys(n for n, _ in hits))
        rows.append(Row(lab, SECTION_OF.get(lab, "?"), counts, names, "" if hits else reasons.get(lab, "")))
    return rows


def uncovered(derivations, equations=PAPER_EQUATIONS, reasons=None) -> list:
    """Labels neither checked by a Check nor given a reason in :data:`NOT_CHECKABLE`."""
    return [r.label for r in coverage(derivations, equations, reasons) if r.status == "UNCOVERED"]


def stale_reasons(derivations, reasons=None) -> list:
    """Labels that have a NOT_CHECKABLE reason although a Check now carries them (the reason is obsolete)."""
    reasons = NOT_CHECKABLE if reasons is None else reasons
    found = checked_labels(derivations)
    return [lab for lab in reasons if lab in found]


def other_labels(derivations) -> list:
    """Check labels that name no numbered equation of the scope (e.g. ``"Fig. 1"``, ``"(derivation)"``)."""
    labels = []
    for d in derivations:
        for c in d.checks:
            if not any(lab in SECTION_OF for lab in expand_labels(c.equation)) and c.equation not in labels:
                labels.append(c.equation)
    return labels


def format_table(rows, markdown: bool = False) -> str:
    """The coverage table as Markdown (``markdown=True``) or plain text, plus a one-line total."""
    def verdicts(r):
        return ", ".join(f"{n} {v}" for v, n in r.verdicts.items())

    lines = []
    if markdown:
        lines += ["| equation | section | status | verdicts of its checks | derivations | reason not checked |",
                  "|---|---|---|---|---|---|"]
        for r in rows:
            lines.append(f"| {r.label} | {r.section} | {r.status} | {verdicts(r)} | {', '.join(r.derivations)} "
                         f"| {r.reason.replace('|', '/')} |")
    else:
        for r in rows:
            what = verdicts(r) + "  [" + ", ".join(r.derivations) + "]" if r.verdicts else r.reason
            lines.append(f"{r.label:<7} {r.section:<3} {r.status:<11} {what}")
    n = {s: sum(r.status == s for r in rows) for s in ("checked", "not checked", "UNCOVERED")}
    lines.append(("\n" if markdown else "") + f"coverage: {len(rows)} equations: {n['checked']} checked, "
                 f"{n['not checked']} not checked (reason given), {n['UNCOVERED']} uncovered"
                 + (f": {', '.join(r.label for r in rows if r.status == 'UNCOVERED')}" if n["UNCOVERED"] else ""))
    return "\n".join(lines)
