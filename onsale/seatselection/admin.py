"""Seat maps and seat sales in the admin site, read-only: a map is replaced
as a whole through the console (which rebuilds the seat state in Redis), and
a sale is recorded by checkout only."""

from __future__ import annotations

from django.contrib import admin
from django.utils.html import format_html_join
from django.utils.safestring import SafeString

from onsale.platform.admin import SupportAdmin
from onsale.seatselection.models import PriceCategory, SeatMap, SeatSale, Section


@admin.register(SeatMap)
class SeatMapAdmin(SupportAdmin[SeatMap]):
    list_display = (
        "event",
        "seat_count",
        "layout_version",
        "blocked_version",
        "updated_at",
    )
    search_fields = ("=event__id", "event__name")
    list_select_related = ("event",)
    ordering = ("-updated_at",)
    # The map's categories and sections; its seats (up to 50,000) stay out.
    readonly_fields = ("price_categories", "sections")

    @admin.display(description="price categories")
    def price_categories(self, obj: SeatMap) -> SafeString:
        categories = PriceCategory.objects.filter(event_id=obj.event_id)
        return format_html_join(
            "\n",
            "<p>{} {}: {} {}{}</p>",
            (
                (
                    category.code,
                    category.name,
                    category.price,
                    obj.event.currency,
                    f" (standing: {category.ga_sold} of {category.capacity} sold)"
                    if category.general_admission
                    else "",
                )
                for category in categories
            ),
        )

    @admin.display(description="sections")
    def sections(self, obj: SeatMap) -> str:
        names = Section.objects.filter(event_id=obj.event_id).values_list(
            "name", flat=True
        )
        return ", ".join(names)


@admin.register(SeatSale)
class SeatSaleAdmin(SupportAdmin[SeatSale]):
    list_display = (
        "id",
        "event",
        "seat",
        "user",
        "order_reference",
        "hold_id",
        "created_at",
    )
    search_fields = ("=event__id", "=order_reference", "=hold_id", "user__email")
    list_select_related = ("event", "seat", "user")
    raw_id_fields = ("event", "seat", "user")
    date_hierarchy = "created_at"
    ordering = ("-created_at",)
