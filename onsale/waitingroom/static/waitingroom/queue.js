/* Waiting room page: polls the public status document (cacheable for one
   second, answered by the CDN/nginx), computes the fan's position from it and
   their own number, and claims admission once their number is served. */
(function () {
  "use strict";
  var root = document.getElementById("queue");
  if (!root || !window.fetch) { return; }
  var data = root.dataset;
  var number = data.number ? parseInt(data.number, 10) : null;
  var state = data.state || null;
  var onsaleAt = Date.parse(data.onsaleAt);
  // Offset between the server's clock and this device's, for the countdown.
  var skew = Date.parse(data.serverTime) - Date.now();
  var claiming = false;
  var lastAnnounced = "";

  function text(id, value) {
    var node = document.getElementById(id);
    if (node && node.textContent !== String(value)) { node.textContent = value; }
  }

  function announce(message) {
    // Only real changes reach the live region, so screen readers are not flooded.
    if (message !== lastAnnounced) { lastAnnounced = message; text("queue-live", message); }
  }

  function duration(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (h) { return h + " h " + m + " min"; }
    if (m) { return m + " min " + (m < 5 ? s + " s" : ""); }
    return s + " s";
  }

  function countdown() {
    var left = (onsaleAt - (Date.now() + skew)) / 1000;
    text("queue-countdown", left > 0 ? "(starts in " + duration(left) + ")" : "");
  }

  function claim() {
    if (claiming) { return; }
    claiming = true;
    fetch(data.meUrl, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (me) {
        claiming = false;
        if (!me) { return; }
        if (me.number && number === null) {
          // The draw gave this fan a number: the page shows it properly.
          window.location.reload();
          return;
        }
        state = me.state;
        if (me.access_token) {
          // Seat selection reads it from here and sends it as X-Access-Token.
          try { sessionStorage.setItem("onsale.access." + data.eventId, me.access_token); } catch (e) {}
          announce("It is your turn. Taking you to seat selection.");
          window.location.assign(data.seatsUrl);
        } else if (me.state === "expired") {
          announce("Your turn has passed: the claim window or your session is over.");
        }
      })
      .catch(function () { claiming = false; });
  }

  function update(status) {
    text("queue-state", status.state);
    text("queue-serving", status.serving);
    text("queue-waiting", status.waiting);
    if (status.state === "closed") { announce("This waiting room is closed."); return 30000; }
    if (number === null) {
      // Still in the pre-queue: after the draw, ask for the number once.
      if (state === "prequeue" && status.prequeue_draw) { claim(); }
      return status.state === "prequeue" ? 10000 : 5000;
    }
    var progress = document.getElementById("queue-progress");
    if (progress) { progress.value = Math.min(status.serving, number); }
    if (status.serving >= number) {
      if (state !== "expired" && state !== "done") { claim(); }
      return 3000;
    }
    var ahead = number - status.serving - 1;
    var rate = status.measured_rate_per_minute;
    var message = ahead + (ahead === 1 ? " person" : " people") + " ahead of you";
    if (status.state === "paused") {
      message += "; admission is paused.";
    } else if (rate) {
      message += ", about " + duration((ahead + 1) * 60 / rate) + " to wait.";
    } else {
      message += ".";
    }
    announce(message);
    // Poll faster close to the front; the document changes at most once a second.
    return ahead < 100 ? 2000 : ahead < 2000 ? 5000 : 10000;
  }

  function poll() {
    fetch(data.statusUrl, { headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) {
        var next = status ? update(status) : 10000;
        // Jitter spreads a crowd's polls over the interval.
        window.setTimeout(poll, next + Math.random() * 1000);
      })
      .catch(function () { window.setTimeout(poll, 10000 + Math.random() * 5000); });
  }

  countdown();
  window.setInterval(countdown, 1000);
  if (state === "admitted" || state === "active") { claim(); }
  poll();
})();
