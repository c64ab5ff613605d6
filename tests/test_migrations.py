"""Models and migrations agree: a change to a model (a partial index's condition, say, which
PostgreSQL then stops using without a word) comes with its migration."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_every_model_change_has_its_migration(capsys):
    try:
        call_command("makemigrations", "--check", "--dry-run", verbosity=1)
    except SystemExit:
        pytest.fail("Models changed without a migration:\n" + capsys.readouterr().out)
