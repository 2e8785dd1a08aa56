from django.core.management.base import BaseCommand, CommandError

from rapport.core.audit import AnchorError, read_anchor, write_anchor
from rapport.core.events import verify_chain
from rapport.core.services import erase_subject


class Command(BaseCommand):
    help = ("The tamper-evident audit log: `rapport audit verify [--anchor FILE ...]`, "
            "`rapport audit anchor`, `rapport audit erase --contact ID` (docs/audit.md).")

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "anchor", "erase"])
        parser.add_argument("--anchor", action="append", default=[], metavar="FILE",
                            help="verify: also prove nothing up to this signed anchor was "
                                 "removed or rewritten (repeatable)")
        parser.add_argument("--contact", type=int, help="erase: the person whose personal "
                                                        "values to erase from the log")

    def handle(self, *args, **options):
        action = options["action"]
        if action == "anchor":
            anchor = write_anchor()
            assert anchor is not None
            self.stdout.write(f"wrote {anchor.path} (entry {anchor.seq}, {anchor.hash})")
            return
        if action == "erase":
            if options["contact"] is None:
                raise CommandError("erase needs --contact ID")
            erased = erase_subject(contact_id=options["contact"])
            self.stdout.write(f"erased the personal values of {erased} entries of contact "
                              f"{options['contact']}")
            return
        try:
            anchors = [read_anchor(path) for path in options["anchor"]]
        except AnchorError as error:
            raise CommandError(str(error)) from error
        report = verify_chain(anchors=[a.point() for a in anchors])
        if report.ok:
            extra = f", {report.erased} erased" if report.erased else ""
            proved = f", {len(anchors)} anchor(s) hold" if anchors else ""
            self.stdout.write(f"OK: {report.checked} entries, chain intact{extra}{proved}")
            return
        where = f"entry {report.broken_event_id}" if report.broken_event_id else "chain head"
        raise CommandError(f"BROKEN at {where} after {report.checked} good entries: "
                           f"{report.reason}")
