/* Waiting room page: polls the public status document (cacheable for one
   second, answered by the CDN/nginx), computes the fan's position from it and
   their own number, and claims admission once their number is served.
   The place lives on the server (one per account), so a reload or a second
   device shows the same place. When the turn comes it alerts the fan (title,
   a short beep, a notification if they allowed it, a vibration); each of
   these is skipped silently where the browser lacks it.
   Its texts come from Django's JavaScript catalog, loaded just before it in
   the page's language; without the catalog they stay English. */
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
  var drawn = false;
  var claiming = false;
  var lastAnnounced = "";
  var pollTimer = null;
  // Alert only a fan this page saw waiting: a reload during the turn needs none.
  var alertOnTurn = state === "waiting" || state === "prequeue";
  var baseTitle = document.title;
  var audio = null;
  // Django's catalog functions, or English where the catalog did not load.
  var gettext = window.gettext || function (msgid) { return msgid; };
  var ngettext = window.ngettext || function (singular, plural, count) {
    return count === 1 ? singular : plural;
  };
  var pgettext = window.pgettext || function (context, msgid) { return msgid; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };
  function say(format, values) { return interpolate(format, values, true); }
  // The room's states, as the page's "Room" line names them.
  var stateNames = {
    scheduled: pgettext("waiting room state", "scheduled"),
    prequeue: pgettext("waiting room state", "pre-queue"),
    open: pgettext("waiting room state", "open"),
    paused: pgettext("waiting room state", "paused"),
    closed: pgettext("waiting room state", "closed")
  };

  function text(id, value) {
    var node = document.getElementById(id);
    if (node && node.textContent !== String(value)) { node.textContent = value; }
  }

  function announce(message) {
    // Only real changes reach the live region, so screen readers are not flooded.
    if (message !== lastAnnounced) { lastAnnounced = message; text("queue-live", message); }
  }

  // The same words as the server's duration_text (waitingroom/views.py).
  function duration(seconds, precise) {
    seconds = Math.max(0, Math.round(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    if (h) { return say(gettext("%(hours)s h %(minutes)s min"), { hours: h, minutes: m }); }
    if (m) {
      return precise
        ? say(gettext("%(minutes)s min %(seconds)s s"), { minutes: m, seconds: s })
        : say(gettext("%(minutes)s min"), { minutes: m });
    }
    return precise ? say(gettext("%(seconds)s s"), { seconds: s }) : gettext("less than a minute");
  }

  function now() { return Date.now() + skew; }

  function countdown() {
    var box = document.getElementById("queue-countdown-box");
    var left = (onsaleAt - now()) / 1000;
    if (box) { box.hidden = drawn || !(left > 0); }
    if (left > 0) { text("queue-countdown", duration(left, true)); }
  }

  // The sound's context is made (or resumed) on a click where possible:
  // browsers let a page play sound later only after the fan interacted with it.
  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) { return null; }
    try {
      if (!audio) { audio = new Context(); }
      if (audio.state === "suspended" && audio.resume) { audio.resume(); }
    } catch (e) { audio = null; }
    return audio;
  }

  function beep() {
    var context = audioContext();
    if (!context) { return; }
    try {
      var tone = context.createOscillator(), gain = context.createGain(), t = context.currentTime;
      tone.type = "sine";
      tone.frequency.value = 880;
      gain.gain.setValueAtTime(0.0001, t);
      gain.gain.exponentialRampToValueAtTime(0.3, t + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, t + 0.6);
      tone.connect(gain);
      gain.connect(context.destination);
      tone.start(t);
      tone.stop(t + 0.65);
    } catch (e) {}
  }

  // Everything a fan in another tab, or with the phone in a pocket, may notice.
  function alertTurn() {
    if (!alertOnTurn) { return false; }
    alertOnTurn = false;
    document.title = say(gettext("Your turn! %(title)s"), { title: baseTitle });
    beep();
    try { if (navigator.vibrate) { navigator.vibrate([200, 100, 200]); } } catch (e) {}
    try {
      if (window.Notification && Notification.permission === "granted") {
        new Notification(gettext("It is your turn"), {
          body: say(gettext("Choose your seats for %(event)s now."), { event: data.eventName }),
          tag: "onsale-turn-" + data.eventId
        });
      }
    } catch (e) {}  // e.g. Android Chrome allows notifications from a service worker only
    return true;
  }

  // The alerts button: a click that may ask for notifications (never without
  // one) and lets the page beep later.
  function offerAlerts() {
    var box = document.getElementById("queue-alerts");
    var button = document.getElementById("queue-notify");
    if (!box || !button) { return; }
    box.hidden = false;
    var notifications = !!(window.Notification && Notification.requestPermission);
    if (notifications && Notification.permission === "granted") {
      button.hidden = true;
      text("queue-notify-note", gettext("You will get a notification when it is your turn; this page also changes its title and beeps."));
      return;
    }
    button.addEventListener("click", function () {
      audioContext();
      var done = function () {
        button.hidden = true;
        var granted = notifications && Notification.permission === "granted";
        text("queue-notify-note", granted
          ? gettext("You will get a notification when it is your turn; this page also changes its title and beeps.")
          : gettext("This page will change its title and beep when your turn comes (notifications are off in this browser)."));
      };
      if (!notifications || Notification.permission !== "default") { done(); return; }
      try {
        var asked = Notification.requestPermission(done);
        if (asked && asked.then) { asked.then(done, done); }
      } catch (e) { done(); }
    });
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
          announce(gettext("It is your turn. Taking you to seat selection."));
          // A moment for the beep before the page goes.
          var alerted = alertTurn();
          window.setTimeout(function () { window.location.assign(data.seatsUrl); }, alerted ? 1200 : 0);
        } else if ((me.state === "lapsed" || me.state === "expired") && data.state !== me.state) {
          // The turn passed unseen (a locked phone): the page shows what can be done.
          window.location.reload();
        } else if (me.state === "expired") {
          announce(gettext("Your turn has passed: the time to claim it or your shopping session is over."));
        } else if (me.state === "done") {
          announce(gettext("Your shopping session is finished."));
        }
      })
      .catch(function () { claiming = false; });
  }

  function waitText(ahead, status) {
    // The admission rate measured over the last minute, never the configured
    // one: a promise the room does not keep is worse than none.
    var rate = status.measured_rate_per_minute;
    if (status.state === "paused" || !rate) { return null; }
    return duration((ahead + 1) * 60 / rate, false);
  }

  function update(status) {
    text("queue-state", stateNames[status.state] || status.state);
    text("queue-serving", status.serving);
    text("queue-waiting", status.waiting);
    if (status.onsale_at) { onsaleAt = Date.parse(status.onsale_at); }
    drawn = !!status.prequeue_draw;
    countdown();
    if (status.state === "closed") { announce(gettext("This waiting room is closed.")); return 30000; }
    if (number === null) {
      // Still in the pre-queue: after the draw, ask for the number once.
      if (state === "prequeue" && drawn) { claim(); return 3000; }
      // Ask again just after the sale starts, and at least every 10 s.
      var untilStart = onsaleAt - now();
      return Math.max(1000, Math.min(10000, untilStart + 300));
    }
    var progress = document.getElementById("queue-progress");
    if (progress) { progress.value = Math.min(status.serving, number); }
    if (status.serving >= number) {
      if (state !== "expired" && state !== "done" && state !== "lapsed") { claim(); }
      return 3000;
    }
    var ahead = number - status.serving - 1;
    var message = say(ngettext(
      "About %(ahead)s person is ahead of you.",
      "About %(ahead)s people are ahead of you.", ahead), { ahead: ahead }) + " ";
    var wait = waitText(ahead, status);
    if (status.state === "paused") {
      message += gettext("Admission is paused for the moment; your place is kept.");
    } else if (wait) {
      message += say(gettext("Estimated wait: %(wait)s."), { wait: wait });
    } else {
      message += gettext("Estimated wait: being measured.");
    }
    announce(message);
    // Poll faster close to the front; the document changes at most once a second.
    return ahead < 100 ? 2000 : ahead < 2000 ? 5000 : 10000;
  }

  function schedule(delay) {
    if (pollTimer) { window.clearTimeout(pollTimer); }
    // Jitter spreads a crowd's polls over the interval.
    pollTimer = window.setTimeout(poll, delay + Math.random() * 1000);
  }

  function poll() {
    pollTimer = null;
    fetch(data.statusUrl, { headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (status) { schedule(status ? update(status) : 10000); })
      .catch(function () { schedule(10000 + Math.random() * 5000); });
  }

  // The script runs, so it takes over from the page's own refresh (the
  // fallback for when this file does not load): window.stop() cancels the
  // pending meta refresh. It also stops whatever is still loading, so the
  // page's own calls start only after it, once the page has loaded.
  function start() {
    window.stop();
    var note = document.getElementById("queue-refresh-note");
    if (note) { note.hidden = true; }
    countdown();
    offerAlerts();
    window.setInterval(countdown, 1000);
    if (state === "admitted" || state === "active") { claim(); }
    poll();
  }
  if (document.readyState === "complete") { start(); }
  else { window.addEventListener("load", start); }
})();
