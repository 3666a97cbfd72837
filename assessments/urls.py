from django.urls import path

from assessments.views import caseload, judging, notices, plans, records, sampling, signoff

app_name = "assessments"
urlpatterns = [
    path("caseload/", caseload.caseload, name="caseload"),
    path("evidence/<uuid:uuid>/assess/", judging.assess, name="assess"),
    path("portfolios/<uuid:uuid>/units/<uuid:unit_uuid>/sign-off/", signoff.sign_off, name="sign_off"),
    path("portfolios/<uuid:uuid>/units/<uuid:unit_uuid>/countersign/", signoff.countersign, name="countersign"),
    path("portfolios/<uuid:uuid>/plans/new/", plans.plan_create, name="plan_create"),
    path("plans/<uuid:uuid>/", plans.plan_detail, name="plan"),
    path("plans/<uuid:uuid>/sign/", plans.plan_sign, name="plan_sign"),
    path("plans/<uuid:uuid>/reviews/new/", plans.review_create, name="review_create"),
    path("reviews/<uuid:uuid>/sign/", plans.review_sign, name="review_sign"),
    path("portfolios/<uuid:uuid>/records/new/", records.record_create, name="record_create"),
    path("evidence/<uuid:uuid>/confirm/", records.record_confirm, name="record_confirm"),
    path("notices/<uuid:uuid>/read/", notices.notice_read, name="notice_read"),
    # IQA sampling
    path("sampling/", sampling.plan_list, name="sampling_plans"),
    path("sampling/new/", sampling.plan_create, name="sampling_plan_create"),
    path("sampling/<uuid:uuid>/", sampling.plan_detail, name="sampling_plan"),
    path("sampling/<uuid:uuid>/items/", sampling.sample_add, name="sample_add"),
    path("samples/<uuid:uuid>/", sampling.sample_review, name="sample_review"),
]
