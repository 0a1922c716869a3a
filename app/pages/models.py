from django.db import models


class Note(models.Model):
    """A short text shown on the home page, edited in the admin."""

    text = models.CharField(max_length=200)
    created = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created"]

    def __str__(self):
        return self.text
