from django.contrib import admin

from payouts.models import (
    AttainmentSnapshot,
    PersonPlan,
    PlanVersion,
    QuotaAmendment,
    RecomputeRun,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by the recompute, never by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlanVersion)
class PlanVersionAdmin(admin.ModelAdmin):
    list_display = (
        "plan",
        "version",
        "effective_from",
        "target",
        "floor",
        "fraction_cap",
        "guarantee",
        "retained_threshold",
        "medium_deal_size",
        "created_at",
    )
    list_filter = ("plan", "guarantee")
    search_fields = ("description",)
    readonly_fields = ("created_at",)


class QuotaAmendmentInline(admin.TabularInline):
    model = QuotaAmendment
    extra = 0
    fields = ("previous_quota", "new_quota", "reason", "amended_by", "amended_at")
    readonly_fields = ("amended_by", "amended_at")


@admin.register(PersonPlan)
class PersonPlanAdmin(admin.ModelAdmin):
    list_display = ("person", "quarter", "plan", "target", "quota", "updated_at")
    list_filter = ("quarter", "plan")
    search_fields = ("person__name", "person__email", "quarter")
    autocomplete_fields = ("person",)
    list_select_related = ("person",)
    inlines = [QuotaAmendmentInline]


@admin.register(QuotaAmendment)
class QuotaAmendmentAdmin(admin.ModelAdmin):
    list_display = ("person_plan", "previous_quota", "new_quota", "amended_by", "amended_at")
    search_fields = ("person_plan__person__name", "person_plan__quarter", "reason")
    raw_id_fields = ("person_plan", "amended_by")
    readonly_fields = ("amended_at",)
    date_hierarchy = "amended_at"
    list_select_related = ("person_plan__person", "amended_by")


@admin.register(RecomputeRun)
class RecomputeRunAdmin(ReadOnlyAdmin):
    list_display = (
        "quarter",
        "as_of",
        "status",
        "done",
        "total",
        "started_by",
        "started_at",
        "finished_at",
    )
    list_filter = ("status", "quarter")
    date_hierarchy = "started_at"


@admin.register(AttainmentSnapshot)
class AttainmentSnapshotAdmin(ReadOnlyAdmin):
    list_display = (
        "person",
        "quarter",
        "as_of",
        "final",
        "plan_version",
        "metric",
        "bonus_fraction",
        "amount",
        "payable",
        "computed_at",
    )
    list_filter = ("quarter", "final", "plan_version")
    search_fields = ("person__name", "person__email", "quarter", "inputs_digest")
    date_hierarchy = "computed_at"
    list_select_related = ("person", "plan_version")
