"""A small Django project showing django-push end to end.

One process holds a publisher (an Atom feed of entries), the built-in hub
and a subscriber subscribed to that feed through that hub. Run it with
``python -m example`` from a checkout; see ``docs/quickstart.rst``.
"""
