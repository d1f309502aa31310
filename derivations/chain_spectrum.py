"""Derivation script: runs the registered derivation 'chain_spectrum' (see README_derivations.md)."""
import sys

from symcoll.derive import run_script

if __name__ == "__main__":
    sys.exit(run_script("chain_spectrum"))
