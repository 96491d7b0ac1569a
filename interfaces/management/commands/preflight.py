"""Fail fast, with a message saying what to fix, when the database or broker cannot be reached."""

from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import connections

from interfaces.health import check_broker


def _describe_database() -> str:
    db = settings.DATABASES["default"]
    if db["ENGINE"].endswith("sqlite3"):
        return f"SQLite file {db['NAME']}"
    return f"PostgreSQL {db.get('USER') or '?'}@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{db['NAME']}"


class Command(BaseCommand):
    help = "Check that the database and the Celery broker answer before starting."

    def add_arguments(self, parser):
        parser.add_argument("--skip-broker", action="store_true")

    def handle(self, *args, **options):
        try:
            connections["default"].ensure_connection()
        except Exception as exc:
            raise CommandError(
                f"Cannot connect to the database ({_describe_database()}): {str(exc).strip().splitlines()[0]}\n"
                "Fix DATABASE_URL (postgres://USER:PASSWORD@HOST:PORT/NAME or sqlite:////path/file.sqlite3) "
                "or, without it, POSTGRES_HOST/PORT/DB/USER/PASSWORD; or start the database server."
            ) from None
        if not options["skip_broker"]:
            result = check_broker()
            if not result["ok"]:
                broker = urlsplit(settings.CELERY_BROKER_URL)
                raise CommandError(
                    f"Cannot reach the Celery broker at {broker.scheme}://{broker.hostname or ''}:{broker.port or ''} "
                    f"({result['error']}). Fix REDIS_URL / CELERY_BROKER_URL or start Redis."
                )
        self.stdout.write(self.style.SUCCESS(f"Database ({_describe_database()}) and broker answer."))
