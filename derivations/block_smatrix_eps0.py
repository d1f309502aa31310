"""Derivation script: runs the registered derivation 'block_smatrix_eps0' (see README_derivations.md)."""
import sys

from symcoll.derive import run_script

if __name__ == "__main__":
    sys.exit(run_script("block_smatrix_eps0"))
