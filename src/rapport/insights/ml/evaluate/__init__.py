"""Bring-your-own-data evaluations behind `rapport insights evaluate KIND ...`.

Each module here (binary, text, forecast, clv, sentiment) exposes:

- ``register(parser: argparse.ArgumentParser) -> None``: adds its arguments;
- ``run(args: argparse.Namespace) -> dict``: returns the figures (JSON-serialisable), raising
  ``rapport.insights.ml.errors.InsufficientDataError`` or ``ValueError`` with a clear message
  on bad input;
- ``benchmark_rows(datasets_dir: pathlib.Path, quick: bool) -> list[dict]``: rows for the public
  benchmark table (keys: dataset, task, metric, figure, reference, seconds).
"""

KINDS = ("binary", "text", "forecast", "clv", "sentiment")
