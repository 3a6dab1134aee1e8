from django.db import migrations
from django.utils.text import slugify

from tagging.vocabulary import HARM_TAGS


def seed_tags(apps, schema_editor):
    Tag = apps.get_model("tagging", "Tag")
    for position, name in enumerate(HARM_TAGS, start=1):
        Tag.objects.update_or_create(name=name, defaults={"slug": slugify(name), "position": position})


def unseed_tags(apps, schema_editor):
    apps.get_model("tagging", "Tag").objects.filter(name__in=HARM_TAGS).delete()


class Migration(migrations.Migration):
    dependencies = [("tagging", "0001_initial")]
    operations = [migrations.RunPython(seed_tags, unseed_tags)]
