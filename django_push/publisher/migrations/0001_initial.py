from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="PendingPing",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("hub", models.URLField(max_length=1023)),
                ("topic", models.URLField(max_length=1023)),
                (
                    "attempts",
                    models.PositiveIntegerField(
                        default=1, help_text="Failed attempts so far."
                    ),
                ),
                ("next_attempt_at", models.DateTimeField()),
                ("last_error", models.CharField(blank=True, max_length=255)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "verbose_name": "pending publish ping",
                "indexes": [
                    models.Index(fields=["next_attempt_at"], name="push_pending_due")
                ],
            },
        ),
    ]
