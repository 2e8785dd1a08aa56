import os
import signal
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from rapport.core import registry


class Command(BaseCommand):
    help = "Run Rapport on one machine: web server, a background worker and the scheduler."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=os.cpu_count() or 2,
                            help="web worker processes (default: one per core)")
        parser.add_argument("--threads", type=int, default=8,
                            help="threads per worker: requests waiting on the database or the "
                                 "network don't hold a whole process")

    def handle(self, *args, **options):
        call_command("migrate", interactive=False, verbosity=0)
        call_command("collectstatic", interactive=False, verbosity=0)
        env = {**os.environ}
        helpers = [
            subprocess.Popen([sys.executable, "-m", "rapport.cli", "worker"], env=env),
            subprocess.Popen([sys.executable, "-m", "rapport.cli", "scheduler"], env=env),
        ]
        for extra in registry.processes():
            self.stdout.write(f"Starting {extra.name}: rapport {' '.join(extra.argv)}")
            helpers.append(subprocess.Popen([sys.executable, "-m", "rapport.cli",
                                             *extra.argv], env=env))
        self.stdout.write(f"Rapport is running on http://{options['host']}:{options['port']}/ "
                          "(Ctrl+C to stop)")
        web = subprocess.Popen([
            sys.executable, "-m", "gunicorn", "rapport.config.wsgi:application",
            "--bind", f"{options['host']}:{options['port']}",
            "--workers", str(options["workers"]), "--worker-class", "gthread",
            "--threads", str(options["threads"]), "--access-logfile", "-",
            "--graceful-timeout", "10",
        ], env=env)
        try:
            web.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for process in [web, *helpers]:
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            for process in [web, *helpers]:
                try:
                    process.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    process.kill()
