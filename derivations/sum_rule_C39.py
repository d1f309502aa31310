import sys

from symcoll.derive import run_script

sys.exit(run_script("sum_rule_C39"))
