from django.urls import path

from portfolio.views import enrolments, evidence, files, portfolios

app_name = "portfolio"
urlpatterns = [
    path("", portfolios.home, name="home"),
    # Portfolios (enrolments)
    path("enrolments/new/", enrolments.enrol, name="enrol"),
    path("portfolios/<uuid:uuid>/", portfolios.portfolio_detail, name="portfolio"),
    path("portfolios/<uuid:uuid>/reassign/", enrolments.reassign, name="reassign"),
    path("portfolios/<uuid:uuid>/units/<uuid:unit_uuid>/", portfolios.unit_tracking, name="unit_tracking"),
    path("portfolios/<uuid:uuid>/evidence/new/", evidence.evidence_create, name="evidence_create"),
    # Evidence
    path("evidence/<uuid:uuid>/", evidence.evidence_detail, name="evidence"),
    path("evidence/<uuid:uuid>/edit/", evidence.evidence_edit, name="evidence_edit"),
    path("evidence/<uuid:uuid>/mapping/", evidence.evidence_mapping, name="evidence_mapping"),
    path("evidence/<uuid:uuid>/submit/", evidence.evidence_submit, name="evidence_submit"),
    path("evidence/<uuid:uuid>/new-version/", evidence.evidence_new_version, name="evidence_new_version"),
    path("evidence/<uuid:uuid>/files/", files.upload, name="file_upload"),
    path("evidence/<uuid:uuid>/files/<uuid:file_uuid>/remove/", files.remove, name="file_remove"),
    # Files: always through the policy, never a public URL
    path("files/<uuid:uuid>/download/", files.download, name="file_download"),
    path("files/<uuid:uuid>/preview/", files.preview, name="file_preview"),
]
