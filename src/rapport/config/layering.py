"""The import rules of the house, generated from the list of apps and checked by import-linter.

``python -m rapport.config.layering`` writes the contracts to ``var/importlinter.ini`` and runs
``lint-imports`` on them (``make lint`` does this). The rules:

1. Inside each app, imports run one way down the skeleton:
   ``rapport_app → urls → api | views | tasks | management | imports → forms → services →
   inputs → selectors → search → events → models`` (``imports`` is an app's import adapter:
   an entry point like a page, called by dataio's pipeline through the registry).
2. ``core`` imports no domain app.
3. An app uses another only if its ``AppConfig.depends_on`` names it, and then only through
   that app's services, selectors, inputs and events: never its models, pages or API.
4. ``insights.ml`` is plain Python: no Django.

Only ``rapport.config`` (the composition root) and the ``rapport`` console script may import
anything.
"""

from __future__ import annotations

import importlib
import inspect
import pathlib
import sys

from django.apps import AppConfig

from rapport.config.domains import RAPPORT_APPS

LAYERS = [
    "rapport_app",
    "urls",
    "api | views | tasks | management | imports",
    "forms",
    "services",
    "inputs",
    "selectors",
    "search",
    "events",
    "models",
]
# What another app may use of a dependency. Everything else of it is private.
PUBLIC_MODULES = ("services", "selectors", "inputs", "events", "search")
# Exceptions, each with its reason. Keep this short.
IGNORED_IMPORTS = {
    # The benchmark generator writes a million rows straight into the tables, which is the
    # point of it; the demo and every other path go through services.
    "rapport.dataio.seed -> rapport.accounts.models": "bulk loader",
    "rapport.dataio.seed -> rapport.contacts.models": "bulk loader",
}
# Tests set up data and look at rows directly, in any app.
TESTS_MAY_IMPORT_ANYTHING = True


def app_configs() -> dict[str, type[AppConfig]]:
    """Each app's AppConfig class, found without setting Django up."""
    configs = {}
    for name in RAPPORT_APPS:
        module = importlib.import_module(f"{name}.apps")
        found = [obj for obj in vars(module).values()
                 if inspect.isclass(obj) and issubclass(obj, AppConfig) and obj is not AppConfig
                 and obj.__module__ == module.__name__]
        if len(found) != 1:
            raise SystemExit(f"{name}.apps must define exactly one AppConfig")
        configs[name] = found[0]
    return configs


def contracts() -> list[dict[str, object]]:
    configs = app_configs()
    domain = [name for name in RAPPORT_APPS if name != "rapport.core"]
    labels = {name: config.label for name, config in configs.items()}
    by_label = {label: name for name, label in labels.items()}
    out: list[dict[str, object]] = [
        {"name": "Inside each app, imports run down the skeleton", "type": "layers",
         "containers": domain, "layers": [_optional(layer) for layer in LAYERS]},
        {"name": "core imports no domain app", "type": "forbidden",
         "source_modules": ["rapport.core"], "forbidden_modules": domain,
         "ignore_imports": ["rapport.core.tests.** -> rapport.**"],
         "unmatched_ignore_imports_alerting": "none"},
        {"name": "insights.ml is plain Python: no Django", "type": "forbidden",
         "source_modules": ["rapport.insights.ml"], "forbidden_modules": ["django", "ninja"],
         "allow_indirect_imports": "true"},
    ]
    for name in domain:
        allowed = set()
        for label in getattr(configs[name], "depends_on", ()):
            if label not in by_label:
                raise SystemExit(f"{name}: depends_on names {label!r}, which is not an app")
            allowed.add(by_label[label])
        forbidden: list[str] = []
        for other in domain:
            if other == name:
                continue
            if other in allowed:
                forbidden += [f"{other}.{part}" for part in _private_parts(other)]
            else:
                forbidden.append(other)
        if not forbidden:
            continue
        contract: dict[str, object] = {
            "name": f"{labels[name]} uses only {', '.join(sorted(labels[a] for a in allowed))
                                               or 'core'} (services, selectors, inputs, events)",
            "type": "forbidden", "source_modules": [name], "forbidden_modules": forbidden,
            "allow_indirect_imports": "true",
        }
        ignored = [line for line in IGNORED_IMPORTS if line.startswith(f"{name}.")]
        if TESTS_MAY_IMPORT_ANYTHING:
            ignored.append(f"{name}.tests.** -> rapport.**")
        contract["ignore_imports"] = ignored
        contract["unmatched_ignore_imports_alerting"] = "none"
        out.append(contract)
    return out


def _optional(layer: str) -> str:
    return " | ".join(f"({part.strip()})" for part in layer.split("|"))


def _private_parts(app: str) -> list[str]:
    """An app's modules that other apps may not import (what exists of them)."""
    package = importlib.import_module(app)
    root = pathlib.Path(package.__file__).parent
    parts = []
    for path in sorted(root.iterdir()):
        stem = path.stem if path.suffix == ".py" else path.name
        if stem.startswith("_") or stem in ("tests", "templates", "static", "migrations"):
            continue
        if (path.suffix == ".py" or (path / "__init__.py").exists()) and \
                stem not in PUBLIC_MODULES:
            parts.append(stem)
    return parts


def render(items: list[dict[str, object]]) -> str:
    lines = ["[importlinter]", "root_packages =", "    rapport", "include_external_packages = True",
             ""]
    for i, contract in enumerate(items, start=1):
        lines.append(f"[importlinter:contract:{i}]")
        for key, value in contract.items():
            if isinstance(value, list):
                lines.append(f"{key} =")
                lines.extend(f"    {item}" for item in value)
            else:
                lines.append(f"{key} = {value}")
        lines.append("")
    return "\n".join(lines)


def main() -> int:
    target = pathlib.Path("var") / "importlinter.ini"
    target.parent.mkdir(exist_ok=True)
    target.write_text(render(contracts()))
    from importlinter.cli import lint_imports

    return lint_imports(config_filename=str(target), no_cache=True)


if __name__ == "__main__":
    sys.exit(main())
