/* Seat selection: an SVG seat map with live availability.
 *
 * Data: the map document (GET .../seats, cached for long), the availability
 * snapshot (GET .../seats/availability, a bitmap, cached for a second) and
 * the live stream (GET .../seats/stream, server-sent events). Every stream
 * event carries the availability version `v` and generation `g`; a gap, a
 * new generation or a `refresh` makes the page reload the snapshot, and
 * while the stream is down the page polls the snapshot instead.
 *
 * Holds need the waiting room's access token (X-Access-Token): see the
 * comment in seats.html for where it comes from.
 */
(function () {
  "use strict";

  var root = document.getElementById("seats");
  if (!root) { return; }
  var data = root.dataset;
  var SVGNS = "http://www.w3.org/2000/svg";
  var STORAGE_KEY = "onsale.access." + data.eventId;
  var POLL_MS = 2000;
  var holdMax = parseInt(data.holdMax, 10) || 10;

  var svg = document.getElementById("seats-map");
  var layer = document.getElementById("seats-layer");
  var focusRing = document.getElementById("seats-focus");

  var map = null;          // the map document
  var seats = [];          // by index: {id, section, row, label, x, y, category}
  var indexById = {};
  var nodes = [];          // by index: the <circle>
  var taken = null;        // Uint8Array by index: 1 = sold, held or blocked
  var rows = [];           // [{indexes: [...]}] in map order, for the keyboard
  var rowOf = null;        // Int32Array by index: its row number
  var radius = 0.4;
  var version = -1;
  var generation = "";
  var gaLeft = {};
  var selected = [];       // seat indexes, in the order chosen
  var hold = null;         // the current hold document
  var mine = {};           // index -> true for seats held by this fan
  var pending = {};        // index -> true while this fan's hold request for it runs
  var holdEndsAt = 0;
  var cursor = -1;
  var view = null;         // the viewBox {x, y, w, h}
  var home = null;
  var stream = null;
  var pollTimer = null;
  var resyncing = false;

  // --- small helpers -----------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function say(text) { $("seats-status").textContent = text; }

  function alertText(text) {
    var box = $("seats-alert");
    box.textContent = text;
    box.hidden = !text;
  }

  function money(amount) { return amount + " " + (map ? map.currency : data.currency); }

  function cookie(name) {
    var match = document.cookie.match("(?:^|; )" + name + "=([^;]*)");
    return match ? decodeURIComponent(match[1]) : "";
  }

  function seatName(index) {
    var seat = seats[index];
    return seat.section + ", row " + seat.row + ", seat " + seat.label;
  }

  function category(code) {
    for (var i = 0; i < map.categories.length; i++) {
      if (map.categories[i].code === code) { return map.categories[i]; }
    }
    return null;
  }

  // --- the access token --------------------------------------------------------

  function tokenFromAddress() {
    var params = new URLSearchParams(window.location.search);
    var token = params.get("access");
    if (!token) { return; }
    try { sessionStorage.setItem(STORAGE_KEY, token); } catch (e) { /* private mode */ }
    params.delete("access");
    var rest = params.toString();
    history.replaceState(null, "", window.location.pathname + (rest ? "?" + rest : "") + window.location.hash);
  }

  function accessToken() {
    try { return sessionStorage.getItem(STORAGE_KEY) || ""; } catch (e) { return ""; }
  }

  function askWaitingRoom() {
    // Admitted in another tab, or the token was not handed over: the waiting
    // room answers with the token when this fan's turn has come.
    return fetch(data.queueMeUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (me) {
        if (me && me.access_token) {
          try { sessionStorage.setItem(STORAGE_KEY, me.access_token); } catch (e) { /* ignore */ }
          return me.access_token;
        }
        return "";
      })
      .catch(function () { return ""; });
  }

  function needAccess(show) { $("seats-access").hidden = !show; }

  // --- API calls ---------------------------------------------------------------

  function api(method, url, body) {
    var headers = { Accept: "application/json", "X-CSRFToken": cookie("csrftoken") };
    var token = accessToken();
    if (token) { headers["X-Access-Token"] = token; }
    if (body !== undefined) { headers["Content-Type"] = "application/json"; }
    return fetch(url, {
      method: method,
      credentials: "same-origin",
      headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (response) {
      if (response.status === 204) { return { status: 204, body: null }; }
      return response.json().then(
        function (json) { return { status: response.status, body: json }; },
        function () { return { status: response.status, body: null }; }
      );
    });
  }

  // --- drawing -------------------------------------------------------------------

  function draw() {
    var fields = map.seat_fields;
    var at = {};
    fields.forEach(function (name, i) { at[name] = i; });
    seats = [];
    indexById = {};
    rows = [];
    var lastKey = null;
    map.seats.forEach(function (raw, index) {
      var seat = {
        id: raw[at.id],
        section: map.sections[raw[at.section]],
        row: raw[at.row],
        label: raw[at.label],
        x: raw[at.x],
        y: raw[at.y],
        category: map.categories[raw[at.category]].code
      };
      seats.push(seat);
      indexById[seat.id] = index;
      var key = raw[at.section] + "|" + seat.row;
      if (key !== lastKey) { rows.push({ indexes: [] }); lastKey = key; }
      rows[rows.length - 1].indexes.push(index);
    });
    rowOf = new Int32Array(seats.length);
    rows.forEach(function (row, number) {
      row.indexes.forEach(function (index) { rowOf[index] = number; });
    });
    // Seats are drawn as circles a little smaller than the gap between two
    // neighbours in a row.
    radius = 0.4;
    for (var r = 0; r < rows.length; r++) {
      if (rows[r].indexes.length > 1) {
        var a = seats[rows[r].indexes[0]], b = seats[rows[r].indexes[1]];
        var gap = Math.sqrt((a.x - b.x) * (a.x - b.x) + (a.y - b.y) * (a.y - b.y));
        if (gap > 0) { radius = gap * 0.4; }
        break;
      }
    }
    var colors = map.categories.map(function (c) { return c.color; });
    var html = [];
    map.seats.forEach(function (raw, index) {
      html.push('<circle data-i="' + index + '" cx="' + raw[at.x] + '" cy="' + raw[at.y] +
        '" r="' + radius + '" fill="' + colors[raw[at.category]] + '"></circle>');
    });
    layer.innerHTML = html.join("");
    nodes = Array.prototype.slice.call(layer.querySelectorAll("circle"));
    taken = new Uint8Array(seats.length);
    var bounds = map.bounds;
    var pad = radius * 3;
    home = {
      x: bounds.min_x - pad,
      y: bounds.min_y - pad,
      w: Math.max(bounds.max_x - bounds.min_x + 2 * pad, 1),
      h: Math.max(bounds.max_y - bounds.min_y + 2 * pad, 1)
    };
    setView(home);
    // The map box takes the venue's shape (within the limits seats.css sets),
    // so a wide venue on a phone does not float in empty space.
    svg.style.setProperty("--map-ratio", home.w + " / " + home.h);
    focusRing.setAttribute("width", radius * 2.6);
    focusRing.setAttribute("height", radius * 2.6);
    legend();
  }

  function legend() {
    var list = $("seats-legend");
    var select = $("seats-best-category");
    list.textContent = "";
    var chosen = select.value;
    select.textContent = "";
    map.categories.forEach(function (c) {
      var item = document.createElement("li");
      var swatch = document.createElement("span");
      swatch.className = "swatch";
      swatch.style.background = c.color;
      swatch.setAttribute("aria-hidden", "true");
      item.appendChild(swatch);
      var text = c.name + ": " + money(c.price);
      if (c.general_admission) {
        var left = gaLeft[c.code];
        text += " (standing" + (left === undefined ? "" : ", " + left + " left") + ")";
      }
      item.appendChild(document.createTextNode(" " + text));
      list.appendChild(item);
      var option = document.createElement("option");
      option.value = c.code;
      option.textContent = c.name + " (" + money(c.price) + ")";
      select.appendChild(option);
    });
    if (chosen) { select.value = chosen; }
  }

  function paint(index) {
    var node = nodes[index];
    if (!node) { return; }
    var isMine = !!mine[index];
    node.classList.toggle("mine", isMine);
    node.classList.toggle("taken", !isMine && taken[index] === 1);
    node.classList.toggle("sel", selected.indexOf(index) !== -1);
  }

  // --- zoom and pan (the viewBox) --------------------------------------------------

  function setView(box) {
    view = { x: box.x, y: box.y, w: box.w, h: box.h };
    svg.setAttribute("viewBox", view.x + " " + view.y + " " + view.w + " " + view.h);
  }

  function zoom(factor, cx, cy) {
    if (!view) { return; }
    var w = Math.min(Math.max(view.w * factor, radius * 10), home.w * 2);
    var h = w * (view.h / view.w);
    cx = cx === undefined ? view.x + view.w / 2 : cx;
    cy = cy === undefined ? view.y + view.h / 2 : cy;
    setView({ x: cx - (cx - view.x) * (w / view.w), y: cy - (cy - view.y) * (h / view.h), w: w, h: h });
  }

  function svgPoint(clientX, clientY) {
    var rect = svg.getBoundingClientRect();
    // preserveAspectRatio "xMidYMid meet": one scale, centred.
    var scale = Math.min(rect.width / view.w, rect.height / view.h);
    var offsetX = (rect.width - view.w * scale) / 2;
    var offsetY = (rect.height - view.h * scale) / 2;
    return {
      x: view.x + (clientX - rect.left - offsetX) / scale,
      y: view.y + (clientY - rect.top - offsetY) / scale,
      scale: scale
    };
  }

  function panTo(index) {
    var seat = seats[index];
    var margin = radius * 4;
    if (seat.x - margin < view.x || seat.x + margin > view.x + view.w ||
        seat.y - margin < view.y || seat.y + margin > view.y + view.h) {
      setView({ x: seat.x - view.w / 2, y: seat.y - view.h / 2, w: view.w, h: view.h });
    }
  }

  function wireViewControls() {
    $("seats-zoom-in").addEventListener("click", function () { zoom(0.6); });
    $("seats-zoom-out").addEventListener("click", function () { zoom(1 / 0.6); });
    $("seats-zoom-reset").addEventListener("click", function () { setView(home); });
    svg.addEventListener("wheel", function (event) {
      event.preventDefault();
      var point = svgPoint(event.clientX, event.clientY);
      zoom(event.deltaY < 0 ? 0.8 : 1.25, point.x, point.y);
    }, { passive: false });
    var drag = null;
    svg.addEventListener("pointerdown", function (event) {
      drag = { x: event.clientX, y: event.clientY, view: view, moved: false };
    });
    svg.addEventListener("pointermove", function (event) {
      if (!drag) { return; }
      var dx = event.clientX - drag.x, dy = event.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 5) { return; }
      drag.moved = true;
      var scale = svgPoint(event.clientX, event.clientY).scale;
      setView({ x: drag.view.x - dx / scale, y: drag.view.y - dy / scale, w: drag.view.w, h: drag.view.h });
    });
    svg.addEventListener("pointerup", function (event) {
      var wasDrag = drag && drag.moved;
      drag = null;
      if (wasDrag) { return; }
      var target = event.target;
      if (target && target.getAttribute && target.getAttribute("data-i") !== null) {
        var index = parseInt(target.getAttribute("data-i"), 10);
        moveCursor(index, false);
        toggle(index);
        $("seats-cursor").textContent = describe(index);
      }
    });
    svg.addEventListener("pointerleave", function () { drag = null; });
  }

  // --- keyboard: a cursor that walks the seats -------------------------------------

  function describe(index) {
    var seat = seats[index];
    var c = category(seat.category);
    var state = mine[index] ? "held for you" :
      selected.indexOf(index) !== -1 ? "selected" :
      taken[index] ? "taken" : "available";
    return seatName(index) + ". " + c.name + ", " + money(c.price) + ". " + state + ".";
  }

  function moveCursor(index, pan) {
    if (index < 0 || index >= seats.length) { return; }
    cursor = index;
    var seat = seats[index];
    var size = radius * 2.6;
    focusRing.setAttribute("x", seat.x - size / 2);
    focusRing.setAttribute("y", seat.y - size / 2);
    if (pan) { panTo(index); }
    $("seats-cursor").textContent = describe(index);
  }

  function nearestInRow(rowNumber, x) {
    var best = -1, distance = Infinity;
    rows[rowNumber].indexes.forEach(function (index) {
      var d = Math.abs(seats[index].x - x);
      if (d < distance) { best = index; distance = d; }
    });
    return best;
  }

  function onKey(event) {
    if (!seats.length) { return; }
    if (cursor < 0) { cursor = 0; }
    var row = rowOf[cursor];
    var inRow = rows[row].indexes;
    var at = inRow.indexOf(cursor);
    var next = -1;
    switch (event.key) {
      case "ArrowLeft": next = inRow[Math.max(0, at - 1)]; break;
      case "ArrowRight": next = inRow[Math.min(inRow.length - 1, at + 1)]; break;
      case "ArrowUp": if (row > 0) { next = nearestInRow(row - 1, seats[cursor].x); } break;
      case "ArrowDown": if (row < rows.length - 1) { next = nearestInRow(row + 1, seats[cursor].x); } break;
      case "Home": next = inRow[0]; break;
      case "End": next = inRow[inRow.length - 1]; break;
      case "Enter":
      case " ":
        event.preventDefault();
        toggle(cursor);
        $("seats-cursor").textContent = describe(cursor);
        return;
      case "+":
      case "=": event.preventDefault(); zoom(0.6, seats[cursor].x, seats[cursor].y); return;
      case "-": event.preventDefault(); zoom(1 / 0.6); return;
      default: return;
    }
    event.preventDefault();
    if (next >= 0) { moveCursor(next, true); }
  }

  // --- selection ---------------------------------------------------------------------

  function toggle(index) {
    alertText("");
    if (mine[index]) { say(seatName(index) + " is already held for you."); return; }
    var at = selected.indexOf(index);
    if (at !== -1) {
      selected.splice(at, 1);
    } else if (taken[index]) {
      say(seatName(index) + " is taken.");
      return;
    } else if (selected.length >= holdMax) {
      say("You can choose at most " + holdMax + " seats at a time.");
      return;
    } else {
      selected.push(index);
    }
    paint(index);
    renderSelection();
  }

  function renderSelection() {
    var list = $("seats-selection");
    list.textContent = "";
    var total = 0;
    selected.forEach(function (index) {
      var c = category(seats[index].category);
      var item = document.createElement("li");
      item.textContent = seatName(index) + ": " + money(c.price);
      list.appendChild(item);
      total += parseFloat(c.price);
    });
    $("seats-total").textContent = selected.length ? "Total " + money(total.toFixed(2)) : "No seats chosen yet.";
    $("seats-hold").disabled = selected.length === 0;
  }

  function dropFromSelection(indexes, why) {
    var gone = [];
    // The stream can announce this fan's own hold before its answer arrives.
    indexes = indexes.filter(function (index) { return !pending[index]; });
    indexes.forEach(function (index) {
      var at = selected.indexOf(index);
      if (at !== -1) {
        selected.splice(at, 1);
        gone.push(index);
        nodes[index].classList.add("gone");
      }
      paint(index);
    });
    if (gone.length) {
      renderSelection();
      alertText((gone.length === 1 ? "Seat " : "Seats ") + gone.map(seatName).join("; ") +
        (gone.length === 1 ? " was" : " were") + " just taken by someone else" + (why || "") + ". Please choose again.");
    }
  }

  // --- availability: snapshot, stream, polling -------------------------------------

  function setTaken(index, value) {
    if (taken[index] === value) { return false; }
    taken[index] = value;
    paint(index);
    return true;
  }

  function applySnapshot(doc) {
    if (doc.layout_version !== map.layout_version) { loadMap(); return; }
    var bytes = atob(doc.unavailable);
    var newlyTaken = [];
    for (var i = 0; i < seats.length; i++) {
      var bit = (bytes.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
      if (setTaken(i, bit) && bit && selected.indexOf(i) !== -1) { newlyTaken.push(i); }
    }
    dropFromSelection(newlyTaken);
    version = doc.version;
    generation = doc.generation;
    gaLeft = doc.general_admission || {};
    legend();
  }

  function resync(atLeast, tries) {
    if (resyncing) { return Promise.resolve(); }
    resyncing = true;
    tries = tries || 0;
    // The snapshot may come from a one-second cache (nginx, CDN): if it is
    // older than the version the stream already announced, ask again shortly
    // rather than step back in time.
    return fetch(data.availabilityUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (doc) {
        if (!doc) { return; }
        if (atLeast && doc.generation === generation && doc.version < atLeast && tries < 5) {
          setTimeout(function () { resync(atLeast, tries + 1); }, 600);
          return;
        }
        applySnapshot(doc);
      })
      .catch(function () { /* the next poll or event tries again */ })
      .then(function () { resyncing = false; });
  }

  function applyChange(change) {
    if (change.reload) { loadMap(); return; }
    if (change.g !== generation || change.refresh) { resync(change.v); return; }
    if (change.v <= version) { return; }
    if (change.v !== version + 1) { resync(change.v); return; }
    version = change.v;
    var newlyTaken = [];
    (change.held || []).concat(change.sold || []).forEach(function (index) {
      if (setTaken(index, 1) && selected.indexOf(index) !== -1) { newlyTaken.push(index); }
    });
    (change.freed || []).forEach(function (index) { setTaken(index, 0); });
    dropFromSelection(newlyTaken);
    if (change.ga) {
      Object.keys(change.ga).forEach(function (code) { gaLeft[code] = change.ga[code]; });
      legend();
    }
    if (cursor >= 0) { $("seats-cursor").textContent = describe(cursor); }
  }

  function startPolling() {
    if (pollTimer) { return; }
    $("seats-live").textContent = "Updating every few seconds.";
    pollTimer = setInterval(function () { resync(); }, POLL_MS);
  }

  function stopPolling() {
    if (pollTimer) { clearInterval(pollTimer); pollTimer = null; }
  }

  function openStream() {
    if (!window.EventSource) { startPolling(); return; }
    if (stream) { stream.close(); }
    stream = new EventSource(data.streamUrl);
    stream.addEventListener("open", function () {
      stopPolling();
      $("seats-live").textContent = "Live.";
    });
    stream.addEventListener("hello", function (event) {
      var hello = JSON.parse(event.data);
      // Changes made before this stream started are only in the snapshot.
      if (hello.generation !== generation || hello.version > version) { resync(hello.version); }
    });
    stream.addEventListener("change", function (event) { applyChange(JSON.parse(event.data)); });
    stream.addEventListener("error", function () {
      // EventSource reconnects by itself (the server also ends streams after a
      // while); poll the snapshot in the meantime.
      startPolling();
    });
  }

  // --- holds ---------------------------------------------------------------------------

  function setHold(doc) {
    Object.keys(mine).forEach(function (index) { delete mine[index]; paint(+index); });
    hold = doc;
    if (!doc) {
      $("seats-held").hidden = true;
      return;
    }
    holdEndsAt = Date.now() + doc.expires_in_seconds * 1000;
    var list = $("seats-held-list");
    list.textContent = "";
    doc.seats.forEach(function (seat) {
      var index = indexById[seat.id];
      if (index !== undefined) { mine[index] = true; setTaken(index, 1); paint(index); }
      var item = document.createElement("li");
      item.textContent = seat.section + ", row " + seat.row + ", seat " + seat.label + ": " + money(seat.price);
      list.appendChild(item);
    });
    doc.general_admission.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line.quantity + " x " + line.name + ": " + money(line.unit_price) + " each";
      list.appendChild(item);
    });
    $("seats-held-total").textContent = "Total " + money(doc.total);
    // The checkout page (checkout app) reads the access token from the same
    // sessionStorage entry this page uses.
    $("seats-checkout").href = "/checkout/" + data.eventId + "/" + doc.hold_id + "/";
    $("seats-held").hidden = false;
    tick();
  }

  function tick() {
    if (!hold) { return; }
    var left = Math.max(0, Math.round((holdEndsAt - Date.now()) / 1000));
    var minutes = Math.floor(left / 60), seconds = left % 60;
    $("seats-countdown").textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    if (left === 0) {
      setHold(null);
      alertText("Your hold has expired and the seats were released.");
      resync();
    } else if (left === 60) {
      say("One minute left on your hold.");
    }
  }

  function holdFailed(result) {
    var body = result.body || {};
    if (result.status === 401) {
      if (body.code === "access_token_invalid" || body.code === "access_session_ended") {
        try { sessionStorage.removeItem(STORAGE_KEY); } catch (e) { /* ignore */ }
      }
      needAccess(true);
      alertText(body.message || "Please sign in again.");
      return;
    }
    if (body.code === "seats_unavailable") {
      var indexes = (body.extra.seat_ids || []).map(function (id) { return indexById[id]; })
        .filter(function (index) { return index !== undefined; });
      indexes.forEach(function (index) { setTaken(index, 1); });
      dropFromSelection(indexes);
      return;
    }
    alertText(body.message || "Something went wrong; please try again.");
  }

  function requestHold(payload, button) {
    alertText("");
    if (!accessToken()) { needAccess(true); return; }
    button.disabled = true;
    say("Holding seats…");
    (payload.seats || []).forEach(function (id) { pending[indexById[id]] = true; });
    api("POST", data.holdsUrl, payload).then(function (result) {
      pending = {};
      button.disabled = false;
      if (result.status === 201) {
        selected.slice().forEach(function (index) { selected.splice(selected.indexOf(index), 1); paint(index); });
        renderSelection();
        setHold(result.body);
        say("Held. Your seats are yours for the time shown.");
        // The way on is checkout; on a phone this also scrolls it into view.
        $("seats-checkout").focus();
      } else {
        say("");
        holdFailed(result);
        renderSelection();
      }
    }, function () {
      pending = {};
      button.disabled = false;
      alertText("The connection failed; please try again.");
    });
  }

  function wireHoldControls() {
    $("seats-hold").addEventListener("click", function (event) {
      requestHold({ seats: selected.map(function (index) { return seats[index].id; }) }, event.target);
    });
    $("seats-best").addEventListener("submit", function (event) {
      event.preventDefault();
      var quantity = parseInt($("seats-best-quantity").value, 10);
      requestHold({ category: $("seats-best-category").value, quantity: quantity }, event.target.querySelector("button"));
    });
    $("seats-release").addEventListener("click", function () {
      if (!hold) { return; }
      api("DELETE", data.holdsUrl + "/" + hold.hold_id).then(function (result) {
        if (result.status === 204 || result.status === 404) {
          var freed = Object.keys(mine).map(Number);
          setHold(null);
          freed.forEach(function (index) { setTaken(index, 0); });
          say("Released.");
        } else {
          holdFailed(result);
        }
      });
    });
  }

  function restoreHold() {
    if (!accessToken()) { return; }
    api("GET", data.holdsUrl + "/current").then(function (result) {
      if (result.status === 200) { setHold(result.body); }
      if (result.status === 401) { holdFailed(result); }
    });
  }

  // --- start -----------------------------------------------------------------------------

  function loadMap() {
    say("Loading the seat map…");
    return fetch(data.mapUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("map " + response.status); }
        return response.json();
      })
      .then(function (doc) {
        map = doc;
        selected = [];
        draw();
        // For page timing (the browser tests, real-user monitoring).
        if (window.performance && performance.mark) { performance.mark("onsale:seat-map-drawn"); }
        renderSelection();
        version = -1;
        generation = "";
        return resync();
      })
      .then(function () {
        say(seats.length ? "Choose seats on the map, or let us pick the best available." : "");
        if (hold) { setHold(hold); }
      })
      .catch(function () { alertText("The seat map could not be loaded. Please reload the page."); });
  }

  tokenFromAddress();
  wireViewControls();
  wireHoldControls();
  svg.addEventListener("keydown", onKey);
  // Focus puts the keyboard cursor on the first seat without moving the view:
  // a click focuses the map too, and a pan between its pointerdown and
  // pointerup would make the click miss its seat.
  svg.addEventListener("focus", function () { if (cursor < 0 && seats.length) { moveCursor(0, false); } });
  setInterval(tick, 1000);
  loadMap().then(function () {
    openStream();
    if (accessToken()) {
      restoreHold();
    } else {
      askWaitingRoom().then(function (token) {
        if (token) { restoreHold(); } else { needAccess(true); }
      });
    }
  });
})();
