"""Models the tests publish from."""

from django.db import models


class Entry(models.Model):
    """A blog entry; its changes are published to the blog's feeds."""

    title = models.CharField(max_length=200)
    slug = models.SlugField(unique=True)

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return f"/entries/{self.slug}/"
