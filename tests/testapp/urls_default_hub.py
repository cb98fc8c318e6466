"""Feeds relying on PUSH_HUB; used by tests that set it."""

from django.urls import include, path

from . import feeds

urlpatterns = [
    path("feed/", feeds.DefaultHubFeed(), name="default_hub_feed"),
    path("rss/", feeds.DefaultHubRssFeed(), name="default_hub_rss"),
    path("publisher/", include("tests.testapp.urls")),
]
