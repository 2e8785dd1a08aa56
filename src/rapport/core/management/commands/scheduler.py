import datetime as dt
import time

from django.core.management.base import BaseCommand
from django.utils import timezone

from rapport.core.registry import periodic_jobs


class Command(BaseCommand):
    help = "Enqueue periodic jobs when they fall due (run one scheduler per installation)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="enqueue everything due, exit")

    def handle(self, *args, **options):
        last_run: dict[str, dt.datetime] = {}
        while True:
            now = timezone.now()
            for job in periodic_jobs():
                name = job.task.module_path
                if name not in last_run or now - last_run[name] >= job.every:
                    job.task.enqueue()
                    last_run[name] = now
                    self.stdout.write(f"{now:%Y-%m-%d %H:%M} enqueued {name}")
            if options["once"]:
                return
            time.sleep(30)
