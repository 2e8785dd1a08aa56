"""Measure the insights models on public data sets with published results.

Usage: python benchmarks/insights_public.py [--datasets ../shared/datasets] [--quick] [--only KIND]

Prints one table: dataset, task, metric, figure, published reference, seconds.
"""

from __future__ import annotations

import argparse
import importlib
import pathlib

from rapport.insights.ml.evaluate import KINDS

COLUMNS = ("dataset", "task", "metric", "figure", "reference", "seconds")


def main() -> None:
    parser = argparse.ArgumentParser()
    default = pathlib.Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
    parser.add_argument("--datasets", type=pathlib.Path, default=default)
    parser.add_argument("--quick", action="store_true", help="small samples, for a smoke run")
    parser.add_argument("--only", choices=KINDS, action="append")
    args = parser.parse_args()
    rows: list[dict] = []
    for kind in args.only or KINDS:
        module = importlib.import_module(f"rapport.insights.ml.evaluate.{kind}")
        rows.extend(module.benchmark_rows(args.datasets, args.quick))
    table = [[str(row.get(col, "")) for col in COLUMNS] for row in rows]
    widths = [max(len(c), *(len(r[i]) for r in table)) for i, c in enumerate(COLUMNS)]
    print("  ".join(c.ljust(w) for c, w in zip(COLUMNS, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for r in table:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)))


if __name__ == "__main__":
    main()
