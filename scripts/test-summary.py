#!/usr/bin/env python3
"""Sum the BRAID_RESULT lines of meson test logs into one total.

Each test program prints "BRAID_RESULT suite=<name> passed=P failed=F".
A test that printed none (crash, timeout, sanitizer abort before the end)
counts as one failed test; a test that printed failed=0 but exited
non-zero (e.g. a sanitizer report at exit) counts one more failure.
Usage: test-summary.py LABEL=build/meson-logs/testlog.json [...]
Prints a line per suite and, last, "N passed, N failed".
"""
import json
import re
import sys

RESULT = re.compile(r"BRAID_RESULT suite=(\S+) passed=(\d+) failed=(\d+)")


def main(argv):
    total_p = total_f = 0
    for arg in argv[1:]:
        label, _, path = arg.partition("=")
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                lines = [json.loads(l) for l in f if l.strip()]
        except OSError as e:
            print(f"{label}: no test log ({e})")
            total_f += 1
            continue
        for t in lines:
            name = t.get("name", "?")
            out = (t.get("stdout") or "") + (t.get("stderr") or "")
            res = t.get("result", "?")
            found = RESULT.findall(out)
            if not found:
                print(f"{label}/{name}: no result line ({res}) -> 1 failed")
                total_f += 1
                continue
            p = sum(int(x[1]) for x in found)
            fl = sum(int(x[2]) for x in found)
            if res not in ("OK", "EXPECTEDFAIL") and fl == 0:
                fl = 1
                print(f"{label}/{name}: exited {res} after reporting success -> 1 failed")
            print(f"{label}/{name}: {p} passed, {fl} failed")
            total_p += p
            total_f += fl
    print(f"{total_p} passed, {total_f} failed")
    return 0 if total_f == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
