from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import Centre, User


@admin.register(Centre)
class CentreAdmin(admin.ModelAdmin):
    list_display = ["name", "centre_number", "created_at"]
    search_fields = ["name", "centre_number"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ["username", "first_name", "last_name", "role", "centre", "is_staff"]
    list_filter = ["role", "centre", "is_staff", "is_active"]
    list_select_related = ["centre"]
    fieldsets = (*DjangoUserAdmin.fieldsets, ("Role", {"fields": ("role", "centre")}))
    add_fieldsets = (*DjangoUserAdmin.add_fieldsets, ("Role", {"fields": ("role", "centre")}))
