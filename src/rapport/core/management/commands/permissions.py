from django.core.management.base import BaseCommand

from rapport.core.permissions import SCOPES, resources, role_table_markdown


class Command(BaseCommand):
    help = "Print who may do what: every permission the apps declare, with each role's scope."

    def add_arguments(self, parser):
        parser.add_argument("--markdown", action="store_true",
                            help="the table with the notes, as docs/permissions.md holds it")

    def handle(self, *args, **options):
        if not options["markdown"]:
            self.stdout.write(role_table_markdown())
            return
        lines = [
            "# Who may do what",
            "",
            "Generated from the policy the apps declare (`rapport permissions --markdown`); a "
            "test fails when this page and the code disagree.",
            "",
            f"Scopes: **own** — records the user owns; **team** — records owned by anyone in "
            f"the user's team (just their own without a team); **all** — every record; "
            f"**—** — not at all. ({', '.join(SCOPES)})",
            "",
            role_table_markdown(),
            "",
            "What each resource covers:",
            "",
        ]
        lines += [f"- `{r.name}`: {r.description or r.label}" for r in resources()]
        self.stdout.write("\n".join(lines))
