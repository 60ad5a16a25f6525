"""The deal screens' URLs."""

from django.urls import path

from opportunities import export_views, views
from opportunities.views import pipeline_review

urlpatterns = [
    path("", views.dashboard, name="home"),
    path("board/", views.board, name="board"),
    path("board/export.csv", export_views.board_export_csv, name="board_export_csv"),
    path("board/export.xlsx", export_views.board_export_xlsx, name="board_export_xlsx"),
    path("changes/", views.changes, name="changes"),
    path("forecast/", views.forecast_page, name="forecast"),
    path("forecast/export.csv", pipeline_review.forecast_export_csv, name="forecast_export_csv"),
    path("forecast/export.xlsx", pipeline_review.forecast_export_xlsx, name="forecast_export_xlsx"),
    path("waterfall/", views.waterfall_page, name="waterfall"),
    path("waterfall/export.csv", pipeline_review.waterfall_export_csv, name="waterfall_export_csv"),
    path(
        "waterfall/export.xlsx",
        pipeline_review.waterfall_export_xlsx,
        name="waterfall_export_xlsx",
    ),
    path("deals/<int:pk>/", views.deal_detail, name="deal"),
    path("deals/<int:pk>/history/", views.deal_history, name="deal_history"),
    path(
        "deals/<int:pk>/conflicts/<int:conflict_id>/",
        views.conflict_decide,
        name="deal_conflict_decide",
    ),
    path(
        "deals/<int:pk>/set-aside/<slug:field>/",
        views.refused_decide,
        name="deal_refused_decide",
    ),
]
