from django.urls import path

from .views import HubView

urlpatterns = [
    path("", HubView.as_view(), name="push_hub"),
]
