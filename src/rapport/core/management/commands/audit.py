from django.core.management.base import BaseCommand, CommandError

from rapport.core.events import verify_chain


class Command(BaseCommand):
    help = "Check the tamper-evident audit log: `rapport audit verify`."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify"])

    def handle(self, *args, **options):
        report = verify_chain()
        if report.ok:
            self.stdout.write(f"OK: {report.checked} entries, chain intact")
            return
        where = f"entry {report.broken_event_id}" if report.broken_event_id else "chain head"
        raise CommandError(f"BROKEN at {where} after {report.checked} good entries: "
                           f"{report.reason}")
