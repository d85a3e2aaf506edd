from django.contrib import admin

from accounts.models import (
    Account,
    Assignment,
    Deal,
    FeatureRequest,
    Handoff,
    ImportRun,
    Invoice,
    Lead,
    Person,
    RowChange,
    StandupPick,
    Usage,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    """Rows written by imports, services and the recompute, never by hand."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "email",
        "employee_id",
        "roles",
        "team",
        "manager",
        "region",
        "start_date",
        "end_date",
    )
    list_filter = ("team", "region")
    search_fields = ("name", "email", "employee_id")
    autocomplete_fields = ("manager",)
    date_hierarchy = "start_date"


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    fields = ("role", "owner", "start_date", "end_date", "inherited", "reason", "created_by")
    readonly_fields = ("created_by",)
    autocomplete_fields = ("owner",)


@admin.register(Account)
class AccountAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "external_id",
        "billing",
        "segment",
        "health_score",
        "sentiment",
        "active_users",
        "contract_end",
    )
    list_filter = ("billing", "segment", "sentiment")
    search_fields = ("name", "external_id")
    inlines = [AssignmentInline]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = (
        "account",
        "role",
        "owner",
        "start_date",
        "end_date",
        "inherited",
        "created_by",
        "created_at",
    )
    list_filter = ("role", "inherited")
    search_fields = ("account__name", "account__external_id", "owner__name", "owner__email")
    autocomplete_fields = ("account", "owner")
    raw_id_fields = ("created_by",)
    readonly_fields = ("created_at",)
    date_hierarchy = "start_date"
    list_select_related = ("account", "owner", "created_by")


@admin.register(Lead)
class LeadAdmin(admin.ModelAdmin):
    list_display = ("external_id", "owner", "segment", "status", "created_on")
    list_filter = ("status", "segment")
    search_fields = ("external_id", "owner__name", "owner__email")
    autocomplete_fields = ("owner",)
    date_hierarchy = "created_on"
    list_select_related = ("owner",)


@admin.register(Invoice)
class InvoiceAdmin(admin.ModelAdmin):
    list_display = (
        "external_id",
        "account",
        "issued_on",
        "period_start",
        "period_end",
        "kind",
        "status",
        "amount",
        "paid_on",
        "deal_external_id",
    )
    list_filter = ("kind", "status")
    search_fields = ("external_id", "account__name", "account__external_id", "deal_external_id")
    raw_id_fields = ("account",)
    date_hierarchy = "issued_on"
    list_select_related = ("account",)


@admin.register(Usage)
class UsageAdmin(admin.ModelAdmin):
    list_display = ("account", "month", "amount")
    search_fields = ("account__name", "account__external_id")
    raw_id_fields = ("account",)
    date_hierarchy = "month"
    list_select_related = ("account",)


@admin.register(Deal)
class DealAdmin(admin.ModelAdmin):
    list_display = (
        "external_id",
        "account",
        "owner",
        "kind",
        "arr",
        "stage",
        "probability",
        "created_on",
        "demo_on",
        "closed_on",
        "payment_schedule",
    )
    list_filter = ("kind", "stage", "payment_schedule")
    search_fields = ("external_id", "account__name", "account__external_id", "owner__name")
    raw_id_fields = ("account",)
    autocomplete_fields = ("owner",)
    date_hierarchy = "created_on"
    list_select_related = ("account", "owner")


@admin.register(ImportRun)
class ImportRunAdmin(ReadOnlyAdmin):
    list_display = (
        "kind",
        "filename",
        "rows",
        "created",
        "updated",
        "unchanged",
        "imported_by",
        "imported_at",
    )
    list_filter = ("kind",)
    search_fields = ("filename", "sha256")
    date_hierarchy = "imported_at"


@admin.register(RowChange)
class RowChangeAdmin(ReadOnlyAdmin):
    list_display = ("model", "key", "source", "changed_by", "changed_at")
    list_filter = ("model", "source")
    search_fields = ("key", "source")
    date_hierarchy = "changed_at"


@admin.register(FeatureRequest)
class FeatureRequestAdmin(admin.ModelAdmin):
    list_display = ("account", "request", "importance", "status", "churn_risk", "logged_at")
    list_filter = ("importance", "status", "churn_risk")
    search_fields = ("account__name", "account__external_id", "request")
    raw_id_fields = ("account",)


@admin.register(Handoff)
class HandoffAdmin(ReadOnlyAdmin):
    """Hand-offs are decided on their page, where approval moves the account."""

    list_display = ("account", "from_ae", "to_csm", "effective_date", "status", "proposed_at",
                    "decided_by", "decided_at")
    list_filter = ("status",)
    search_fields = ("account__name", "account__external_id")


@admin.register(StandupPick)
class StandupPickAdmin(ReadOnlyAdmin):
    list_display = ("region", "cycle", "person", "picked_by", "picked_at")
    list_filter = ("region", "cycle")
