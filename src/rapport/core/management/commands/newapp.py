"""`rapport newapp NAME`: a new domain app with the house's skeleton, ready to fill in."""

import pathlib

from django.core.management.templates import TemplateCommand

TEMPLATE = pathlib.Path(__file__).resolve().parents[2] / "app_template"
SRC = pathlib.Path(__file__).resolve().parents[3]


class Command(TemplateCommand):
    help = ("Start a domain app from Rapport's skeleton (models, inputs, events, selectors, "
            "services, api, views, urls, rapport_app, tests). See docs/adding-an-app.md.")
    missing_args_message = "give the app's name, e.g. rapport newapp tickets"

    def add_arguments(self, parser):
        parser.add_argument("name", help="the app's name: lower case, a valid Python identifier")
        parser.add_argument("directory", nargs="?", help="where (default src/rapport/NAME)")
        parser.add_argument("--module", help="its dotted path (default rapport.NAME)")

    def handle(self, **options):  # type: ignore[override]  # our own arguments
        name, target = options.pop("name"), options.pop("directory")
        module = options.pop("module") or f"rapport.{name}"
        if target is None:
            target = SRC / name
            target.mkdir(parents=True, exist_ok=False)
        options.update(template=str(TEMPLATE), extensions=["py"], files=[], exclude=[],
                       app_module=module)
        super().handle("app", name, str(target), **options)
        self.stdout.write(
            f"Created {module} in {target}. Next:\n"
            f"  1. add \"{module}\" to RAPPORT_APPS in src/rapport/config/domains.py\n"
            f"  2. rename Thing, set depends_on in apps.py, grant its permissions\n"
            f"  3. rapport makemigrations {name} && make lint && make test\n")
