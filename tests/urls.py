from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("subscriber/", include("django_push.subscriber.urls")),
    path("hub/", include("django_push.hub.urls")),
    path("publisher/", include("tests.testapp.urls")),
]
