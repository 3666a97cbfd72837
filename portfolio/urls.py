from django.urls import path

from portfolio.views import audit, enrolments, evidence, exports, files, grants, portfolios

app_name = "portfolio"
urlpatterns = [
    path("", portfolios.home, name="home"),
    # Portfolios (enrolments)
    path("enrolments/new/", enrolments.enrol, name="enrol"),
    path("portfolios/<uuid:uuid>/", portfolios.portfolio_detail, name="portfolio"),
    path("portfolios/<uuid:uuid>/reassign/", enrolments.reassign, name="reassign"),
    path("portfolios/<uuid:uuid>/units/<uuid:unit_uuid>/", portfolios.unit_tracking, name="unit_tracking"),
    path("portfolios/<uuid:uuid>/audit/", audit.audit_trail, name="audit"),
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
    # External verifier access
    path("access/", grants.grant_list, name="grants"),
    path("access/new/", grants.grant_create, name="grant_create"),
    path("access/<uuid:uuid>/revoke/", grants.grant_revoke, name="grant_revoke"),
    # PDF exports
    path("portfolios/<uuid:uuid>/exports/", exports.export_create, name="export_create"),
    path("exports/<uuid:uuid>/", exports.export_detail, name="export"),
    path("exports/<uuid:uuid>/status/", exports.export_status, name="export_status"),
    path("exports/<uuid:uuid>/download/", exports.export_download, name="export_download"),
    path("exports/<uuid:uuid>/retry/", exports.export_retry_view, name="export_retry"),
]
