"""A bounded schemathesis run against the API's own OpenAPI schema, in-process on the WSGI app."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from agreement.services import agreement_snapshot_refresh
from api.services import api_token_create
from config.wsgi import application
from tagging.models import Tag
from tests.factories import UserFactory, review_everything, started_study

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def keep_connection() -> Iterator[None]:
    """Calling the WSGI app directly would close the test's database connection after each
    request, as after a real one; Django's own test client unhooks the same signal."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def lead_token(db: None, keep_connection: None) -> str:
    study, reviewers = started_study(items=3, reviewers=3)
    tag = Tag.objects.order_by("position").first()
    review_everything(study, reviewers, rate=lambda item, index: index + 1, tags=lambda item, index: [tag.pk])
    agreement_snapshot_refresh(study_id=study.pk)
    _, raw = api_token_create(
        user=UserFactory(roles=["lead"]), name="schemathesis", scopes=["read:labels", "read:agreement"]
    )
    return raw


def generated_schema() -> Any:
    """The schema /api/v1/schema/ serves, generated without a request, and bound to the WSGI app."""

    loaded = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    loaded.app = application
    return loaded


schema = generated_schema()


@schema.parametrize()
@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)
def test_the_api_answers_every_generated_request_within_its_schema(case: Any, lead_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {lead_token}"}, checks=CHECKS)


def test_no_wellbeing_data_is_part_of_the_api() -> None:
    text = json.dumps(generated_schema().raw_schema).lower()
    assert "wellbeing" not in text and "survey" not in text and "check-in" not in text


def test_the_schema_documents_the_items_consensus_and_how_to_ask_for_another_method() -> None:
    raw = generated_schema().raw_schema
    operation = raw["paths"]["/api/v1/studies/{study_id}/items/"]["get"]
    parameter = next(p for p in operation["parameters"] if p["name"] == "consensus")
    assert parameter["schema"]["enum"] == ["dawid_skene", "dawid_skene_likert", "mace"]
    assert parameter["schema"]["default"] == "dawid_skene"
    consensus = raw["components"]["schemas"]["Consensus"]
    assert set(consensus["required"]) == {"method", "scale", "label", "probability"}
    item = raw["components"]["schemas"]["Item"]["properties"]["consensus"]
    assert "Consensus" in json.dumps(item) and "null" in json.dumps(item)
    label = raw["components"]["schemas"]["Label"]["properties"]
    assert {"consensus_method", "consensus_label", "consensus_probability"} <= set(label)
