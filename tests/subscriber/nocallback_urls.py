"""A URLconf that forgot the subscriber's callback."""

urlpatterns: list[object] = []
