"""Derivation script: runs the registered derivation 'scattering_delta_matching' (see README_derivations.md)."""
import sys

from symcoll.derive import run_script

if __name__ == "__main__":
    sys.exit(run_script("scattering_delta_matching"))
