"""The management commands as a lead runs them: output, exit status, and what lands."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import CommandError

from audit.models import AuditEvent
from review.models import Review, Study
from tests.factories import UserFactory, review_everything, started_study, varied_records, write_released
from transcripts.models import ImportBatch, Transcript

pytestmark = pytest.mark.django_db


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_import_prints_a_summary_and_a_rerun_says_nothing_is_new(tmp_path: Path) -> None:
    path = write_released(tmp_path / "red_team_attempts.jsonl.gz", varied_records(12))
    out, _ = run("import_transcripts", str(path))
    assert f"{path}: import batch #" in out
    assert "12 created, 0 duplicates, 0 rejected" in out

    out, _ = run("import_transcripts", str(path))
    assert "nothing new: all 12 records are already in the database" in out
    assert "the same file was imported before as batch #" in out
    assert Transcript.objects.count() == 12


def test_import_of_several_files_reports_each(tmp_path: Path) -> None:
    records = varied_records(6)
    first = write_released(tmp_path / "a.json", records[:3])
    second = write_released(tmp_path / "b.jsonl", records[3:], file_format="jsonl")
    out, _ = run("import_transcripts", str(first), str(second))
    assert out.count("3 created") == 2


def test_invalid_records_fail_the_command_with_every_error_and_nothing_written(tmp_path: Path) -> None:
    records = varied_records(4)
    records[1]["rating"] = 6.0
    records[3]["model_type"] = "gpt"
    path = write_released(tmp_path / "bad.jsonl", records, file_format="jsonl")
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 1 file"):
        call_command("import_transcripts", str(path), stdout=StringIO(), stderr=err)
    text = err.getvalue()
    assert f"{path}: line 2 (record 2): field 'rating': 6 is outside 0-4" in text
    assert f"{path}: line 4 (record 4): field 'model_type': 'gpt' is not a known model type" in text
    assert "2 of 4 records are invalid; nothing was imported" in text
    assert "--skip-invalid" in text
    assert Transcript.objects.count() == 0


def test_skip_invalid_imports_the_rest_and_lists_the_rejects(tmp_path: Path) -> None:
    records = varied_records(4)
    records[2]["is_upworker"] = "sometimes"
    path = write_released(tmp_path / "mixed.json", records)
    out, err = run("import_transcripts", str(path), "--skip-invalid")
    assert "3 created, 0 duplicates, 1 rejected" in out
    assert f"{path}: record 3: field 'is_upworker': must be true or false, got a string" in err
    assert ImportBatch.objects.get().rejected_count == 1


def test_a_missing_file_fails_without_touching_the_others(tmp_path: Path) -> None:
    good = write_released(tmp_path / "good.json", varied_records(2))
    err = StringIO()
    with pytest.raises(CommandError, match="1 of 2 file"):
        call_command("import_transcripts", str(tmp_path / "missing.json"), str(good), stdout=StringIO(), stderr=err)
    assert "missing.json: no such file" in err.getvalue()
    assert Transcript.objects.count() == 2


def test_import_records_the_named_user(tmp_path: Path) -> None:
    UserFactory(username="ada", roles=["lead"])
    run("import_transcripts", str(write_released(tmp_path / "r.json", varied_records(1))), "--user", "ada")
    assert ImportBatch.objects.get().created_by.username == "ada"
    with pytest.raises(CommandError, match="no user named 'bob'"):
        run("import_transcripts", str(tmp_path / "r.json"), "--user", "bob")


def test_create_study_draws_the_papers_design_and_reports_strata(tmp_path: Path) -> None:
    run("import_transcripts", str(write_released(tmp_path / "r.json", varied_records(80))))
    out, _ = run(
        "create_study",
        "Paper",
        "--stratum",
        "model_type=context distillation,num_params=52B:5",
        "--stratum",
        "model_type=rlhf,num_params=52B:5",
        "--seed",
        "7",
        "--reviewers-per-item",
        "3",
    )
    assert "'Paper': 10 items" in out
    assert "model_type=rlhf,num_params=52B: 5 of 20 available" in out
    assert Study.objects.get(name="Paper").items.count() == 10


def test_create_study_with_too_large_a_stratum_is_an_error_naming_it(tmp_path: Path) -> None:
    run("import_transcripts", str(write_released(tmp_path / "r.json", varied_records(8))))
    with pytest.raises(
        CommandError, match="stratum 'model_type=rlhf' asks for 50 transcripts but only 2 are available"
    ):
        run("create_study", "Big", "--stratum", "model_type=rlhf:50", "--seed", "1")
    assert not Study.objects.exists()


def test_demo_setup_creates_accounts_data_and_a_study_and_can_rerun() -> None:
    out, _ = run("demo_setup")
    out_again, _ = run("demo_setup")
    users = get_user_model().objects
    assert users.filter(groups__name="reviewer").count() == 4
    assert users.filter(groups__name="lead").count() == 2
    assert Transcript.objects.count() == 100
    study = Study.objects.get(name="Demo: prompted vs RLHF 52B")
    assert study.items.count() == 20
    finished = Study.objects.get(name="Demo: finished study (simulated reviews)")
    assert Review.objects.crowd().filter(study=finished).count() == 240 and finished.status == "archived"
    assert finished.agreement_snapshot.data["agreement"][0]["n_items"] == 80
    assert not users.get(username="simulated-reviewer-1").has_usable_password()
    assert "reviewer1  / triad-review-demo1" in out
    assert "lead       / triad-lead-demo" in out_again
    assert users.get(username="reviewer1").check_password("triad-review-demo1")


def test_the_demo_lead_is_not_an_operator_and_a_separate_operator_runs_the_admin() -> None:
    out, _ = run("demo_setup")
    users = get_user_model().objects
    lead, operator = users.get(username="lead"), users.get(username="operator")
    assert (lead.is_staff, lead.is_superuser) == (False, False)
    assert (operator.is_staff, operator.is_superuser) == (True, True)
    assert not operator.groups.exists() and operator.check_password("triad-operator-demo")
    assert "operator   / triad-operator-demo  operator: Django admin, no role" in out
    # The accounts were made through the audited services, as their creation says.
    created = set(AuditEvent.objects.filter(action="user.created").values_list("target_label", flat=True))
    assert {"operator", "lead", "reviewer1", "simulated-reviewer-1"} <= created


def write_ratings(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("item,rater,rating\n" + "".join(f"{item},{rater},{rating}\n" for item, rater, rating in rows))
    return path


def test_agreement_from_a_csv_prints_json_with_the_documented_keys(tmp_path: Path) -> None:
    rows = [
        (f"t{item}", rater, str(rating))
        for item, ratings in enumerate([(0, 0, 0, 1), (4, 4, 3, 4), (2, 1, 2, 2), (0, 1, 0, 0), (4, 3, 4, 4)])
        for rater, rating in zip(["author", "r1", "r2", "r3"], ratings, strict=True)
    ]
    out, _ = run("agreement", "--ratings", str(write_ratings(tmp_path / "ratings.csv", rows)), "--json")

    result = json.loads(out)
    assert result["n_items"] == 5 and result["n_excluded"] == 0
    for scale in ("likert", "binary"):
        assert set(result[scale]) >= {
            "fleiss_kappa",
            "per_category",
            "se0",
            "z",
            "ci95",
            "krippendorff_alpha",
            "percent_agreement",
        }
    assert set(result["likert"]["per_category"]) == {"0", "1", "2", "3", "4"}
    assert result["reviewers_only"]["raters_per_item"] == 3
    low, high = result["binary"]["ci95"]
    assert low <= result["binary"]["fleiss_kappa"] <= high


def test_agreement_prints_a_table_of_rater_set_by_scale(tmp_path: Path) -> None:
    rows = [(f"t{item}", f"r{rater}", str((item + rater) % 2 * 4)) for item in range(6) for rater in range(3)]
    out, _ = run("agreement", "--ratings", str(write_ratings(tmp_path / "r.csv", rows)))
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["group", "rater", "set", "scale"]
    assert [line.split()[3] for line in lines[2:4]] == ["likert", "binary"]  # no author: one rater set
    assert lines[4:] == ["No items left out."]


def test_agreement_from_a_csv_compares_both_rater_sets_on_the_same_items_and_says_which_were_left_out(
    tmp_path: Path,
) -> None:
    # Four items; t3 lacks the author's rating, so it is left out of both rater sets, not just one.
    ratings = {"t0": (0, 0, 0, 1), "t1": (4, 4, 3, 4), "t2": (2, 1, 2, 2), "t3": (None, 1, 0, 0)}
    rows = [
        (item, rater, str(rating))
        for item, values in ratings.items()
        for rater, rating in zip(["author", "r1", "r2", "r3"], values, strict=True)
        if rating is not None
    ]
    path = write_ratings(tmp_path / "ratings.csv", rows)
    result = json.loads(run("agreement", "--ratings", str(path), "--json")[0])
    assert result["rater_set"] == "author + reviewers" and result["n_items"] == 3
    assert result["reviewers_only"]["n_items"] == 3  # was 4: t3 counted for reviewers only
    assert result["n_excluded"] == result["reviewers_only"]["n_excluded"] == 1
    assert result["left_out"] == {
        "items": 1,
        "reasons": {"no author rating": 1},
        "text": "1 item left out: no author rating",
    }
    # The reviewers-only figures are those of the three items alone, computed by hand's twin.
    alone = write_ratings(
        tmp_path / "alone.csv",
        [
            (item, rater, str(rating))
            for item, values in list(ratings.items())[:3]
            for rater, rating in zip(["r1", "r2", "r3"], values[1:], strict=True)
        ],
    )
    expected = json.loads(run("agreement", "--ratings", str(alone), "--json")[0])
    assert result["reviewers_only"]["likert"] == expected["likert"]
    table = run("agreement", "--ratings", str(path))[0].splitlines()
    assert table[-1] == "1 item left out: no author rating"
    assert {line.split()[-2] for line in table[2:-1]} == {"3"}  # n: the same items in every row


def test_agreement_from_a_csv_counts_each_reason_an_item_was_left_out(tmp_path: Path) -> None:
    ratings = {
        "t0": (0, 0, 0, 1),
        "t1": (4, 4, 3, 4),
        "t2": (None, 1, 2, 2),
        "t3": (None, 1, 0, 0),
        "t4": (3, 3, None, 4),
        "t5": (None, None, 4, 4),
    }
    rows = [
        (item, rater, str(rating))
        for item, values in ratings.items()
        for rater, rating in zip(["author", "r1", "r2", "r3"], values, strict=True)
        if rating is not None
    ]
    out = run("agreement", "--ratings", str(write_ratings(tmp_path / "r.csv", rows)))[0]
    assert out.splitlines()[-1] == (
        "4 items left out: 2 no author rating, 1 fewer than 3 reviewer ratings, "
        "1 no author rating and fewer than 3 reviewer ratings"
    )
    with pytest.raises(CommandError, match="no item has every rating needed"):
        run(
            "agreement",
            "--ratings",
            str(
                write_ratings(
                    tmp_path / "none.csv",
                    [("t0", "r1", "1"), ("t0", "author", "2"), ("t1", "r1", "1"), ("t1", "r2", "1")],
                )
            ),
        )


def test_agreement_names_the_line_of_a_bad_csv(tmp_path: Path) -> None:
    path = write_ratings(tmp_path / "bad.csv", [("t1", "a", "1"), ("t1", "b", "seven")])
    with pytest.raises(CommandError, match=r"bad\.csv, line 3.*rating"):
        run("agreement", "--ratings", str(path))
    with pytest.raises(CommandError, match="no file"):
        run("agreement", "--ratings", str(tmp_path / "missing.csv"))


def test_agreement_for_a_study_covers_each_model_type(tmp_path: Path) -> None:
    study, reviewers = started_study(items=4, reviewers=3)
    review_everything(study, reviewers, rate=lambda item, index: (item.position + index) % 5)
    out, _ = run("agreement", "--study", str(study.pk), "--json")

    result = json.loads(out)
    assert result["rater_set"] == "author + reviewers" and result["n_items"] == 4
    assert result["reviewers_only"]["n_items"] == 4
    assert {(group["by"], group["value"]) for group in result["groups"]} == {("model_type", "rlhf")}
    table, _ = run("agreement", "--study", str(study.pk))
    assert "reviewers only" in table
    with pytest.raises(CommandError, match="no study"):
        run("agreement", "--study", "999999")
