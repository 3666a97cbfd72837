"""Admin for correcting a specification. Changes apply to this version of the unit only."""

from django.contrib import admin

from units.models import (
    AssessmentCriterion,
    EvidenceRequirement,
    EvidenceRequirementItem,
    GroupUnit,
    KnowledgePoint,
    KnowledgeSection,
    LearnerGuidance,
    LearningOutcome,
    NosStandard,
    Qualification,
    RuleGroup,
    Unit,
    UnitCode,
)


class UnitCodeInline(admin.TabularInline):
    model = UnitCode
    extra = 0


class NosStandardInline(admin.TabularInline):
    model = NosStandard
    extra = 0


class LearningOutcomeInline(admin.TabularInline):
    model = LearningOutcome
    fields = ["number", "text", "kind"]
    extra = 0
    show_change_link = True


class EvidenceRequirementInline(admin.TabularInline):
    model = EvidenceRequirement
    extra = 0
    show_change_link = True


class LearnerGuidanceInline(admin.TabularInline):
    model = LearnerGuidance
    extra = 0


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ["title", "version", "level", "credit_value", "guided_learning_hours", "reference_number"]
    list_filter = ["level"]
    search_fields = ["title", "key", "reference_number", "codes__code"]
    readonly_fields = ["uuid", "key", "version", "loaded_at"]
    inlines = [
        UnitCodeInline,
        NosStandardInline,
        LearningOutcomeInline,
        EvidenceRequirementInline,
        LearnerGuidanceInline,
    ]


class AssessmentCriterionInline(admin.TabularInline):
    model = AssessmentCriterion
    fields = ["number", "ordinal", "text", "guidance"]
    extra = 0


class KnowledgeSectionInline(admin.TabularInline):
    model = KnowledgeSection
    extra = 0
    show_change_link = True


@admin.register(LearningOutcome)
class LearningOutcomeAdmin(admin.ModelAdmin):
    list_display = ["__str__", "unit", "kind"]
    list_filter = ["kind", "unit"]
    list_select_related = ["unit"]
    search_fields = ["text"]
    readonly_fields = ["uuid"]
    inlines = [AssessmentCriterionInline, KnowledgeSectionInline]


@admin.register(AssessmentCriterion)
class AssessmentCriterionAdmin(admin.ModelAdmin):
    list_display = ["number", "text", "outcome"]
    list_filter = ["outcome__unit"]
    list_select_related = ["outcome"]
    search_fields = ["text", "number"]
    readonly_fields = ["uuid"]


class KnowledgePointInline(admin.TabularInline):
    model = KnowledgePoint
    extra = 0


@admin.register(KnowledgeSection)
class KnowledgeSectionAdmin(admin.ModelAdmin):
    list_display = ["heading", "outcome"]
    list_select_related = ["outcome"]
    inlines = [KnowledgePointInline]


class EvidenceRequirementItemInline(admin.TabularInline):
    model = EvidenceRequirementItem
    fields = ["letter", "text"]
    extra = 0


@admin.register(EvidenceRequirement)
class EvidenceRequirementAdmin(admin.ModelAdmin):
    list_display = ["__str__", "unit"]
    list_filter = ["unit"]
    list_select_related = ["unit"]
    inlines = [EvidenceRequirementItemInline]


class GroupUnitInline(admin.TabularInline):
    model = GroupUnit
    extra = 0


class RuleGroupInline(admin.TabularInline):
    model = RuleGroup
    extra = 0
    show_change_link = True


@admin.register(RuleGroup)
class RuleGroupAdmin(admin.ModelAdmin):
    list_display = ["name", "qualification", "kind", "minimum_credits"]
    list_select_related = ["qualification"]
    inlines = [GroupUnitInline]


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    list_display = ["title", "awarding_body", "level", "framework", "minimum_credits"]
    readonly_fields = ["uuid", "key"]
    inlines = [RuleGroupInline]
