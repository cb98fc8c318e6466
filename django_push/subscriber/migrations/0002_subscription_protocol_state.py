# Protocol state: the pending intent, the granted lease, the denial reason,
# the last notification time and the last error.
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("subscriber", "0001_initial")]

    operations = [
        migrations.AddField(
            model_name="subscription",
            name="state",
            field=models.CharField(
                choices=[
                    ("unverified", "Not verified yet"),
                    ("active", "Active"),
                    ("denied", "Denied by the hub"),
                    ("unsubscribed", "Unsubscribed"),
                ],
                default="unverified",
                max_length=16,
                verbose_name="state",
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="pending_mode",
            field=models.CharField(
                blank=True,
                choices=[("subscribe", "Subscribe"), ("unsubscribe", "Unsubscribe")],
                max_length=16,
                verbose_name="pending request",
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="requested_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="last requested at"
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="lease_seconds",
            field=models.PositiveIntegerField(
                blank=True, null=True, verbose_name="granted lease (seconds)"
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="denied_reason",
            field=models.TextField(blank=True, verbose_name="denial reason"),
        ),
        migrations.AddField(
            model_name="subscription",
            name="last_notification_at",
            field=models.DateTimeField(
                blank=True, null=True, verbose_name="last notification at"
            ),
        ),
        migrations.AddField(
            model_name="subscription",
            name="last_error",
            field=models.TextField(blank=True, verbose_name="last error"),
        ),
    ]
