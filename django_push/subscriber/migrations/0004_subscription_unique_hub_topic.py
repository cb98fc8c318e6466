# django-push 1.x had no unique constraint, so racing subscribe() calls could
# create duplicate (hub, topic) rows and the hub then delivered twice. Keep
# the best row of each duplicate set (active first, then the longest lease,
# then the oldest) and add the constraint.
from django.db import migrations, models


def remove_duplicates(apps, schema_editor):
    Subscription = apps.get_model("subscriber", "Subscription")
    duplicated = (
        Subscription.objects.values("hub", "topic")
        .annotate(count=models.Count("id"))
        .filter(count__gt=1)
    )
    for pair in duplicated.iterator():
        rows = list(Subscription.objects.filter(hub=pair["hub"], topic=pair["topic"]))
        rows.sort(
            key=lambda row: (
                row.state != "active",
                -(row.lease_expiration.timestamp() if row.lease_expiration else 0),
                row.pk,
            )
        )
        Subscription.objects.filter(pk__in=[row.pk for row in rows[1:]]).delete()


class Migration(migrations.Migration):
    dependencies = [("subscriber", "0003_subscription_state_from_verified")]

    operations = [
        migrations.RunPython(remove_duplicates, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="subscription",
            constraint=models.UniqueConstraint(
                fields=("hub", "topic"), name="subscriber_unique_hub_topic"
            ),
        ),
        migrations.AddIndex(
            model_name="subscription",
            index=models.Index(
                fields=["state", "lease_expiration"], name="subscriber_state_lease"
            ),
        ),
    ]
