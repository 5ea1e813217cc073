"""The event catalog API: organizers create and edit their events, fans see
published ones."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from onsale.events.models import Event
from onsale.seatselection.seatmaps.write import seatmap_replace
from onsale.testutils.factories import EventFactory, OrganizerFactory, UserFactory
from onsale.testutils.seats import SMALL_MAP

pytestmark = pytest.mark.django_db


def _payload(**overrides: Any) -> dict[str, Any]:
    onsale = timezone.now() + timedelta(days=1)
    payload = {
        "name": "Big Concert",
        "venue_name": "Stadium",
        "onsale_at": onsale.isoformat(),
        "starts_at": (onsale + timedelta(days=30)).isoformat(),
        "currency": "GBP",
    }
    payload.update(overrides)
    return payload


def test_organizer_creates_an_event_in_their_organization(organizer_client, organizer):
    response = organizer_client.post(
        "/api/v1/organizer/events", _payload(), format="json"
    )

    assert response.status_code == 201
    body = response.json()
    event = Event.objects.get(pk=body["id"])
    assert event.organization_id == organizer.organization_id
    assert (event.name, event.currency, event.status) == ("Big Concert", "GBP", "draft")
    assert body["has_seatmap"] is False


def test_fan_may_not_create_events(fan_client):
    response = fan_client.post("/api/v1/organizer/events", _payload(), format="json")

    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert Event.objects.count() == 0


def test_anonymous_may_not_create_events(api_client):
    response = api_client.post("/api/v1/organizer/events", _payload(), format="json")

    assert response.status_code == 401
    assert Event.objects.count() == 0


@pytest.mark.parametrize(
    ("overrides", "status", "code"),
    [
        ({"currency": "euro"}, 422, "event_currency_invalid"),
        ({"currency": "eur"}, 422, "event_currency_invalid"),
        ({"currency": "TOOLONGCUR"}, 400, "invalid"),
        ({"name": ""}, 400, "invalid"),
        ({"starts_at": "not a date"}, 400, "invalid"),
        ({"status": "cancelled"}, 400, "invalid"),
        ({"time_zone": "Europe/Atlantis"}, 422, "event_time_zone_invalid"),
        ({"time_zone": "x" * 65}, 400, "invalid"),
    ],
)
def test_invalid_events_are_refused(organizer_client, overrides, status, code):
    response = organizer_client.post(
        "/api/v1/organizer/events", _payload(**overrides), format="json"
    )

    assert response.status_code == status
    assert response.json()["code"] == code
    assert Event.objects.count() == 0


def test_onsale_after_start_is_refused(organizer_client):
    starts = timezone.now() + timedelta(days=2)
    response = organizer_client.post(
        "/api/v1/organizer/events",
        _payload(
            starts_at=starts.isoformat(),
            onsale_at=(starts + timedelta(seconds=1)).isoformat(),
        ),
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["code"] == "event_schedule_invalid"
    assert response.json()["extra"]["field"] == "onsale_at"
    assert Event.objects.count() == 0


def test_fans_see_only_published_events(api_client):
    published = EventFactory(status=Event.Status.PUBLISHED)
    draft = EventFactory(status=Event.Status.DRAFT)
    cancelled = EventFactory(status=Event.Status.CANCELLED)

    listing = api_client.get("/api/v1/events")

    assert listing.status_code == 200
    assert [item["id"] for item in listing.json()["results"]] == [published.pk]
    assert api_client.get(f"/api/v1/events/{published.pk}").status_code == 200
    for hidden in (draft, cancelled):
        response = api_client.get(f"/api/v1/events/{hidden.pk}")
        assert response.status_code == 404
        assert response.json()["code"] == "event_not_found"
    assert api_client.get("/api/v1/events/999999").status_code == 404


def test_listing_is_paged_and_ordered_by_start(api_client):
    later = EventFactory(onsale_at=timezone.now() + timedelta(days=5))
    sooner = EventFactory(onsale_at=timezone.now() + timedelta(days=1))

    first = api_client.get("/api/v1/events?limit=1")
    second = api_client.get("/api/v1/events?limit=1&offset=1")

    assert [e["id"] for e in first.json()["results"]] == [sooner.pk]
    assert [e["id"] for e in second.json()["results"]] == [later.pk]
    assert api_client.get("/api/v1/events?limit=0").status_code == 400


def test_organizer_reads_and_edits_only_their_events(organizer_client, event):
    other = EventFactory()

    own = organizer_client.get(f"/api/v1/organizer/events/{event.pk}")
    foreign = organizer_client.get(f"/api/v1/organizer/events/{other.pk}")
    foreign_patch = organizer_client.patch(
        f"/api/v1/organizer/events/{other.pk}", {"name": "Mine now"}, format="json"
    )

    assert own.status_code == 200
    assert foreign.status_code == 404
    assert foreign_patch.status_code == 404
    other.refresh_from_db()
    assert other.name != "Mine now"


def test_organizer_patches_their_event(organizer_client, organizer):
    event = EventFactory(organization=organizer.organization, status=Event.Status.DRAFT)

    response = organizer_client.patch(
        f"/api/v1/organizer/events/{event.pk}",
        {"name": "Renamed", "status": "published"},
        format="json",
    )

    assert response.status_code == 200
    event.refresh_from_db()
    assert (event.name, event.status) == ("Renamed", "published")


def test_patch_keeps_the_schedule_rule(organizer_client, event):
    before = (event.onsale_at, event.starts_at)

    response = organizer_client.patch(
        f"/api/v1/organizer/events/{event.pk}",
        {"onsale_at": (event.starts_at + timedelta(hours=1)).isoformat()},
        format="json",
    )

    assert response.status_code == 422
    assert response.json()["code"] == "event_schedule_invalid"
    event.refresh_from_db()
    assert (event.onsale_at, event.starts_at) == before


def test_status_moves_only_forward(organizer_client, organizer):
    event = EventFactory(
        organization=organizer.organization, status=Event.Status.CANCELLED
    )

    response = organizer_client.patch(
        f"/api/v1/organizer/events/{event.pk}", {"status": "published"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "event_status_change_invalid"
    event.refresh_from_db()
    assert event.status == "cancelled"


def test_currency_is_fixed_once_prices_exist(organizer_client, event):
    seatmap_replace(event=event, data=SMALL_MAP)

    response = organizer_client.patch(
        f"/api/v1/organizer/events/{event.pk}", {"currency": "USD"}, format="json"
    )

    assert response.status_code == 409
    assert response.json()["code"] == "event_currency_locked"
    event.refresh_from_db()
    assert event.currency == "EUR"


def test_staff_create_for_a_named_organization():
    staff = UserFactory(role="staff", is_staff=True)
    organization = OrganizerFactory().organization
    client = APIClient()
    client.force_authenticate(staff)

    missing = client.post("/api/v1/organizer/events", _payload(), format="json")
    created = client.post(
        "/api/v1/organizer/events",
        _payload(organization_id=organization.pk),
        format="json",
    )

    assert missing.status_code == 422
    assert created.status_code == 201
    assert created.json()["organization_id"] == organization.pk


def test_the_time_zone_is_set_read_and_changed_through_the_api(
    organizer_client, api_client
):
    created = organizer_client.post(
        "/api/v1/organizer/events",
        _payload(time_zone="Europe/Lisbon", status="published"),
        format="json",
    )
    event_id = created.json()["id"]

    changed = organizer_client.patch(
        f"/api/v1/organizer/events/{event_id}",
        {"time_zone": "Asia/Tokyo"},
        format="json",
    )
    refused = organizer_client.patch(
        f"/api/v1/organizer/events/{event_id}",
        {"time_zone": "Tokyo"},
        format="json",
    )
    public = api_client.get(f"/api/v1/events/{event_id}")

    assert created.status_code == 201
    assert created.json()["time_zone"] == "Europe/Lisbon"
    assert changed.status_code == 200
    assert changed.json()["time_zone"] == "Asia/Tokyo"
    assert refused.status_code == 422
    assert refused.json()["code"] == "event_time_zone_invalid"
    assert public.json()["time_zone"] == "Asia/Tokyo"
    assert Event.objects.get(pk=event_id).time_zone == "Asia/Tokyo"
