"""The product's URLs plus a bare DRF list view of the same page of the same table."""

from django.urls import path
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny

from audits.models import Submission
from govportal.urls import urlpatterns as product_urlpatterns


class BareSubmissionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Submission
        fields = [
            "reference",
            "status",
            "revision",
            "model_version",
            "created_at",
            "updated_at",
            "submitted_at",
            "decided_at",
        ]


class BarePagination(PageNumberPagination):
    page_size = 50


class BareSubmissionList(generics.ListAPIView):
    """No authentication, no tenancy, no annotations: the floor a DRF list can reach."""

    queryset = Submission.objects.order_by("-created_at", "-id")
    serializer_class = BareSubmissionSerializer
    pagination_class = BarePagination
    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = []


urlpatterns = [
    path("bench/bare-submissions/", BareSubmissionList.as_view()),
    *product_urlpatterns,
]
