"""Settings of the demo project, built at start-up.

The demo listens on a port chosen at run time (``--port 0`` picks a free
one), and both the subscriber's callback URLs and the hub's own URL must name
that port, so the settings are assembled by :func:`configure` once the
server socket is bound rather than read from a static module.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import django
from django.conf import settings
from django.core.management.utils import get_random_secret_key

IMMEDIATE = ".backends.immediate.ImmediateBackend"


def build(base_url: str, data_dir: Path, *, verbose: bool = False) -> dict[str, Any]:
    """Return the settings of a demo served at *base_url*, storing in *data_dir*."""
    host = base_url.split("://", 1)[1].rstrip("/")
    if django.VERSION < (6, 0):
        tasks_app = ["django_tasks"]
        tasks_prefix = "django_tasks"
    else:
        tasks_app = []
        tasks_prefix = "django.tasks"
    library_level = "DEBUG" if verbose else "WARNING"
    return {
        "DEBUG": False,
        # A fresh random key per run: the demo has no sessions worth keeping.
        "SECRET_KEY": get_random_secret_key(),
        "ALLOWED_HOSTS": ["127.0.0.1", "localhost"],
        "USE_TZ": True,
        "TIME_ZONE": "UTC",
        "ROOT_URLCONF": "example.urls",
        "DEFAULT_AUTO_FIELD": "django.db.models.BigAutoField",
        "INSTALLED_APPS": [
            "django.contrib.contenttypes",
            "django.contrib.auth",
            "django_push.publisher",
            "django_push.subscriber",
            "django_push.hub",
            *tasks_app,
            "example",
        ],
        "MIDDLEWARE": [
            "django.middleware.security.SecurityMiddleware",
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
            "django.middleware.clickjacking.XFrameOptionsMiddleware",
        ],
        "TEMPLATES": [
            {
                "BACKEND": "django.template.backends.django.DjangoTemplates",
                "APP_DIRS": True,
                "OPTIONS": {
                    "context_processors": [
                        "django.template.context_processors.request",
                        "django.template.context_processors.csrf",
                    ]
                },
            }
        ],
        # The embedded default: one SQLite file, work run inline, no worker.
        # WAL lets the hub read the feed while another request writes.
        "DATABASES": {
            "default": {
                "ENGINE": "django.db.backends.sqlite3",
                "NAME": str(data_dir / "demo.sqlite3"),
                "OPTIONS": {
                    "timeout": 20,
                    "transaction_mode": "IMMEDIATE",
                    "init_command": "PRAGMA journal_mode=WAL;",
                },
            }
        },
        "TASKS": {
            "default": {
                "BACKEND": f"{tasks_prefix}.backends.immediate.ImmediateBackend"
            }
        },
        "DEMO_BASE_URL": base_url,
        # The feed advertises this hub and publishing pings it; it is the
        # built-in hub of this very project, so publishing skips HTTP.
        "PUSH_HUB": f"{base_url}/hub/",
        "PUSH_HUB_URL": f"{base_url}/hub/",
        # Callback URLs of the subscriber are built from this host.
        "PUSH_DOMAIN": host,
        # Everything runs on 127.0.0.1 over plain HTTP; a real deployment keeps
        # both of these off (see docs/security.rst).
        "PUSH_HUB_ALLOW_PRIVATE_ADDRESSES": True,
        "PUSH_SECRET_OVER_HTTP": True,
        "PUSH_TIMEOUT": 10.0,
        "LOGGING": {
            "version": 1,
            "disable_existing_loggers": False,
            "formatters": {"plain": {"format": "[%(name)s] %(levelname)s %(message)s"}},
            "handlers": {
                "console": {"class": "logging.StreamHandler", "formatter": "plain"}
            },
            "loggers": {
                "django_push": {"handlers": ["console"], "level": library_level},
                "django.server": {
                    "handlers": ["console"],
                    "level": "INFO" if verbose else "ERROR",
                    "propagate": False,
                },
                "django.request": {
                    "handlers": ["console"],
                    "level": "WARNING",
                    "propagate": False,
                },
            },
        },
    }


def configure(base_url: str, data_dir: Path, *, verbose: bool = False) -> None:
    """Configure Django for the demo and load the apps."""
    settings.configure(**build(base_url, data_dir, verbose=verbose))
    django.setup()
