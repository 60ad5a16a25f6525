"""The deal screens' URLs."""

from django.urls import path

from opportunities import views

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("board/", views.board, name="board"),
    path("changes/", views.changes, name="changes"),
    path("deals/<int:pk>/", views.deal_detail, name="deal"),
]
