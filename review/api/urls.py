from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.permissions import AllowAny
from rest_framework.routers import SimpleRouter

from review.api import views

app_name = "api"

router = SimpleRouter()
router.register("studies", views.StudyViewSet, basename="study")
router.register("labels", views.LabelViewSet, basename="label")
router.register(r"studies/(?P<study_id>\d+)/items", views.StudyItemViewSet, basename="study-item")
router.register(r"studies/(?P<study_id>\d+)/labels", views.LabelViewSet, basename="study-label")

urlpatterns = [
    path("studies/<int:study_id>/labels/export", views.LabelExport.as_view(), name="label-export"),
    path("studies/<int:study_id>/agreement/", views.AgreementView.as_view(), name="agreement"),
    path("tags/", views.TagList.as_view(), name="tags"),
    path("transcripts/<int:pk>/", views.TranscriptDetail.as_view(), name="transcript"),
    # The schema and its docs page hold no data, so anyone may read them.
    path("schema/", SpectacularAPIView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema", permission_classes=[AllowAny]), name="docs"
    ),
    *router.urls,
]
