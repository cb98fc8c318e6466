"""WebSub (PubSubHubbub) publisher, subscriber and hub for Django."""

__version__ = "2.0.0.dev0"

#: The User-Agent sent with every outbound request.
USER_AGENT = f"django-push/{__version__}"
