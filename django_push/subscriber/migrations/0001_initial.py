# The schema of django-push 1.x, unchanged, so that databases created by it
# migrate forward: do not edit.
from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = []

    operations = [
        migrations.CreateModel(
            name="Subscription",
            fields=[
                (
                    "id",
                    models.AutoField(
                        auto_created=True,
                        primary_key=True,
                        serialize=False,
                        verbose_name="ID",
                    ),
                ),
                ("hub", models.URLField(max_length=1023, verbose_name="Hub")),
                ("topic", models.URLField(max_length=1023, verbose_name="Topic")),
                (
                    "verified",
                    models.BooleanField(default=False, verbose_name="Verified"),
                ),
                (
                    "verify_token",
                    models.CharField(
                        blank=True, max_length=255, verbose_name="Verify Token"
                    ),
                ),
                (
                    "lease_expiration",
                    models.DateTimeField(
                        blank=True, null=True, verbose_name="Lease expiration"
                    ),
                ),
                (
                    "secret",
                    models.CharField(blank=True, max_length=255, verbose_name="Secret"),
                ),
            ],
        ),
    ]
