"""Derivation script: runs the registered derivation 'flux_unitarity_symmetry' (see README_derivations.md)."""
import sys

from symcoll.derive import run_script

if __name__ == "__main__":
    sys.exit(run_script("flux_unitarity_symmetry"))
