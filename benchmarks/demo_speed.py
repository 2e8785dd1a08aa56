"""How long ``rapport demo`` takes, and how much of it is the sales side.

Usage:
    python benchmarks/demo_speed.py --database-url sqlite:////tmp/rapport_bench/demo.sqlite3
    python benchmarks/demo_speed.py --database-url postgres://postgres@127.0.0.1:5432/rb_demo

Migrates an empty database, loads the demo (seed 1) as ``rapport demo`` does and prints one
table: the whole load and its sales part (web form, rules, leads, the trade-fair import,
conversions, deals and their history: ``dataio/demo_sales.py``), each in wall-clock seconds
and CPU seconds of this process, with the load average while it ran. On a shared machine the
wall clock follows the neighbours; the CPU seconds much less.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
import tempfile
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from foundation_speed import _setup_django  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    home = pathlib.Path(tempfile.mkdtemp(prefix="rapport-demo-bench-"))
    _setup_django(args.database_url, home)
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)
    from rapport.contacts.selectors import contacts_exist
    from rapport.dataio import demo, demo_sales

    if contacts_exist():
        raise SystemExit("the database is not empty: give a fresh one")
    spent: dict[str, tuple[float, float]] = {}
    inner = demo_sales.sales_demo

    def timed_sales(**kwargs):
        wall, cpu = time.perf_counter(), time.process_time()
        try:
            return inner(**kwargs)
        finally:
            spent["sales"] = (time.perf_counter() - wall, time.process_time() - cpu)

    demo_sales.sales_demo = timed_sales  # demo_load imports it when it gets there
    loads = [os.getloadavg()[0]]
    wall, cpu = time.perf_counter(), time.process_time()
    report = demo.demo_load(seed=args.seed)
    total = (time.perf_counter() - wall, time.process_time() - cpu)
    loads.append(os.getloadavg()[0])
    engine = "PostgreSQL" if args.database_url.startswith("postgres") else "SQLite"
    rows = [("the whole demo", *total),
            (f"of which sales ({report.leads} leads, {report.deals} deals)", *spent["sales"]),
            ("the rest (people, orders, activities…)", total[0] - spent["sales"][0],
             total[1] - spent["sales"][1])]
    print(f"\n| part ({engine}) | wall s | CPU s |")
    print("|---|---|---|")
    for what, seconds, cpu_seconds in rows:
        print(f"| {what} | {seconds:.1f} | {cpu_seconds:.1f} |")
    print(f"\nload average (1 min) before and after: {', '.join(f'{x:.2f}' for x in loads)}; "
          f"{os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
