"""Shared by the cross-check scripts: write a reference file, or compare a fresh run with the
committed one (`--check`)."""
import argparse

import numpy as np


def check_flag(doc):
    """Parses the command line of a reference script (its docstring's first line as description)."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--check", action="store_true",
                    help="compare a fresh run with the committed file instead of writing it")
    return ap.parse_args().check


def write_or_check(path, fresh, check, compare, what):
    """`fresh` maps names to arrays. Without `check`, writes them to `path`. With it, compares each
    with the committed array by `compare(name, fresh, committed) -> (ok, detail)`, prints a line per array
    and a verdict, and returns the exit code."""
    if not check:
        np.savez(path, **fresh)
        print(f"wrote {path} ({path.stat().st_size} bytes)")
        return 0
    ref = np.load(path)
    failed = 0
    for k, v in fresh.items():
        ok, detail = compare(k, v, ref[k])
        failed += not ok
        print(f"{'ok  ' if ok else 'FAIL'} {k}: {detail}")
    print(f"{'FAILED' if failed else 'passed'}: committed {what} {'differs from' if failed else 'matches'} a fresh run")
    return 1 if failed else 0
