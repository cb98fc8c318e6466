from django.apps import AppConfig


class SubscriberConfig(AppConfig):
    name = "django_push.subscriber"
    label = "subscriber"
    verbose_name = "WebSub subscriptions"
    default_auto_field = "django.db.models.AutoField"

    def ready(self) -> None:
        from django.core.checks import Tags, register

        from .. import checks

        register(checks.check_subscriber, Tags.compatibility)
