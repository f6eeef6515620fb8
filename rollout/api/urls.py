from django.urls import path

from rollout.api import views

urlpatterns = [
    path("flags/", views.FlagListView.as_view(), name="rollout-flags"),
    path("flags/<str:name>/", views.FlagDetailView.as_view(), name="rollout-flag"),
    path("flags/<str:name>/history/", views.FlagHistoryView.as_view(), name="rollout-flag-history"),
    path("me/", views.MeView.as_view(), name="rollout-me"),
]
