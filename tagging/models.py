from __future__ import annotations

from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(max_length=100, unique=True)
    position = models.PositiveSmallIntegerField(unique=True, help_text="Display order; the paper's order.")

    class Meta:
        ordering = ["position"]

    def __str__(self) -> str:
        return self.name
