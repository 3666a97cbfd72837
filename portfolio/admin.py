from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts.models import User
from accounts.policy import Action as Policy
from accounts.policy import is_platform_staff, scope_q
from portfolio.models import EnrolledUnit, Enrolment, LegalHold, LegalHoldRelease, RetentionPolicy
from portfolio.services import retention


class EnrolledUnitInline(admin.TabularInline):
    model = EnrolledUnit
    extra = 0


class EnrolmentAdminForm(forms.ModelForm):
    """Certification goes through `retention.enrolment_certify` (validated, audited), not a plain save."""

    user: User  # set by EnrolmentAdmin.get_form

    class Meta:
        model = Enrolment
        fields = [
            "learner",
            "centre",
            "qualification",
            "assessor",
            "iqa",
            "start_date",
            "planned_end_date",
            "status",
            "certified_on",
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if self.instance.pk is None:
            return cleaned
        # Until _post_clean, self.instance holds the values as saved.
        if "certified_on" not in self.changed_data:
            if self.instance.certified_on is not None and cleaned.get("status") != Enrolment.Status.COMPLETED:
                self.add_error("status", "A certified enrolment stays completed.")
            return cleaned
        certified_on = cleaned.get("certified_on")
        if certified_on is None:
            self.add_error("certified_on", "A recorded certification cannot be removed.")
            return cleaned
        try:
            retention.check_may_act_for(self.user, self.instance, "record a certification")
        except ValidationError as refusal:
            self.add_error("certified_on", refusal)
            return cleaned
        problem = retention.certification_problem(self.instance, certified_on)
        if problem:
            self.add_error("certified_on", problem)
        else:
            cleaned["status"] = Enrolment.Status.COMPLETED  # certification completes the enrolment
        return cleaned


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    form = EnrolmentAdminForm
    list_display = ["learner", "qualification", "centre", "assessor", "iqa", "status", "start_date", "certified_on"]
    list_filter = ["status", "centre"]
    list_select_related = ["learner", "qualification", "centre", "assessor", "iqa"]
    readonly_fields = ["uuid", "created_at", "evidence_purged_at", "records_purged_at"]
    search_fields = ["learner__username", "learner__first_name", "learner__last_name"]
    inlines = [EnrolledUnitInline]

    def get_readonly_fields(self, request: HttpRequest, obj: Enrolment | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return fields if obj is not None else [*fields, "certified_on"]  # certify an existing enrolment

    def get_form(self, request: HttpRequest, obj: Enrolment | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def save_model(self, request: HttpRequest, obj: Enrolment, form: forms.ModelForm, change: bool) -> None:
        if not (change and "certified_on" in form.changed_data):
            super().save_model(request, obj, form, change)
            return
        certified_on = obj.certified_on
        obj.certified_on = form.initial.get("certified_on")  # the service records the new date, audited
        super().save_model(request, obj, form, change)
        certified = retention.enrolment_certify(enrolment=obj, certified_on=certified_on, by=request.user)
        obj.status, obj.certified_on = certified.status, certified.certified_on


# --- Retention -----------------------------------------------------------------------------------


@admin.register(RetentionPolicy)
class RetentionPolicyAdmin(admin.ModelAdmin):
    """How long each awarding body's portfolios are kept. Changes are audited; a body with no
    rule is never purged (`manage.py purge_expired --dry-run` lists them)."""

    list_display = [
        "awarding_body",
        "evidence_weeks_after_certification",
        "records_years_after_completion",
        "updated_by",
        "updated_at",
    ]
    list_select_related = ["updated_by"]
    fields = ["awarding_body", "evidence_weeks_after_certification", "records_years_after_completion"]
    readonly_fields = ["updated_by", "updated_at"]

    def get_fields(self, request: HttpRequest, obj: RetentionPolicy | None = None) -> list[str]:
        return [*self.fields, *(self.readonly_fields if obj is not None else [])]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return super().has_add_permission(request) and is_platform_staff(request.user)

    def has_change_permission(self, request: HttpRequest, obj: RetentionPolicy | None = None) -> bool:
        return super().has_change_permission(request, obj) and is_platform_staff(request.user)

    def has_delete_permission(self, request: HttpRequest, obj: RetentionPolicy | None = None) -> bool:
        return super().has_delete_permission(request, obj) and is_platform_staff(request.user)

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # one at a time, through the audited service
        return actions

    def save_model(self, request: HttpRequest, obj: RetentionPolicy, form: forms.ModelForm, change: bool) -> None:
        retention.retention_policy_save(policy=obj, by=request.user)

    def delete_model(self, request: HttpRequest, obj: RetentionPolicy) -> None:
        retention.retention_policy_delete(policy=obj, by=request.user)


class _CentreScoped:
    """The holds of the portfolios the policy lets this person manage retention for."""

    enrolment_path: str  # from the model to its Enrolment, e.g. "enrolment__"

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset.filter(scope_q(request.user, Policy.MANAGE_RETENTION, prefix=self.enrolment_path))


class LegalHoldForm(forms.ModelForm):
    user: User

    class Meta:
        model = LegalHold
        fields = ["enrolment", "reason"]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        enrolment = cleaned.get("enrolment")
        if enrolment is not None:
            try:
                retention.check_may_act_for(self.user, enrolment, "place a legal hold")
            except ValidationError as refusal:
                self.add_error("enrolment", refusal)
            if enrolment.records_purged_at is not None:
                self.add_error("enrolment", "This portfolio's records have been purged: there is nothing to hold.")
        return cleaned


@admin.register(LegalHold)
class LegalHoldAdmin(_CentreScoped, admin.ModelAdmin):
    """Place a hold here; release it by adding a legal hold release. Neither is ever edited."""

    enrolment_path = "enrolment__"
    form = LegalHoldForm
    list_display = ["enrolment", "reason", "placed_by", "placed_at", "released"]
    list_select_related = ["enrolment__learner", "enrolment__qualification", "placed_by", "release"]
    raw_id_fields = ["enrolment"]
    search_fields = ["enrolment__learner__username", "enrolment__learner__last_name", "reason"]
    readonly_fields = ["uuid", "placed_by", "placed_at", "released"]

    @admin.display(boolean=False, description="released")
    def released(self, hold: LegalHold) -> str:
        release = getattr(hold, "release", None)
        return f"{release.released_at:%d %b %Y} by {release.released_by}: {release.reason}" if release else "Active"

    def get_form(self, request: HttpRequest, obj: LegalHold | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def has_change_permission(self, request: HttpRequest, obj: LegalHold | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: LegalHold | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: LegalHold, form: forms.ModelForm, change: bool) -> None:
        hold = retention.legal_hold_place(enrolment=obj.enrolment, reason=obj.reason, by=request.user)
        obj.pk, obj.uuid, obj.placed_by, obj.placed_at = hold.pk, hold.uuid, hold.placed_by, hold.placed_at
        obj.reason = hold.reason
        obj._state.adding = False


class LegalHoldReleaseForm(forms.ModelForm):
    user: User

    class Meta:
        model = LegalHoldRelease
        fields = ["hold", "reason"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "hold" in self.fields:
            self.fields["hold"].queryset = LegalHold.objects.filter(release__isnull=True).select_related(
                "enrolment__learner", "enrolment__qualification"
            )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        hold = cleaned.get("hold")
        if hold is not None:
            try:
                retention.check_may_act_for(self.user, hold.enrolment, "release a legal hold")
            except ValidationError as refusal:
                self.add_error("hold", refusal)
        return cleaned


@admin.register(LegalHoldRelease)
class LegalHoldReleaseAdmin(_CentreScoped, admin.ModelAdmin):
    enrolment_path = "hold__enrolment__"
    form = LegalHoldReleaseForm
    list_display = ["hold", "reason", "released_by", "released_at"]
    list_select_related = ["hold__enrolment__learner", "hold__enrolment__qualification", "released_by"]
    readonly_fields = ["released_by", "released_at"]

    def get_form(self, request: HttpRequest, obj: LegalHoldRelease | None = None, change: bool = False, **kwargs: Any):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.user = request.user
        return form

    def has_change_permission(self, request: HttpRequest, obj: LegalHoldRelease | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: LegalHoldRelease | None = None) -> bool:
        return False

    def save_model(self, request: HttpRequest, obj: LegalHoldRelease, form: forms.ModelForm, change: bool) -> None:
        release = retention.legal_hold_release(hold=obj.hold, reason=obj.reason, by=request.user)
        obj.pk, obj.released_by, obj.released_at, obj.reason = (
            release.pk,
            release.released_by,
            release.released_at,
            release.reason,
        )
        obj._state.adding = False
