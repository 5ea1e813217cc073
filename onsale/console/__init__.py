"""The organizer console: the event pages, the console APIs and the live
control room. It is the one app that reads several apps' selectors (events,
seats, the waiting room, orders); no other app imports it."""
