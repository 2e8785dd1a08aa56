"""Every kind of event is declared once, in its app's events.py, and written by its builder."""

from __future__ import annotations

import importlib
import pathlib
import re

from rapport.config.domains import RAPPORT_APPS
from rapport.core import registry
from rapport.core.events import EventKind

SRC = pathlib.Path(__file__).resolve().parents[2]


def test_events_are_built_only_in_events_modules():
    """Services call builders; NewEvent(...) and kind literals live in the events modules."""
    offenders = []
    for path in (SRC / "rapport").rglob("*.py"):
        if path.name == "events.py" or "tests" in path.parts or "ml" in path.parts:
            continue
        for number, line in enumerate(path.read_text().splitlines(), start=1):
            if re.search(r"\bNewEvent\(|\bkind=f?\"", line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []


def test_every_declared_kind_is_registered_once():
    declared: list[EventKind] = []
    for app in RAPPORT_APPS:
        try:
            module = importlib.import_module(f"{app}.events")
        except ModuleNotFoundError:
            continue
        declared += [v for v in vars(module).values() if isinstance(v, EventKind)]
    names = [kind.name for kind in declared]
    assert len(names) == len(set(names)), "two kinds share a name"
    assert set(names) <= set(registry.event_kinds())


def test_timeline_partials_exist():
    from django.template.loader import get_template

    for kind in registry.event_kinds().values():
        if kind.timeline:
            get_template(kind.timeline)
