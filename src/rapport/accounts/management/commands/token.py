from django.core.management.base import BaseCommand, CommandError

from rapport.accounts import services
from rapport.accounts.models import User


class Command(BaseCommand):
    help = "Create an API token: `rapport token create --email E` prints it (shown once)."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["create"])
        parser.add_argument("--email", required=True)
        parser.add_argument("--name", default="command line")

    def handle(self, *args, **options):
        user = User.objects.filter(email=options["email"].strip().lower(), is_active=True).first()
        if user is None:
            raise CommandError(f"no active user with email {options['email']!r}")
        issued = services.token_create(user=user, name=options["name"])
        self.stdout.write(issued.raw)
