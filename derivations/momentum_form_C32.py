"""Derivation script: runs the registered derivation 'momentum_form_C32' (see README_derivations.md)."""
import sys

from symcoll.derive import run_script

if __name__ == "__main__":
    sys.exit(run_script("momentum_form_C32"))
