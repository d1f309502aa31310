"""Symbolic layer: SymPy derivations tied to the paper's equations.

Modules register their derivations with :func:`symcoll.derive.derivation`;
``symcoll verify`` runs them all.
"""
