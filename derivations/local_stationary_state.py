import sys

from symcoll.derive import run_script

sys.exit(run_script("local_stationary_state"))
