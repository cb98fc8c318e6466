from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies: list[tuple[str, str]] = []

    operations = [
        migrations.CreateModel(
            name="Entry",
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
                ("title", models.CharField(max_length=200)),
                ("body", models.TextField(blank=True)),
                ("published", models.DateTimeField(auto_now_add=True)),
            ],
            options={
                "ordering": ("-published", "-pk"),
                "verbose_name_plural": "entries",
            },
        ),
        migrations.CreateModel(
            name="Notification",
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
                ("topic", models.URLField(max_length=1023)),
                ("newest_title", models.CharField(blank=True, max_length=200)),
                ("entry_count", models.PositiveIntegerField(default=0)),
                ("size", models.PositiveIntegerField(default=0)),
                ("received", models.DateTimeField(auto_now_add=True)),
            ],
            options={"ordering": ("-received", "-pk")},
        ),
    ]
