from django.db import models


class Row(models.Model):
    """A row written by a task or the scheduled job, with the version of the code that wrote it."""

    source = models.CharField(max_length=20)
    text = models.CharField(max_length=200)
    version = models.CharField(max_length=50)
    created = models.DateTimeField(auto_now_add=True)
