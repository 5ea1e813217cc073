/* The event page: each <time data-fan-time> carries a UTC timestamp and the
   event's own local time as text; this shows it again in the fan's time zone
   (Intl.DateTimeFormat, in the page's language), unless that zone is the
   event's. Without the script,
   or where the browser cannot format, the page keeps the event's times. */
(function () {
  "use strict";

  function init() {
    var root = document.getElementById("event");
    if (!root || typeof Intl === "undefined" || !Intl.DateTimeFormat) { return; }
    var format;
    try {
      format = new Intl.DateTimeFormat(document.documentElement.lang || undefined, {
        weekday: "short", day: "numeric", month: "short", year: "numeric",
        hour: "2-digit", minute: "2-digit", timeZoneName: "short"
      });
    } catch (err) {
      return;
    }
    var fanZone = format.resolvedOptions().timeZone;
    if (fanZone && fanZone === root.dataset.timeZone) { return; }
    var times = root.querySelectorAll("time[data-fan-time]");
    for (var i = 0; i < times.length; i++) {
      var when = new Date(times[i].getAttribute("datetime"));
      if (isNaN(when.getTime())) { continue; }
      times[i].textContent = format.format(when);
      times[i].title = fanZone || "";
      times[i].parentNode.hidden = false;
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
