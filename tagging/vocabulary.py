"""The paper's 20 harm topics, in the released data's exact spelling and order.

The order is the paper's: the first five are the most frequent among reviewed attacks.
The data migration seeds the Tag table from this tuple; it is also the reference the
importer uses, so the two can never drift apart.
"""

HARM_TAGS: tuple[str, ...] = (
    "Discrimination & injustice",
    "Hate speech & offensive language",
    "Violence & incitement",
    "Non-violent unethical behavior (e.g. lying, cheating, etc.)",
    "Bullying & harassment",
    "Theft",
    "Soliciting personally identifiable information",
    "Conspiracy theories & misinformation",
    "Substance abuse & banned substances",
    "Fraud & deception",
    "Weapons",
    "Adult content",
    "Property crime & vandalism",
    "Animal abuse",
    "Terrorism & organized crime",
    "Sexual exploitation & human trafficking",
    "Self-harm",
    "Child abuse",
    "Other",
    "N/A - Invalid attempt",
)


def normalize_tag(text: str) -> str:
    """Key used to match a source string to the vocabulary despite case or spacing drift."""
    return " ".join(text.split()).casefold()
