from django.core.management.base import BaseCommand, CommandError

from rapport.dataio.demo import demo_load


class Command(BaseCommand):
    help = "Load a small bakery with two years of customers and orders, and print the login."

    def add_arguments(self, parser):
        parser.add_argument("--if-empty", action="store_true",
                            help="do nothing when the database already has contacts")
        parser.add_argument("--seed", type=int, default=1)
        parser.add_argument("--size", type=float, default=1.0,
                            help="scale the number of individual customers (default 1: ~500)")

    def handle(self, *args, **options):
        try:
            report = demo_load(seed=options["seed"], if_empty=options["if_empty"],
                               size=options["size"],
                               log=self.stdout.write if options["verbosity"] > 1
                               else (lambda _: None))
        except ValueError as error:
            raise CommandError(str(error)) from None
        if not report.loaded:
            self.stdout.write("The database already has contacts; demo data not loaded.")
            return
        self.stdout.write(self.style.SUCCESS(
            f"Loaded the demo bakery: {report.contacts} people, {report.companies} companies, "
            f"{report.products} products, {report.orders} orders, "
            f"{report.interactions} conversations, {report.tasks} open tasks, "
            f"{report.leads} leads, {report.deals} deals, "
            f"{report.tickets} tickets, {report.articles} help articles, "
            f"{report.events} events."))
        self.stdout.write(f"Open {report.url} and log in as {report.login_email} "
                          f"with password {report.password}")
