from __future__ import annotations

import pytest

from review.sampling import Stratum, StudyInvalid, parse_stratum


def test_the_papers_stratum_spec_parses() -> None:
    stratum = parse_stratum("model_type=context distillation,num_params=52B:500")
    assert stratum == Stratum(filters={"model_type": "context distillation", "num_params": "52B"}, size=500)
    assert stratum.label == "model_type=context distillation,num_params=52B"


def test_all_samples_from_everything() -> None:
    assert parse_stratum("all:25") == Stratum(filters={}, size=25)


def test_other_fields_parse_to_their_types() -> None:
    stratum = parse_stratum("is_upworker=true,rating=4:3")
    assert stratum.filters == {"is_upworker": True, "rating": 4}
    assert stratum.label == "is_upworker=true,rating=4"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("model_type=rlhf", "has no ':SIZE'"),
        ("model_type=rlhf:lots", "size 'lots' is not a whole number"),
        ("model_type=rlhf:0", "size must be at least 1"),
        ("model_type=gpt:5", "model_type='gpt' is not one of"),
        ("num_params=7B:5", "num_params='7B' is not one of: 2.7B, 13B, 52B"),
        ("colour=red:5", "'colour=red' is not FIELD=VALUE"),
        ("model_type:5", "'model_type' is not FIELD=VALUE"),
        ("rating=9:5", "rating='9' is not a rating 0-4"),
        ("is_upworker=maybe:5", "is_upworker='maybe' is not true or false"),
        ("model_type=rlhf,model_type=plain lm:5", "model_type is given twice"),
    ],
)
def test_a_bad_stratum_spec_says_what_is_wrong(spec: str, message: str) -> None:
    with pytest.raises(StudyInvalid) as caught:
        parse_stratum(spec)
    assert message in str(caught.value)
