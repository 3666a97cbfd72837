from django.urls import path

from units import views

app_name = "units"
urlpatterns = [
    path("", views.catalogue, name="catalogue"),
    path("<uuid:uuid>/", views.unit_detail, name="unit"),
    path("qualifications/<uuid:uuid>/", views.qualification_detail, name="qualification"),
]
