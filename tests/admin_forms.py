"""Posting a Django admin change form back as a browser would."""

from __future__ import annotations

from typing import Any


def posted_back(page: Any, **changes: Any) -> dict[str, Any]:
    """The change form as the browser would post it back, with these fields changed."""
    form = page.context["adminform"].form
    data = {name: form[name].value() for name in form.fields}
    data = {name: ("" if value is None else value) for name, value in data.items()}
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        for name, field in formset.management_form.fields.items():
            data[f"{formset.prefix}-{name}"] = formset.management_form[name].value() or field.initial or 0
        for sub in formset.forms:
            for name in sub.fields:
                value = sub[name].value()
                data[f"{sub.prefix}-{name}"] = "" if value is None else value
    data.update(changes)
    return data
