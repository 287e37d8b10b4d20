"""Django's `inspectdb` for the named tables (libpq environment variables say where)."""
import os
import sys

import django
from django.conf import settings
from django.core.management import call_command

settings.configure(
    DATABASES={
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": os.environ["PGDATABASE"],
            "USER": os.environ["PGUSER"],
            "PASSWORD": os.environ["PGPASSWORD"],
            "HOST": os.environ["PGHOST"],
            "PORT": os.environ["PGPORT"],
            "OPTIONS": {"sslmode": "disable"},
        }
    },
    USE_TZ=True,
)
django.setup()
call_command("inspectdb", *sys.argv[1:])
