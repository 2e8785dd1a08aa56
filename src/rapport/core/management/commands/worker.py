from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = ("Run background workers only (start several, on several machines). Uses RQ when "
            "REDIS_URL is set, else the task table in the database.")

    def add_arguments(self, parser):
        parser.add_argument("--max-tasks", type=int, default=None,
                            help="stop after this many tasks (database backend)")
        parser.add_argument("--burst", action="store_true",
                            help="stop when the queue is empty")

    def handle(self, *args, **options):
        if settings.REDIS_URL:
            burst = ["--burst"] if options["burst"] else []
            # RQ must build jobs with django-tasks-rq's Job class, which calls the Task.
            call_command("rqworker", "default", "--job-class", "django_tasks_rq.backend.Job",
                         *burst)
        else:
            extra: dict = {"max_tasks": options["max_tasks"]} if options["max_tasks"] else {}
            if options["burst"]:
                extra["batch"] = True
            call_command("db_worker", queue_name="default", no_startup_delay=True, **extra)
