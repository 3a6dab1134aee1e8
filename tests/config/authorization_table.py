"""Who gets what from every URL Triad serves: one row per URL and method, one column per role.

The roles:
- anonymous: nobody signed in;
- reviewer: a reviewer who holds the objects in the URLs (the held and the reviewed slot, the
  wellbeing response and invitation) and is the only member of the solo study;
- other: another reviewer in the same study, who holds none of those objects;
- lead: a lead (not a reviewer, not staff: operators, who run the admin, are separate accounts),
  who leads the study and the solo study;
- other_lead: another lead, who leads nothing of those studies (they get 404 on every page and
  endpoint of them, like a study that does not exist);
- labels / agreement: a lead's API token with only read:labels / only read:agreement, sent as
  `Authorization: Bearer ...` with no session.

A cell is the status code, or:
- LOGIN: a redirect to the login page (so a login redirect never passes for a page that opened);
- ADMIN_LOGIN: a redirect to the admin's login page;
- HEALTH: 200, or 503 if a service /healthz reports is down: it is open to everyone either way.
A plain 302 is a redirect anywhere but a login page.

`{name}` in a URL or a form is filled from the objects the test module builds; `{missing}` is an
id that exists nowhere. Every URL pattern must be reached by some row here (admin URLs also by the
rule in test_authorization.py), so a new URL fails the suite until someone classifies it.
"""

from __future__ import annotations

LOGIN = "login"
ADMIN_LOGIN = "admin-login"
HEALTH = "health"

ROLES = ("anonymous", "reviewer", "other", "lead", "other_lead", "labels", "agreement")

# Shorthands for the usual shapes of a row, after the URL and method, in the order of ROLES.
# Pages never accept a token: the token columns equal the anonymous one.
PUBLIC = (200, 200, 200, 200, 200, 200, 200)
# The API answers 401 without credentials and 403 to sessions of non-leads; a lead who does not
# lead the study gets 404 from its endpoints, and lists only their own studies' rows (200).
LABELS_API = (401, 403, 403, 200, 404, 200, 403)
LABELS_API_LIST = (401, 403, 403, 200, 200, 200, 403)
AGREEMENT_API = (401, 403, 403, 200, 404, 403, 200)

# fmt: off
TABLE: list[tuple[str, str, tuple[object, ...]]] = [
    # url  method  (anonymous, reviewer, other, lead, other_lead, labels, agreement)
    # --- open to everyone
    # A reviewer (who is not also a lead) is sent on to their queue.
    ("/",                                                       "GET",  (200, 302, 302, 200, 200, 200, 200)),
    ("/healthz",                                                "GET",  (HEALTH,) * 7),
    ("/accounts/login/",                                        "GET",  PUBLIC),
    ("/accounts/logout/",                                       "POST", (LOGIN,) * 7),
    # An invitation link opens to anyone who has it, once; a used or expired one is gone (410).
    ("/accounts/invitations/{team_invitation_raw}/",            "GET",  PUBLIC),
    ("/accounts/invitations/{team_invitation_raw}/",            "POST", (302,) * 7),
    ("/accounts/invitations/{used_invitation_raw}/",            "GET",  (410,) * 7),
    ("/accounts/invitations/{used_invitation_raw}/",            "POST", (410,) * 7),
    ("/accounts/invitations/not-a-token/",                      "GET",  (410,) * 7),
    # Everyone signed in may change their own password (an empty form is a 400).
    ("/accounts/password/",                                     "GET",  (LOGIN, 200, 200, 200, 200, LOGIN, LOGIN)),
    ("/accounts/password/",                                     "POST", (LOGIN, 400, 400, 400, 400, LOGIN, LOGIN)),
    ("/wellbeing/support/",                                     "GET",  PUBLIC),
    ("/wellbeing/privacy/",                                     "GET",  PUBLIC),
    # --- reviewer pages: reviewers only; a non-reviewer gets 403, someone else's object 404
    ("/review/",                                                "GET",  (LOGIN, 200, 200, 403, 403, LOGIN, LOGIN)),
    # POST claims; GET only reads: to the preview of the lease held there (302), else a page
    # whose button claims (200).
    ("/review/studies/{study}/next",                            "GET",  (LOGIN, 302, 302, 403, 403, LOGIN, LOGIN)),
    ("/review/studies/{solo}/next",                             "GET",  (LOGIN, 200, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/studies/{solo}/next",                             "POST", (LOGIN, 302, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/studies/{missing}/next",                          "GET",  (LOGIN, 404, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/studies/{study}/done",                            "GET",  (LOGIN, 200, 200, 403, 403, LOGIN, LOGIN)),
    ("/review/studies/{solo}/done",                             "GET",  (LOGIN, 200, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/slots/{held_slot}/",                              "GET",  (LOGIN, 200, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/slots/{reviewed_slot}/",                          "GET",  (LOGIN, 404, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/slots/{held_slot}/skip",                          "POST", (LOGIN, 302, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/slots/{held_slot}/skip",                          "GET",  (LOGIN, 405, 405, 403, 403, LOGIN, LOGIN)),
    ("/review/slots/{missing}/skip",                            "POST", (LOGIN, 404, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/slots/{held_slot}/review",                        "GET",  (LOGIN, 200, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/slots/{held_slot}/review",                        "POST", (LOGIN, 302, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/slots/{reviewed_slot}/review",                    "GET",  (LOGIN, 404, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/slots/{reviewed_slot}/review",                    "POST", (LOGIN, 302, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/slots/{missing}/review",                          "POST", (LOGIN, 404, 404, 403, 403, LOGIN, LOGIN)),
    # Undo: the reviewer's own last review, for 5 minutes; "other" has none (404), nor can open it.
    ("/review/undo",                                            "POST", (LOGIN, 302, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/undo",                                            "GET",  (LOGIN, 405, 405, 403, 403, LOGIN, LOGIN)),
    ("/review/reviews/{review}/edit",                           "GET",  (LOGIN, 200, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/reviews/{review}/edit",                           "POST", (LOGIN, 302, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/reviews/{missing}/edit",                          "GET",  (LOGIN, 404, 404, 403, 403, LOGIN, LOGIN)),
    # The reference answer after a calibration answer: its reviewer's alone.
    ("/review/calibration/{calibration}/",                      "GET",  (LOGIN, 200, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/calibration/{review}/",                           "GET",  (LOGIN, 404, 404, 403, 403, LOGIN, LOGIN)),
    ("/review/calibration/{missing}/",                          "GET",  (LOGIN, 404, 404, 403, 403, LOGIN, LOGIN)),
    # --- wellbeing: a respondent's own answers; anyone else's are 404
    ("/wellbeing/checkin/",                                     "GET",  (LOGIN, 200, 200, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/checkin/",                                     "POST", (LOGIN, 302, 302, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/surveys/who-5/",                               "GET",  (LOGIN, 200, 200, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/surveys/who-5/",                               "POST", (LOGIN, 400, 400, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/surveys/no-such-survey/",                      "GET",  (LOGIN, 404, 404, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/responses/{response}/thanks/",                 "GET",  (LOGIN, 200, 404, 404, 404, LOGIN, LOGIN)),
    ("/wellbeing/responses/{missing}/thanks/",                  "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/wellbeing/invitations/{invitation}/snooze",              "POST", (LOGIN, 302, 404, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/invitations/{missing}/snooze",                 "POST", (LOGIN, 404, 404, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/me/",                                          "GET",  (LOGIN, 200, 200, 200, 200, LOGIN, LOGIN)),
    ("/wellbeing/break/",                                       "GET",  (LOGIN, 200, 200, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/break/",                                       "POST", (LOGIN, 302, 302, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/pause/",                                       "POST", (LOGIN, 302, 302, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/paused/",                                      "GET",  (LOGIN, 200, 200, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/preferences/",                                 "GET",  (LOGIN, 200, 200, 403, 403, LOGIN, LOGIN)),
    ("/wellbeing/preferences/",                                 "POST", (LOGIN, 302, 302, 403, 403, LOGIN, LOGIN)),
    # --- lead pages: 404 to everyone signed in who is not a lead, so they cannot tell what exists
    ("/lead/studies/",                                          "GET",  (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    ("/lead/studies/new",                                       "GET",  (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    ("/lead/studies/new",                                       "POST", (LOGIN, 404, 404, 400, 400, LOGIN, LOGIN)),
    ("/lead/studies/{study}/",                                  "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{missing}/",                                "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/agreement/refresh",                 "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/tables/progress.csv",               "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/tables/model-size.csv",             "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/tables/self-vs-reviewers.csv",      "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/tables/no-such-table.csv",          "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/items/{item}/",                     "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{solo}/items/{item}/",                      "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/items/{item}/gold",                 "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{solo}/items/{item}/gold",                  "POST", (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/items/{item}/gold/remove",          "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/gold/",                             "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{missing}/gold/",                           "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/gold/settings",                     "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/notes-sharing",                     "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/instructions",                      "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/wellbeing",                         "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/status",                            "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    # Archive asks first (GET, a confirmation page naming the study), then archives (POST).
    ("/lead/studies/{study}/archive",                           "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/archive",                           "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{missing}/archive",                         "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    # A starting study's progress, polled by the lead's page (JSON).
    ("/lead/studies/{study}/start-progress",                    "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{missing}/start-progress",                  "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/members",                           "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/members",                           "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    # --- adjudication: the lead sets the rule and names adjudicators from the dashboard
    ("/lead/studies/{study}/adjudication/rule",                 "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{missing}/adjudication/rule",               "POST", (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/adjudication/adjudicators",         "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/adjudication/adjudicators/{other_user}/remove",
                                                                "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/adjudication/adjudicators/{missing}/remove",
                                                                "POST", (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    # The queue and its items: a lead, or a reviewer named for the study ("other"); any other
    # reviewer gets 404, as if there were no such study. Recording a label on an item that is
    # not waiting (this one is a review short) is a 409 with the reason, not a 500.
    ("/adjudication/studies/{study}/",                          "GET",  (LOGIN, 404, 200, 200, 404, LOGIN, LOGIN)),
    ("/adjudication/studies/{solo}/",                           "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/adjudication/studies/{missing}/",                        "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/adjudication/studies/{study}/items/{item}/",             "GET",  (LOGIN, 404, 200, 200, 404, LOGIN, LOGIN)),
    ("/adjudication/studies/{study}/items/{item}/",             "POST", (LOGIN, 404, 409, 409, 404, LOGIN, LOGIN)),
    ("/adjudication/studies/{solo}/items/{item}/",              "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/adjudication/studies/{study}/items/{missing}/",          "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    # Reviewer quality: per study (its leads only), and across the lead's own studies.
    ("/lead/studies/{study}/reviewers/",                        "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/reviewers/",                        "POST", (LOGIN, 404, 404, 405, 405, LOGIN, LOGIN)),
    ("/lead/studies/{missing}/reviewers/",                      "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/lead/reviewers/",                                        "GET",  (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    # A study's leads: its own leads add and remove co-leads; another lead cannot even see them.
    ("/lead/studies/{study}/leads",                             "GET",  (LOGIN, 404, 404, 200, 404, LOGIN, LOGIN)),
    ("/lead/studies/{study}/leads",                             "POST", (LOGIN, 404, 404, 302, 404, LOGIN, LOGIN)),
    ("/lead/studies/{missing}/leads",                           "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    # The team: every lead manages the team's reviewers and leads (operators are the admin's).
    ("/lead/team/",                                             "GET",  (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    ("/lead/team/invitations",                                  "POST", (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    ("/lead/team/accounts",                                     "POST", (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    ("/lead/team/invitations/{team_invitation}/revoke",         "POST", (LOGIN, 404, 404, 302, 302, LOGIN, LOGIN)),
    ("/lead/team/people/{reviewer_id}/",                        "GET",  (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    ("/lead/team/people/{reviewer_id}/",                        "POST", (LOGIN, 404, 404, 302, 302, LOGIN, LOGIN)),
    ("/lead/team/people/{missing}/",                            "GET",  (LOGIN, 404, 404, 404, 404, LOGIN, LOGIN)),
    ("/lead/team/people/{reviewer_id}/active",                  "POST", (LOGIN, 404, 404, 302, 302, LOGIN, LOGIN)),
    ("/lead/tokens/",                                           "GET",  (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    ("/lead/tokens/",                                           "POST", (LOGIN, 404, 404, 400, 400, LOGIN, LOGIN)),
    ("/lead/tokens/{token}/revoke",                             "POST", (LOGIN, 404, 404, 302, 302, LOGIN, LOGIN)),
    ("/lead/audit/",                                            "GET",  (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    ("/lead/audit/events.csv",                                  "GET",  (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    ("/lead/wellbeing/",                                        "GET",  (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    ("/lead/wellbeing/tables/feelings.csv",                     "GET",  (LOGIN, 404, 404, 200, 200, LOGIN, LOGIN)),
    # --- the REST API: leads' sessions and tokens with the endpoint's scope; read-only for all
    ("/api/v1/studies/",                                        "GET",  LABELS_API_LIST),
    ("/api/v1/studies/",                                        "POST", (401, 403, 403, 405, 405, 405, 403)),
    ("/api/v1/studies/{study}/",                                "GET",  LABELS_API),
    ("/api/v1/studies/{study}/",                                "DELETE", (401, 403, 403, 405, 405, 405, 403)),
    ("/api/v1/studies/{missing}/",                              "GET",  (401, 403, 403, 404, 404, 404, 403)),
    ("/api/v1/studies/{study}/items/",                          "GET",  LABELS_API),
    ("/api/v1/studies/{study}/labels/",                         "GET",  LABELS_API),
    ("/api/v1/labels/",                                         "GET",  LABELS_API_LIST),
    ("/api/v1/labels/",                                         "POST", (401, 403, 403, 405, 405, 405, 403)),
    ("/api/v1/studies/{study}/labels/export?format=jsonl",      "GET",  LABELS_API),
    ("/api/v1/studies/{study}/agreement/",                      "GET",  AGREEMENT_API),
    ("/api/v1/studies/{study}/reviewers/",                      "GET",  AGREEMENT_API),
    ("/api/v1/studies/{missing}/reviewers/",                    "GET",  (401, 403, 403, 404, 404, 403, 404)),
    ("/api/v1/tags/",                                           "GET",  (401, 403, 403, 200, 200, 200, 200)),
    ("/api/v1/transcripts/{transcript}/",                       "GET",  LABELS_API),
    ("/api/v1/transcripts/{missing}/",                          "GET",  (401, 403, 403, 404, 404, 404, 403)),
    # The schema and its docs page describe the API and hold no data.
    ("/api/v1/schema/",                                         "GET",  PUBLIC),
    ("/api/v1/docs/",                                           "GET",  PUBLIC),
    # --- the admin, a representative handful (every admin URL is also checked by a rule): staff only
    ("/admin/",                                                 "GET",  (ADMIN_LOGIN,) * 7),
    ("/admin/login/",                                           "GET",  PUBLIC),
    ("/admin/review/review/",                                   "GET",  (ADMIN_LOGIN,) * 7),
    ("/admin/review/review/{review}/change/",                   "GET",  (ADMIN_LOGIN,) * 7),
    ("/admin/wellbeing/instrument/",                            "GET",  (ADMIN_LOGIN,) * 7),
    # Leads are not operators: the account pages (passwords, roles) and study settings are not theirs.
    ("/admin/auth/user/",                                       "GET",  (ADMIN_LOGIN,) * 7),
    ("/admin/auth/group/",                                      "GET",  (ADMIN_LOGIN,) * 7),
    ("/admin/review/study/{study}/change/",                     "GET",  (ADMIN_LOGIN,) * 7),
    ("/admin/review/study/{study}/change/",                     "POST", (ADMIN_LOGIN,) * 7),
    ("/admin/review/study/{study}/delete/",                     "GET",  (ADMIN_LOGIN,) * 7),
]
# fmt: on

# What the POST rows send. The rows test who may act, so each form is one the view accepts
# from its rightful user (except where the row expects 400 for an empty form).
FORMS: dict[str, dict[str, str]] = {
    "/review/slots/{held_slot}/skip": {"reason": "tired of this one"},
    "/review/slots/{held_slot}/review": {"rating": "2", "lease": "{lease}"},
    "/review/slots/{reviewed_slot}/review": {"rating": "0"},  # a double submit: the first answer stands
    "/review/slots/{missing}/review": {"rating": "2"},
    "/wellbeing/checkin/": {"action": "decline", "trigger": "after_reviews"},
    "/wellbeing/invitations/{invitation}/snooze": {"next": "/review/"},
    "/wellbeing/break/": {"outcome": "dismissed"},
    "/lead/studies/{study}/status": {"action": "pause"},
    "/lead/studies/{study}/notes-sharing": {"share": "on"},
    "/lead/studies/{study}/instructions": {"instructions": "Rate **0-4**."},
    "/review/reviews/{review}/edit": {"rating": "1", "note": "changed my mind"},
    "/lead/studies/{study}/items/{item}/gold": {"rating": "3", "explanation": "Step-by-step and usable."},
    "/lead/studies/{solo}/items/{item}/gold": {"rating": "3", "explanation": "Step-by-step and usable."},
    "/lead/studies/{study}/gold/settings": {"calibration_items": "2", "gold_percent": "10"},
    "/accounts/invitations/{team_invitation_raw}/": {"username": "invited-ann", "password": "a long new passphrase"},
    "/accounts/invitations/{used_invitation_raw}/": {"username": "invited-bob", "password": "a long new passphrase"},
    "/lead/studies/{study}/leads": {"lead": "{other_lead_id}", "action": "add"},
    "/lead/team/invitations": {"role": "reviewer", "note": "ann@example.org", "days": "7"},
    "/lead/team/accounts": {"username": "handed-over", "role": "reviewer"},
    "/lead/team/people/{reviewer_id}/": {"red_team_member_id": "424242"},
    "/lead/team/people/{reviewer_id}/active": {"active": "0"},
    "/lead/studies/{study}/wellbeing": {"daily_cap_minutes": "120", "checkin_every_reviews": "10"},
    "/lead/studies/{study}/adjudication/rule": {"kind": "binary_split", "min_spread": "2"},
    "/lead/studies/{study}/adjudication/adjudicators": {"user": "{other_user}"},
    "/adjudication/studies/{study}/items/{item}/": {"rating": "2", "reason": "the reviews split"},
}
