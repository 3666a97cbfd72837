from django.urls import path

from units import views, views_import

app_name = "units"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("<uuid:uuid>/", views.unit_detail, name="unit"),
    path("<uuid:uuid>/changes/", views_import.unit_changes, name="changes"),
    path("qualifications/<uuid:uuid>/", views.qualification_detail, name="qualification"),
    path("import/", views_import.unit_import, name="import"),
    path("import/<uuid:uuid>/", views_import.draft_review, name="draft"),
    path("import/<uuid:uuid>/publish/", views_import.draft_publish_confirm, name="draft_publish"),
    path(
        "move/<uuid:enrolment>/<uuid:unit>/",
        views_import.enrolled_unit_move_view,
        name="enrolled_unit_move",
    ),
]
