# Rows verified under django-push 1.x are active subscriptions.
from django.db import migrations


def fill_state(apps, schema_editor):
    Subscription = apps.get_model("subscriber", "Subscription")
    Subscription.objects.filter(verified=True).update(state="active")


def clear_state(apps, schema_editor):
    Subscription = apps.get_model("subscriber", "Subscription")
    Subscription.objects.update(state="unverified")


class Migration(migrations.Migration):
    dependencies = [("subscriber", "0002_subscription_protocol_state")]

    operations = [migrations.RunPython(fill_state, clear_state)]
