#!/usr/bin/env python3
"""Run unit-test binaries one after another and print a closing tally.

Each binary is a cmocka suite; its own output (cmocka's [  PASSED  ] lines)
is passed through. The script exits non-zero if any suite fails, and ends
with the plain line 'N passed, N failed' counted over test cases.
"""
import argparse
import re
import shlex
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--label", default="unit")
    ap.add_argument("--wrapper", default="")
    ap.add_argument("bins", nargs="*")
    a = ap.parse_args()
    passed = failed = 0
    bad = []
    for b in a.bins:
        cmd = shlex.split(a.wrapper) + [b]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        out = p.stdout
        sys.stdout.write(out)
        m = re.search(r"\[  PASSED  \] (\d+) test", out)
        n_ok = int(m.group(1)) if m else 0
        m = re.search(r"\[  FAILED  \] (\d+) test", out)
        n_bad = int(m.group(1)) if m else 0
        if p.returncode != 0 and n_bad == 0:
            n_bad = 1  # crashed, leaked (valgrind) or aborted
        if n_ok == 0 and n_bad == 0:
            n_bad = 1  # a suite that ran nothing is a failure
        passed += n_ok
        failed += n_bad
        if p.returncode != 0 or n_bad:
            bad.append(f"{b} (exit {p.returncode})")
    print(f"{a.label}: {passed} passed, {failed} failed")
    if bad:
        print("failing suites: " + ", ".join(bad))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
