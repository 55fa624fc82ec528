"""Execute every notebook in notebooks/ top to bottom with nbclient, each in a fresh temporary
directory (its data are made there by the medida commands it runs); fail on any error.

    python tests/notebooks/run_notebooks.py [--medida PATH] [--keep DIR]

The medida binary: --medida, else $MEDIDA_BIN, else target/release/medida, else target/debug/medida.
--keep DIR writes the executed notebooks (with outputs) there.
"""
import argparse
import os
import pathlib
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

ROOT = pathlib.Path(__file__).resolve().parents[2]


def find_medida(given):
    for candidate in [given, os.environ.get("MEDIDA_BIN"), ROOT / "target/release/medida", ROOT / "target/debug/medida"]:
        if candidate and pathlib.Path(candidate).is_file():
            return str(pathlib.Path(candidate).resolve())
    sys.exit("no medida binary: build it (cargo build --release) or pass --medida")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--medida")
    ap.add_argument("--keep", type=pathlib.Path)
    args = ap.parse_args()
    os.environ["MEDIDA_BIN"] = find_medida(args.medida)
    notebooks = sorted((ROOT / "notebooks").glob("*.ipynb"))
    assert notebooks, "no notebooks"
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        t0 = time.time()
        with tempfile.TemporaryDirectory() as work:
            NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": work}}).execute()
        print(f"ok  {path.relative_to(ROOT)}  ({time.time() - t0:.1f} s)")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, args.keep / path.name)


if __name__ == "__main__":
    main()
