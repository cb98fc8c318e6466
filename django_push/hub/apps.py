from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "django_push.hub"
    label = "push_hub"
    verbose_name = "WebSub hub"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from .. import checks  # noqa: F401 (registers the shared checks)
        from . import checks as hub_checks  # noqa: F401 (registers the hub's)
