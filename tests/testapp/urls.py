"""Publisher test URLs: feeds and views that advertise hubs explicitly."""

from django.urls import path

from . import feeds, views

urlpatterns = [
    path("feed/", feeds.EntryFeed(), name="entry_feed"),
    path("feed/two-hubs/", feeds.TwoHubsFeed(), name="two_hubs_feed"),
    path("feed/rss/", feeds.RssEntryFeed(), name="rss_feed"),
    path("feed/<slug:name>/", feeds.PerObjectHubFeed(), name="per_object_feed"),
    path("entries.json", views.entries_json, name="entries_json"),
    path("canonical/", views.canonical_json, name="canonical_json"),
    path("negotiated/", views.negotiated, name="negotiated"),
    path("missing/", views.missing, name="missing"),
    path("already-linked/", views.already_linked, name="already_linked"),
    path("entries/", views.EntriesView.as_view(), name="entries"),
]
