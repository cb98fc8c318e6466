from __future__ import annotations

from datetime import datetime, timedelta
from datetime import timezone as dt_timezone

import pytest
from django.db import IntegrityError, connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.recorder import MigrationRecorder

from django_push.subscriber.models import Subscription

pytestmark = pytest.mark.django_db(transaction=True)

APP = "subscriber"
# The table exactly as django-push 1.x's migration 0001 created it on SQLite.
OLD_TABLE_SQL = """
CREATE TABLE "subscriber_subscription" (
    "id" integer NOT NULL PRIMARY KEY AUTOINCREMENT,
    "hub" varchar(1023) NOT NULL,
    "topic" varchar(1023) NOT NULL,
    "verified" bool NOT NULL,
    "verify_token" varchar(255) NOT NULL,
    "lease_expiration" datetime NULL,
    "secret" varchar(255) NOT NULL
)
"""
LEASE = datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt_timezone.utc)


def latest() -> list[tuple[str, str]]:
    executor = MigrationExecutor(connection)
    return [key for key in executor.loader.graph.leaf_nodes() if key[0] == APP]


def migrate(targets: list[tuple[str, str | None]]) -> None:
    executor = MigrationExecutor(connection)
    executor.migrate(targets)


def insert_old_rows() -> None:
    rows = [
        # id, hub, topic, verified, verify_token, lease_expiration, secret
        (1, "https://hub.example/", "https://a.example/feed", True, "", LEASE, "s1"),
        (2, "https://hub.example/", "https://b.example/feed", False, "tok", None, ""),
        # Duplicates of (hub, a): 1.x had no unique constraint.
        (3, "https://hub.example/", "https://a.example/feed", False, "", None, "s3"),
        (
            4,
            "https://hub.example/",
            "https://c.example/feed",
            False,
            "",
            LEASE - timedelta(days=1),
            "s4",
        ),
        (
            5,
            "https://hub.example/",
            "https://c.example/feed",
            True,
            "",
            LEASE - timedelta(days=2),
            "s5",
        ),
    ]
    with connection.cursor() as cursor:
        for row in rows:
            cursor.execute(
                "INSERT INTO subscriber_subscription (id, hub, topic, verified, "
                "verify_token, lease_expiration, secret) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s)",
                [
                    *row[:5],
                    connection.ops.adapt_datetimefield_value(row[5]),
                    row[6],
                ],
            )


def check_migrated_rows() -> None:
    rows = {s.pk: s for s in Subscription.objects.all()}
    # One row per (hub, topic): the active one is kept.
    assert sorted(rows) == [1, 2, 5]
    assert rows[1].state == Subscription.State.ACTIVE
    assert rows[1].verified is True
    assert rows[1].secret == "s1"
    assert rows[1].lease_expiration == LEASE
    assert rows[2].state == Subscription.State.UNVERIFIED
    assert rows[2].verify_token == "tok"
    assert rows[5].state == Subscription.State.ACTIVE
    assert rows[5].secret == "s5"


def test_migration_0001_database_migrates_forward():
    migrate([(APP, "0001_initial")])
    insert_old_rows()
    migrate(latest())
    check_migrated_rows()


@pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite DDL of 1.x")
def test_database_created_by_django_push_1x_migrates_forward():
    migrate([(APP, None)])
    with connection.cursor() as cursor:
        cursor.execute(OLD_TABLE_SQL)
    MigrationRecorder(connection).record_applied(APP, "0001_initial")
    insert_old_rows()
    migrate(latest())
    check_migrated_rows()
    with pytest.raises(IntegrityError):
        Subscription.objects.create(
            hub="https://hub.example/", topic="https://a.example/feed"
        )


def test_migrations_reverse_to_the_1x_schema():
    migrate([(APP, "0001_initial")])
    with connection.cursor() as cursor:
        columns = {
            c.name
            for c in connection.introspection.get_table_description(
                cursor, "subscriber_subscription"
            )
        }
    assert columns == {
        "id",
        "hub",
        "topic",
        "verified",
        "verify_token",
        "lease_expiration",
        "secret",
    }
    migrate(latest())
