"""The fan's turn in the browser: the page says beforehand how long a turn is
kept, alerts the fan when it comes (title, beep, notification, vibration, the
notification asked for only on a click), and a turn that lapsed while the
phone was locked can be taken back, or given up for a place at the back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import expect

from onsale.testutils.factories import OrganizerFactory, UserFactory
from onsale.waitingroom.admission import waitingroom_live_config_push
from onsale.waitingroom.models import WaitingRoomConfig
from onsale.waitingroom.services import queue_join, queue_position_get
from tests.e2e.conftest import event_on_sale, seat_map_ready, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

# Stands in for the browser's alerts and records them in sessionStorage, which
# survives the page's own move to the seat map. Notification starts as "not
# asked yet", so the test sees when the page asks.
RECORD_ALERTS = """
(() => {
  const load = () => JSON.parse(sessionStorage.getItem("turn-alerts") ||
    '{"asked":0,"notes":[],"buzz":[],"tones":0}');
  const save = (r) => sessionStorage.setItem("turn-alerts", JSON.stringify(r));
  function FakeNotification(title, options) {
    const r = load(); r.notes.push([title, options && options.body]); save(r);
  }
  FakeNotification.permission = sessionStorage.getItem("turn-permission") || "default";
  FakeNotification.requestPermission = () => {
    const r = load(); r.asked += 1; save(r);
    FakeNotification.permission = "granted";
    sessionStorage.setItem("turn-permission", "granted");
    return Promise.resolve("granted");
  };
  window.Notification = FakeNotification;
  navigator.vibrate = (pattern) => {
    const r = load(); r.buzz.push([pattern, document.title]); save(r); return true;
  };
  const Context = window.AudioContext;
  if (Context) {
    const make = Context.prototype.createOscillator;
    Context.prototype.createOscillator = function () {
      const r = load(); r.tones += 1; save(r); return make.call(this);
    };
  }
})();
"""


def _room(event: Any, **fields: Any) -> WaitingRoomConfig:
    config = WaitingRoomConfig.objects.get(event=event)
    for name, value in fields.items():
        setattr(config, name, value)
    config.version += 1
    config.save()
    waitingroom_live_config_push(config=config)
    return config


def _alerts(page: Any) -> dict[str, Any]:
    """What the page's alerts did so far (nothing recorded: nothing done)."""
    raw = page.evaluate("sessionStorage.getItem('turn-alerts')")
    return dict(json.loads(raw)) if raw else {"asked": 0, "notes": [], "buzz": []}


def test_the_page_warns_of_the_turn_window_and_alerts_when_the_turn_comes(stack, fans):
    # given a paused room that keeps a turn 10 minutes, and a fan waiting in it
    event = event_on_sale(organizer=OrganizerFactory())
    _room(event, state=WaitingRoomConfig.State.PAUSED, claim_seconds=600)
    user = UserFactory()
    fan = fans(stack.url, "phone", "turn-alert")
    fan.context.add_init_script(RECORD_ALERTS)
    page = fan.page
    queue = f"/events/{event.pk}/queue"
    fan.login(user.email, queue)
    page.get_by_role("button", name="Join the queue").click()
    page.wait_for_url(f"{stack.url}{queue}")
    expect(page.locator("#queue-turn-window")).to_have_text(
        "When your turn comes you will have 10 min to start choosing seats."
    )
    fan.wait_for_status_poll()
    # the page never asks for notifications by itself
    assert _alerts(page)["asked"] == 0
    fan.shot("turn-window")

    # when the fan allows the alerts with the page's button
    page.get_by_role("button", name="Alert me when it is my turn").click()
    expect(page.locator("#queue-notify")).to_be_hidden()
    expect(page.locator("#queue-notify-note")).to_contain_text(
        "You will get a notification when it is your turn"
    )
    assert _alerts(page)["asked"] == 1

    # and the room lets them in
    _room(event, state=WaitingRoomConfig.State.OPEN)

    # then the page alerts them and takes them to the seat map
    page.wait_for_url(f"{stack.url}/events/{event.pk}/seats", timeout=30_000)
    seat_map_ready(fan, event.seats.count())
    alerts = _alerts(page)
    assert alerts["notes"] == [
        ["It is your turn", f"Choose your seats for {event.name} now."]
    ]
    assert len(alerts["buzz"]) == 1
    pattern, title = alerts["buzz"][0]
    assert pattern == [200, 100, 200]
    assert title.startswith("Your turn! ")
    assert alerts["tones"] == 1


def test_a_lapsed_turn_is_taken_back_or_given_up_from_the_page(stack, fans):
    # given a fan whose turn came while their phone was locked, and lapsed
    event = event_on_sale(organizer=OrganizerFactory())
    _room(event, claim_seconds=1, rate_per_minute=1, burst=2)
    user, other = UserFactory(), UserFactory()
    queue_join(event_id=event.pk, user_id=user.pk, ip="192.0.2.20")
    queue_join(event_id=event.pk, user_id=other.pk, ip="192.0.2.20")
    assert queue_position_get(event_id=event.pk, user_id=user.pk).state == "admitted"
    assert queue_position_get(event_id=event.pk, user_id=other.pk).state == "admitted"
    wait_until(
        lambda: (
            queue_position_get(event_id=event.pk, user_id=user.pk).state == "lapsed"
        ),
        30,
        "the turn to lapse",
    )
    fan = fans(stack.url, "phone", "turn-lapsed")
    page = fan.page
    queue = f"/events/{event.pk}/queue"

    # when they come back to the page
    fan.login(user.email, queue)
    expect(page.locator("#queue-live")).to_contain_text(
        "Your turn came while you were away."
    )
    fan.shot("turn-lapsed")

    # then they can take it back, with the same number, and shop
    page.get_by_role("button", name="Take my turn back").click()
    page.wait_for_url(f"{stack.url}/events/{event.pk}/seats", timeout=30_000)
    seat_map_ready(fan, event.seats.count())
    position = queue_position_get(event_id=event.pk, user_id=user.pk)
    assert (position.number, position.state) == (1, "active")

    # and the other fan, whose turn lapsed too, rejoins and gets a new number
    assert queue_position_get(event_id=event.pk, user_id=other.pk).state == "lapsed"
    second = fans(stack.url, "desktop", "turn-rejoin")
    second.login(other.email, queue)
    second.page.get_by_role("button", name="Rejoin at the back of the line").click()
    second.page.wait_for_url(f"{stack.url}{queue}")
    expect(second.page.locator("#queue-my-number")).to_have_text("3")
    second.shot("turn-rejoined")
