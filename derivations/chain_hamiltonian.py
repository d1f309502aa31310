"""Derivation script: runs the registered derivation 'chain_hamiltonian' (see README_derivations.md)."""
import sys

from symcoll.derive import run_script

if __name__ == "__main__":
    sys.exit(run_script("chain_hamiltonian"))
