from django.apps import AppConfig


class ExampleConfig(AppConfig):
    name = "example"
    label = "example"
    verbose_name = "django-push demo"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from example import progress

        progress.connect()
