from django.contrib import admin

from accounts.admin import ReadOnlyAdmin
from accounts.money import format_money
from payouts.fresh import plan_changed
from payouts.models import (
    AttainmentSnapshot,
    Inquiry,
    Payout,
    PayoutAdjustment,
    PayoutEvent,
    PayoutLine,
    PersonPlan,
    PlanAcceptance,
    PlanVersion,
    ProposedAdjustment,
    QuotaAmendment,
    RecomputeRun,
)


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

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        amended = [a for formset in formsets for a in getattr(formset, "new_objects", [])]
        if form.has_changed() or amended:
            # The figures of that quarter, recomputed once the admin's transaction commits.
            plan_changed(form.instance, amendment_cause(amended[-1]) if amended
                         else f"a change of the {form.instance.quarter} plan in the admin")


def amendment_cause(amendment: QuotaAmendment) -> str:
    return (f"quota amendment: {format_money(amendment.previous_quota) or 'none'} → "
            f"{format_money(amendment.new_quota)} ({amendment.reason})")


@admin.register(QuotaAmendment)
class QuotaAmendmentAdmin(admin.ModelAdmin):
    list_display = ("person_plan", "previous_quota", "new_quota", "amended_by", "amended_at")
    search_fields = ("person_plan__person__name", "person_plan__quarter", "reason")
    raw_id_fields = ("person_plan", "amended_by")
    readonly_fields = ("amended_at",)
    date_hierarchy = "amended_at"
    list_select_related = ("person_plan__person", "amended_by")

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        plan_changed(obj.person_plan, amendment_cause(obj))


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


# Payouts change only through the finance pages' services (guarded transitions, who and
# when); the admin shows them. An approved payout is also protected by a database trigger.


class PayoutLineInline(admin.TabularInline):
    model = PayoutLine
    extra = 0
    can_delete = False
    readonly_fields = ("bucket", "amount", "source")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Payout)
class PayoutAdmin(ReadOnlyAdmin):
    list_display = ("person", "quarter", "status", "payout_date", "approved_by", "approved_at",
                    "paid_on")
    list_filter = ("quarter", "status")
    search_fields = ("person__name", "person__email")
    raw_id_fields = ("person", "snapshot")
    inlines = [PayoutLineInline]


@admin.register(PayoutLine)
class PayoutLineAdmin(ReadOnlyAdmin):
    list_display = ("payout", "bucket", "amount", "source")
    list_filter = ("bucket", "payout__quarter")
    search_fields = ("payout__person__email", "source")


@admin.register(PayoutAdjustment)
class PayoutAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("payout", "amount", "reason", "created_by", "created_at")
    list_filter = ("payout__quarter",)
    search_fields = ("payout__person__email", "reason")


@admin.register(PayoutEvent)
class PayoutEventAdmin(ReadOnlyAdmin):
    list_display = ("payout", "from_status", "to_status", "by", "at", "comment")
    list_filter = ("to_status", "payout__quarter")
    search_fields = ("payout__person__email", "comment")


@admin.register(Inquiry)
class InquiryAdmin(ReadOnlyAdmin):
    list_display = ("payout", "bucket", "status", "raised_by", "raised_at", "resolved_at")
    list_filter = ("status", "payout__quarter")
    search_fields = ("payout__person__email", "text", "answer")


@admin.register(PlanAcceptance)
class PlanAcceptanceAdmin(ReadOnlyAdmin):
    list_display = ("person", "quarter", "plan_version", "accepted_by", "accepted_at")
    list_filter = ("quarter",)
    search_fields = ("person__email",)


@admin.register(ProposedAdjustment)
class ProposedAdjustmentAdmin(ReadOnlyAdmin):
    list_display = ("payout", "amount", "status", "created_at", "cause")
    list_filter = ("status", "payout__quarter")
    search_fields = ("payout__person__email", "cause")
