from django.contrib.auth import views as auth_views
from django.urls import path

from audits.web import views

urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("accounts/login/", auth_views.LoginView.as_view(), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("submissions/<str:reference>/", views.submission_detail, name="submission-detail"),
]
