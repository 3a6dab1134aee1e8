"""The two instruments Triad ships: the paper's feelings check-in and the WHO-5."""

from django.db import migrations

CHECKIN_FEELINGS = [
    ("upset", True),
    ("hostile", True),
    ("alert", False),
    ("ashamed", True),
    ("inspired", False),
    ("nervous", True),
    ("determined", False),
    ("attentive", False),
    ("afraid", True),
    ("active", False),
]
WHO5_ITEMS = [
    "I have felt cheerful and in good spirits",
    "I have felt calm and relaxed",
    "I have felt active and vigorous",
    "I woke up feeling fresh and rested",
    "My daily life has been filled with things that interest me",
]


def seed(apps, schema_editor):
    Instrument = apps.get_model("wellbeing", "Instrument")
    InstrumentItem = apps.get_model("wellbeing", "InstrumentItem")
    SupportResource = apps.get_model("wellbeing", "SupportResource")
    checkin, _ = Instrument.objects.get_or_create(
        slug="feelings-checkin",
        version=1,
        defaults={
            "kind": "checkin",
            "name": "How did that feel?",
            "prompt": "Please think about the task(s) you just completed, to what extent did it make you feel:",
            "scale_labels": ["not at all", "a little", "moderately", "quite a bit", "very"],
            "free_text": True,
            "citation": "Ganguli et al. (2022), Red Teaming Language Models to Reduce Harms, worker wellbeing survey",
        },
    )
    for position, (feeling, negative) in enumerate(CHECKIN_FEELINGS, start=1):
        InstrumentItem.objects.get_or_create(
            instrument=checkin, key=feeling, defaults={"position": position, "text": feeling, "negative": negative}
        )
    who5, _ = Instrument.objects.get_or_create(
        slug="who-5",
        version=1,
        defaults={
            "kind": "periodic",
            "name": "WHO-5 Well-Being Index",
            "prompt": "Please indicate for each of the five statements which is closest to how you have been "
            "feeling over the last two weeks.",
            "scale_labels": [
                "At no time",
                "Some of the time",
                "Less than half of the time",
                "More than half of the time",
                "Most of the time",
                "All of the time",
            ],
            "free_text": False,
            "every_days": 14,
            "support_at_or_below": 28,
            "citation": "WHO-5 Well-Being Index, World Health Organization (1998); Topp et al. (2015)",
        },
    )
    for position, text in enumerate(WHO5_ITEMS, start=1):
        InstrumentItem.objects.get_or_create(
            instrument=who5, key=f"item-{position}", defaults={"position": position, "text": text}
        )
    if not SupportResource.objects.exists():
        SupportResource.objects.create(
            title="Talk to someone you trust at work",
            description="Your study lead, or your organisation's employee assistance programme, can help you "
            "step back from this work. You do not have to say why.",
            position=1,
        )
        SupportResource.objects.create(
            title="Find a helpline",
            url="https://findahelpline.com/",
            description="Free, confidential support lines in your country, listed by an independent directory.",
            position=2,
        )


class Migration(migrations.Migration):
    dependencies = [("wellbeing", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
