"""Publishing from model changes: "when this model changes, publish these".

::

    @publishes(lambda entry: [entry.blog.feed_url, entry.url])
    class Entry(models.Model): ...

or, for a model you do not own, ``publish_on_change(Entry, topics)``.
Every save or delete of an instance calls :func:`~.publishing.publish` with
the instance's topics, so pings are sent after commit, once per topic per
transaction, and never for a rolled-back transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db import models
from django.db.models.signals import post_delete, post_save

from .publishing import publish

ModelT = TypeVar("ModelT", bound=type[models.Model])
Topics = Callable[[Any], "str | Iterable[str]"] | Iterable[str] | str

_registry: dict[
    type[models.Model], tuple[Callable[[Any], list[str]], list[str] | None]
] = {}


def _resolver(topics: Topics) -> Callable[[Any], list[str]]:
    if callable(topics):
        func = topics

        def resolve(instance: Any) -> list[str]:
            found = func(instance)
            return [found] if isinstance(found, str) else list(found)

        return resolve
    static = [topics] if isinstance(topics, str) else list(topics)
    return lambda instance: static


def _uid(model: type[models.Model]) -> str:
    return f"django_push.publisher:{model._meta.label}"


def _on_change(sender: type[models.Model], instance: Any, **kwargs: Any) -> None:
    if kwargs.get("raw"):
        # loaddata: fixtures are not content changes.
        return
    resolve, hubs = _registry[sender]
    publish(*resolve(instance), hubs=hubs, using=kwargs.get("using"))


def publish_on_change(
    model: type[models.Model], topics: Topics, hubs: Iterable[str] | None = None
) -> None:
    """Publish *topics* whenever an instance of *model* is saved or deleted.

    *topics* is a URL, a list of URLs, or a callable taking the instance and
    returning one URL or several. URLs must be absolute. *hubs* defaults to
    ``PUSH_HUB``, read at each change. Calling it again for
    the same model replaces the topics. ``QuerySet.update()``,
    ``bulk_create()`` and other bulk operations send no signals and publish
    nothing: call :func:`~django_push.publisher.publish` after them.
    """
    _registry[model] = (_resolver(topics), None if hubs is None else list(hubs))
    uid = _uid(model)
    post_save.connect(_on_change, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(_on_change, sender=model, weak=False, dispatch_uid=uid)


def stop_publishing(model: type[models.Model]) -> None:
    """Undo :func:`publish_on_change` for *model*."""
    _registry.pop(model, None)
    uid = _uid(model)
    post_save.disconnect(sender=model, dispatch_uid=uid)
    post_delete.disconnect(sender=model, dispatch_uid=uid)


def publishing_models() -> list[type[models.Model]]:
    """The models registered with :func:`publish_on_change`."""
    return list(_registry)


def hubs_of(model: type[models.Model]) -> list[str] | None:
    """The hubs given for *model*, or None when it publishes to ``PUSH_HUB``."""
    return _registry[model][1]


def publishes(
    topics: Topics, hubs: Iterable[str] | None = None
) -> Callable[[ModelT], ModelT]:
    """Class decorator form of :func:`publish_on_change`."""

    def decorate(model: ModelT) -> ModelT:
        publish_on_change(model, topics, hubs)
        return model

    return decorate
