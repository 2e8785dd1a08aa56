import datetime as dt

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from rapport.dataio.seed import seed_run


class Command(BaseCommand):
    help = ("Fill the database with a generated business of any size, for benchmarks: "
            "`rapport seed --contacts 1000000 --companies 50000`.")

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, required=True)
        parser.add_argument("--companies", type=int, default=None,
                            help="default: one per 20 contacts")
        parser.add_argument("--events-per-contact", type=float, default=5.0,
                            help="average timeline length, creation included (default 5)")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--as-of", type=dt.date.fromisoformat, default=None,
                            help="last day of the generated history (default: today)")
        parser.add_argument("--owner-password", default=None,
                            help="password for owner@seed.example.com (default: none)")
        parser.add_argument("--no-migrate", action="store_true")

    def handle(self, *args, **options):
        if options["contacts"] < 0:
            raise CommandError("--contacts must be at least 0")
        companies = options["companies"]
        if companies is None:
            companies = options["contacts"] // 20
        if not options["no_migrate"]:
            call_command("migrate", interactive=False, verbosity=0)
        verbose = options["verbosity"] > 1
        try:
            report = seed_run(
                contacts=options["contacts"], companies=companies,
                events_per_contact=options["events_per_contact"], seed=options["seed"],
                as_of=options["as_of"], owner_password=options["owner_password"],
                log=self.stdout.write if verbose else (lambda _: None),
            )
        except ValueError as error:
            raise CommandError(str(error)) from None
        steps = ", ".join(f"{k} {v}s" for k, v in report.steps.items())
        self.stdout.write(
            f"Seeded {report.contacts:,} contacts, {report.companies:,} companies, "
            f"{report.contact_tags:,} contact tags, {report.events:,} events "
            f"for {report.users} users in {report.seconds}s ({steps})")
