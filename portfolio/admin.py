from django.contrib import admin

from portfolio.models import EnrolledUnit, Enrolment


class EnrolledUnitInline(admin.TabularInline):
    model = EnrolledUnit
    extra = 0


@admin.register(Enrolment)
class EnrolmentAdmin(admin.ModelAdmin):
    list_display = ["learner", "qualification", "centre", "assessor", "iqa", "status", "start_date"]
    list_filter = ["status", "centre"]
    list_select_related = ["learner", "qualification", "centre", "assessor", "iqa"]
    readonly_fields = ["uuid", "created_at"]
    inlines = [EnrolledUnitInline]
