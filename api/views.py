"""The REST API's views: validate, call a selector, render. Permissions and throttling come
from REST_FRAMEWORK's defaults (leads only; a token needs the view's scope).

Label handlers read from the replica when one is configured (pipelines pulling labels
tolerate a few seconds of lag); authentication runs before the handler, on the primary, so a
revoked token stops working at once. The agreement handler reads its one snapshot row on the
primary, as the dashboard does, because without a worker it computes a pending one first.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from django.http import Http404, HttpResponseNotModified, StreamingHttpResponse
from django.utils.http import http_date, quote_etag
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, mixins, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from adjudication.selectors import item_adjudications
from agreement.consensus import DEFAULT_FIT, STUDY_FITS
from agreement.selectors import study_reviewer_quality
from agreement.services import agreement_snapshot_settle, consensus_snapshot_settle
from api.authentication import request_token
from api.export import labels_export, labels_export_audit, labels_export_summary
from api.filters import ItemFilter, LabelFilter
from api.models import ApiScope
from api.pseudonyms import reviewer_pseudonym
from api.selectors import (
    item_tag_votes,
    labels_of,
    studies_of,
    studies_progress,
    study_items,
    transcripts_with_tags,
)
from api.serializers import (
    AgreementSerializer,
    ExportQuerySerializer,
    ItemQuerySerializer,
    ItemSerializer,
    LabelSerializer,
    ReviewerQualitySerializer,
    StudySerializer,
    TagSerializer,
    TranscriptSerializer,
)
from config.db_routing import replica_reads
from core.roles import signed_in_user
from review.selectors import study_for_lead
from tagging.selectors import tags_in_order

if TYPE_CHECKING:
    from review.models import Study, StudyItem
    from tagging.models import Tag
    from transcripts.models import Transcript

LABELS = (ApiScope.READ_LABELS,)
AGREEMENT = (ApiScope.READ_AGREEMENT,)
# Every list of the API is paged (REST_FRAMEWORK's DEFAULT_PAGINATION_CLASS); the lists below rely on it.
NOT_PAGINATED = "The API's lists need REST_FRAMEWORK's DEFAULT_PAGINATION_CLASS."
EXPORT_TYPES = {"jsonl": "application/x-ndjson; charset=utf-8", "csv": "text/csv; charset=utf-8"}


def _study(request: Request, study_id: int) -> Study:
    """The study if the request's lead (the session's, or the token's owner) leads it, else 404."""
    study = study_for_lead(user=signed_in_user(request.user), study_id=study_id)
    if study is None:
        raise Http404("No such study.")
    return study


class StudyViewSet(viewsets.ReadOnlyModelViewSet):
    """Studies with their progress."""

    serializer_class = StudySerializer
    required_scopes = LABELS
    lookup_value_converter = "id"

    def get_queryset(self) -> QuerySet[Study]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view for the schema
            return studies_of(user=None)
        return studies_of(user=signed_in_user(self.request.user))

    @replica_reads()
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        page = self.paginate_queryset(self.get_queryset())
        if page is None:
            raise ImproperlyConfigured(NOT_PAGINATED)
        serializer = self.get_serializer(page, many=True, context=self._context(page))
        return self.get_paginated_response(serializer.data)

    @replica_reads()
    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        study = self.get_object()
        return Response(self.get_serializer(study, context=self._context([study])).data)

    def get_serializer(self, *args: Any, context: dict[str, Any] | None = None, **kwargs: Any) -> StudySerializer:
        return StudySerializer(*args, context={**self.get_serializer_context(), **(context or {})}, **kwargs)

    def _context(self, studies: Sequence[Study]) -> dict[str, Any]:
        return {"progress": studies_progress(studies=list(studies))}


class StudyItemViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """A study's items with their aggregate labels: mean rating, majority binary label, tag votes."""

    serializer_class = ItemSerializer
    filterset_class = ItemFilter
    required_scopes = LABELS

    def get_queryset(self) -> QuerySet[StudyItem]:
        if getattr(self, "swagger_fake_view", False):  # drf-spectacular reading the view for the schema
            return study_items(study=None)
        return study_items(study=self.study)

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)
        self.study = _study(request, kwargs["study_id"])

    @extend_schema(
        parameters=[
            OpenApiParameter(
                "consensus",
                OpenApiTypes.STR,
                enum=list(STUDY_FITS),
                default=DEFAULT_FIT,
                description="Which consensus each item carries: Dawid-Skene on the binary scale (the default), "
                "Dawid-Skene on 0-4, or MACE on the binary scale.",
            )
        ]
    )
    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        query = ItemQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        # As the agreement endpoint: a consensus due with no worker to compute it is computed now, on the primary.
        consensus_snapshot_settle(study_id=self.study.pk)
        with replica_reads():
            page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
            if page is None:
                raise ImproperlyConfigured(NOT_PAGINATED)
            context = {**self.get_serializer_context(), "study": self.study, **query.validated_data}
            context["tag_votes"] = item_tag_votes(item_ids=[item.pk for item in page])
            context["adjudications"] = item_adjudications(item_ids=[item.pk for item in page])
            return self.get_paginated_response(ItemSerializer(page, many=True, context=context).data)


class LabelViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Labels, one per review, oldest first; filter with the query parameters below."""

    serializer_class = LabelSerializer
    filterset_class = LabelFilter
    required_scopes = LABELS

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        if "study_id" in kwargs:  # labels carry their item's consensus: settle it first, on the primary
            consensus_snapshot_settle(study_id=_study(request, kwargs["study_id"]).pk)
        with replica_reads():
            return super().list(request, *args, **kwargs)

    def get_queryset(self) -> QuerySet[Any]:
        if getattr(self, "swagger_fake_view", False):
            return labels_of(user=None)
        study = _study(self.request, self.kwargs["study_id"]) if "study_id" in self.kwargs else None
        return labels_of(user=signed_in_user(self.request.user), study=study)


class AgreementView(generics.GenericAPIView):
    """The study's agreement snapshot: recomputed by a worker after reviews; without one (no
    broker), computed here when reviews came in since, as the lead's dashboard does."""

    serializer_class = AgreementSerializer
    required_scopes = AGREEMENT
    pagination_class = None

    def get(self, request: Request, study_id: int) -> Response:
        study = _study(request, study_id)
        # As the dashboard: a refresh pending with no worker to run it (no broker) is computed now.
        # On the primary, which the settle may have just written (a replica could lag behind it).
        snapshot = agreement_snapshot_settle(study_id=study.pk)
        if snapshot is None or snapshot.computed_at is None:  # not computed yet
            data: dict[str, object] = {"study": study.pk, "computed_at": None, "review_count": 0, "rows": []}
        else:
            data = {
                "study": study.pk,
                "computed_at": snapshot.computed_at,
                "review_count": snapshot.review_count,
                "rows": snapshot.data.get("agreement", []),
            }
        return Response(AgreementSerializer(data).data)


class ReviewerQualityView(generics.GenericAPIView):
    """Each reviewer's quality in the study, as the lead's Reviewers page shows it, with
    reviewers named by their study pseudonym (the labels' `reviewer`), never their account."""

    serializer_class = ReviewerQualitySerializer
    required_scopes = AGREEMENT
    pagination_class = None

    def get(self, request: Request, study_id: int) -> Response:
        study = _study(request, study_id)
        # As the agreement endpoint: a pending snapshot no worker will compute is computed now, on the primary.
        snapshot = agreement_snapshot_settle(study_id=study.pk)
        quality = study_reviewer_quality(
            study=study, snapshot=snapshot, consensus=consensus_snapshot_settle(study_id=study.pk)
        )
        reviewers = [
            {
                "reviewer": reviewer_pseudonym(study_id=study.pk, reviewer_id=row["reviewer_id"]),
                **{key: value for key, value in row.items() if key not in ("reviewer_id", "username")},
            }
            for row in quality["reviewers"]
        ]
        reviewers.sort(key=lambda row: row["reviewer"])
        data = {
            "study": study.pk,
            "computed_at": quality["computed_at"],
            "pool": quality["pool"],
            "rules": quality["rules"],
            "consensus_computed_at": quality["consensus_computed_at"],
            "reviewers": reviewers,
        }
        return Response(ReviewerQualitySerializer(data).data)


class TagList(generics.ListAPIView):
    """The 20 harm topics, in the paper's order."""

    serializer_class = TagSerializer
    pagination_class = None
    filter_backends: list[Any] = []
    required_scopes = LABELS + AGREEMENT

    def get_queryset(self) -> QuerySet[Tag]:
        return tags_in_order()


class TranscriptDetail(generics.RetrieveAPIView):
    """One transcript with every released field and its parsed turns."""

    serializer_class = TranscriptSerializer
    required_scopes = LABELS

    def get_queryset(self) -> QuerySet[Transcript]:
        if getattr(self, "swagger_fake_view", False):
            return transcripts_with_tags(user=None)
        return transcripts_with_tags(user=signed_in_user(self.request.user))


class LabelExport(APIView):
    """Every label of a study as one streamed file, for pipelines. Send If-None-Match with the
    last ETag to get 304 when nothing changed. JSONL is exact; CSV defuses spreadsheet formulas."""

    required_scopes = LABELS

    @extend_schema(
        parameters=[
            OpenApiParameter("format", OpenApiTypes.STR, enum=["jsonl", "csv"], default="jsonl"),
        ],
        responses={
            (200, "application/x-ndjson"): OpenApiResponse(OpenApiTypes.STR, description="One JSON label a line."),
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.STR, description="A header, then one label a row."),
            304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match."),
        },
    )
    def get(self, request: Request, study_id: int) -> StreamingHttpResponse | HttpResponseNotModified:
        query = ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        study = _study(request, study_id)
        # Labels carry their item's consensus: one due with no worker to compute it is computed now, on the primary.
        consensus_snapshot_settle(study_id=study.pk)
        with replica_reads():
            return self._export(request, study, query.validated_data["format"])

    def _export(
        self, request: Request, study: Study, export_format: str
    ) -> StreamingHttpResponse | HttpResponseNotModified:
        summary = labels_export_summary(study=study, export_format=export_format)
        etag, last_modified = summary.etag, summary.last_modified
        if etag in {tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")}:
            return HttpResponseNotModified(headers={"ETag": etag})
        token = request_token(request)
        labels_export_audit(
            actor=signed_in_user(request.user), study=study, export_format=export_format, rows=summary.rows, token=token
        )
        # The body is read after this method returns, outside replica_reads(): labels_export
        # fixes its database alias now.
        response = StreamingHttpResponse(
            labels_export(study=study, export_format=export_format), content_type=EXPORT_TYPES[export_format]
        )
        response["Content-Disposition"] = f'attachment; filename="triad-study-{study.pk}-labels.{export_format}"'
        response["ETag"] = quote_etag(etag)
        if last_modified is not None:
            response["Last-Modified"] = http_date(last_modified.timestamp())
        response["Cache-Control"] = "private, no-cache"
        return response
