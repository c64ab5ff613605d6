"""Django's `migrate`, serialised on PostgreSQL: every instance runs it at start (`make serve`),
and two at once on one database fail half-way (both create the same tables)."""

from django.core.management.commands import migrate
from django.db import connections

# Any fixed number, the same in every release: "billing" in ASCII, within PostgreSQL's bigint.
MIGRATE_LOCK_KEY = 0x62696C6C696E67


class Command(migrate.Command):
    def handle(self, *args, **options):
        database = options["database"]
        if connections[database].vendor != "postgresql":
            return super().handle(*args, **options)
        # A connection of its own, so nothing the migrations do to theirs (commit, close)
        # can drop the lock; it is a session lock, released at the latest when this one closes.
        lock = connections.create_connection(database)
        try:
            with lock.cursor() as cursor:
                cursor.execute("SELECT pg_try_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
                if not cursor.fetchone()[0]:
                    self.stdout.write("Waiting for another migrate on this database to finish…")
                    cursor.execute("SELECT pg_advisory_lock(%s)", [MIGRATE_LOCK_KEY])
            try:
                return super().handle(*args, **options)
            finally:
                with lock.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_unlock(%s)", [MIGRATE_LOCK_KEY])
        finally:
            lock.close()
