from django.apps import AppConfig


class PublisherConfig(AppConfig):
    """Optional app: system checks and durable retries of failed pings."""

    name = "django_push.publisher"
    label = "push_publisher"
    verbose_name = "WebSub publishing"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .. import checks as shared_checks  # noqa: F401 (registers shared checks)
        from . import checks

        checks.register_checks()
