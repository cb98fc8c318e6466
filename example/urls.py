from django.urls import include, path

from example import views
from example.feeds import EntryFeed

urlpatterns = [
    path("", views.index, name="index"),
    path("entries/", views.add_entry, name="add_entry"),
    path("state.json", views.state, name="state"),
    path("feed/", EntryFeed(), name="entry_feed"),
    path("hub/", include("django_push.hub.urls")),
    path("subscriber/", include("django_push.subscriber.urls")),
]
