from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from api import views

app_name = "api"

# Path converters rather than regexes, so the ids in these routes are <id:...> like every other.
router = SimpleRouter(use_regex_path=False)
router.register("studies", views.StudyViewSet, basename="study")
router.register("labels", views.LabelViewSet, basename="label")
router.register("studies/<id:study_id>/items", views.StudyItemViewSet, basename="study-item")
router.register("studies/<id:study_id>/labels", views.LabelViewSet, basename="study-label")

urlpatterns = [
    path("studies/<id:study_id>/labels/export", views.LabelExport.as_view(), name="label-export"),
    path("studies/<id:study_id>/agreement/", views.AgreementView.as_view(), name="agreement"),
    path("studies/<id:study_id>/reviewers/", views.ReviewerQualityView.as_view(), name="reviewer-quality"),
    path("tags/", views.TagList.as_view(), name="tags"),
    path("transcripts/<id:pk>/", views.TranscriptDetail.as_view(), name="transcript"),
    # The schema and its docs page hold no data, so anyone may read them.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny]), name="docs"
    ),
    *router.urls,
]
