from django.urls import path

from opportunities import export_views, views

urlpatterns = [
    path("", views.opportunity_list, name="home"),
    path("board/export.csv", export_views.board_export_csv, name="board_export_csv"),
    path("board/export.xlsx", export_views.board_export_xlsx, name="board_export_xlsx"),
]
