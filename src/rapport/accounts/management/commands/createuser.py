import secrets

from django.core.management.base import BaseCommand, CommandError

from rapport.accounts import services
from rapport.core.errors import ValidationFailed
from rapport.core.permissions import ROLES


class Command(BaseCommand):
    help = "Create a user: `rapport createuser --email E --role R` prints the password."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=ROLES)
        parser.add_argument("--team", default=None)
        parser.add_argument("--first-name", default="")
        parser.add_argument("--last-name", default="")
        parser.add_argument("--password", default=None, help="default: a generated one")

    def handle(self, *args, **options):
        password = options["password"] or secrets.token_urlsafe(12)
        try:
            user = services.user_create(
                email=options["email"], role=options["role"], password=password,
                team_name=options["team"], first_name=options["first_name"],
                last_name=options["last_name"])
        except ValidationFailed as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"email: {user.email}\nrole: {user.role}\npassword: {password}")
