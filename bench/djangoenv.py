"""Configure Django for a benchmark: a temporary SQLite file, migrated.

Each benchmark script calls :func:`configure` before importing models.
Settings are built here rather than read from ``tests.settings`` so a run
never touches the test database and only installs what it measures.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent

#: The middleware of a project made by ``django-admin startproject``.
STARTPROJECT_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]


def configure(
    *,
    apps: list[str],
    root_urlconf: str,
    middleware: list[str] | None = None,
    extra: dict[str, Any] | None = None,
    keep_db: str | None = None,
    conn_max_age: int | None = 0,
    repo_on_path: bool = True,
    existing_db: str | None = None,
    sqlite_options: dict[str, Any] | None = None,
) -> Path:
    """Set up Django with *apps* on a fresh SQLite file and migrate it.

    Returns the database path. The temporary directory is removed at exit
    unless *keep_db* names a directory to put the database in. With
    *existing_db* (the path returned to another process) that file is used
    as it is: not migrated, not removed. *sqlite_options* are added to the
    database's ``OPTIONS``.
    """
    import django
    from django.conf import settings
    from django.core.management import call_command

    if repo_on_path:
        sys.path.insert(0, str(REPO_ROOT))
    if existing_db:
        db_path = Path(existing_db)
    elif keep_db:
        directory = Path(keep_db)
        directory.mkdir(parents=True, exist_ok=True)
    else:
        directory = Path(tempfile.mkdtemp(prefix="django-push-bench-"))
        atexit.register(shutil.rmtree, directory, ignore_errors=True)
    if not existing_db:
        db_path = directory / "bench.sqlite3"
        if db_path.exists():
            db_path.unlink()

    installed = [
        "django.contrib.auth",
        "django.contrib.contenttypes",
        "django.contrib.sessions",
        "django.contrib.messages",
        *apps,
    ]
    if django.VERSION >= (6, 0):
        tasks_prefix: str | None = "django.tasks"
    elif importlib.util.find_spec("django_tasks") is not None:
        installed.append("django_tasks")
        tasks_prefix = "django_tasks"
    else:
        # Only an old implementation measured on an old Django gets here.
        tasks_prefix = None

    options: dict[str, Any] = {
        "SECRET_KEY": "bench-only-not-secret",
        "DEBUG": False,
        "ALLOWED_HOSTS": ["*"],
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "ROOT_URLCONF": root_urlconf,
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "INSTALLED_APPS": installed,
        "MIDDLEWARE": STARTPROJECT_MIDDLEWARE if middleware is None else middleware,
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(db_path),
                "OPTIONS": {"timeout": 30, **(sqlite_options or {})},
                "CONN_MAX_AGE": conn_max_age,
            }
        },
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "handlers": {"null": {"class": "logging.NullHandler"}},
            "loggers": {
                "django_push": {"handlers": ["null"], "propagate": False},
                "django": {"handlers": ["null"], "propagate": False},
            },
        },
        "PUSH_DOMAIN": "bench.invalid",
        "PUSH_SECRET_OVER_HTTP": True,
        "PUSH_HUB_ALLOW_PRIVATE_ADDRESSES": True,
    }
    if tasks_prefix is not None:
        backend = f"{tasks_prefix}.backends.immediate.ImmediateBackend"
        options["TASKS"] = {"default": {"BACKEND": backend}}
    options.update(extra or {})
    settings.configure(**options)
    django.setup()
    if not existing_db:
        call_command("migrate", verbosity=0, interactive=False, run_syncdb=True)
    os.environ.setdefault("DJANGO_PUSH_BENCH_DB", str(db_path))
    return db_path
