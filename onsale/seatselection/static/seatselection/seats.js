/* Seat selection: a canvas seat map with live availability.
 *
 * Data: the map document (GET .../seats, cached for long), the availability
 * snapshot (GET .../seats/availability, a bitmap, cached for a second) and
 * the live stream (GET .../seats/stream, server-sent events). Every stream
 * event carries the availability version `v` and generation `g`; a gap, a
 * new generation or a `refresh` makes the page reload the snapshot, and
 * while the stream is down the page polls the snapshot instead.
 *
 * Drawing: canvases, no element per seat, so a 50,000-seat venue costs
 * what a small one does. The venue around the view (half a view each side)
 * is rendered once into a canvas at the current zoom, with this fan's seats
 * and the keyboard cursor on a second canvas above it; panning and pinching
 * only move and scale the layer holding both (a CSS transform, done by the
 * compositor), so a frame costs no drawing at all. The picture is rendered
 * again when the zoom settles, the view leaves it, or availability changes
 * (at most a few times a second), always inside an animation frame. How a
 * seat is drawn depends on its size on screen:
 *   - under 3 CSS pixels apart: cells of 3 px, each coloured by its seats'
 *     price category and greyed by the share of them taken, so one held
 *     seat still shows at the widest zoom;
 *   - from 3 px: a square per seat; from 10 px: a circle; row labels from
 *     9 px and seat numbers from 22 px.
 * Section names and the stage are drawn at every zoom.
 *
 * Holds need the waiting room's access token (X-Access-Token): see the
 * comment in seats.html for where it comes from.
 */
(function () {
  "use strict";

  var root = document.getElementById("seats");
  if (!root) { return; }
  var data = root.dataset;
  var STORAGE_KEY = "onsale.access." + data.eventId;
  var POLL_MS = 2000;
  var STREAM_RETRY_MS = 30000; // after a refused stream
  var holdMax = parseInt(data.holdMax, 10) || 10;

  var TAKEN = "#87909b";
  var BACKGROUND = "#fafbfc";
  var CELL_PX = 3;           // aggregated cells below this seat spacing (CSS px)
  var CIRCLE_PX = 10;        // circles from this spacing, squares below
  var ROW_LABEL_PX = 9;
  var SEAT_LABEL_PX = 22;
  var PICK_PX = 6;           // below this spacing a tap zooms in instead of picking
  var REBUILD_MS = 250;      // availability repaints at most this often
  var FLASH_MS = 2400;
  var reducedMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  var box = document.getElementById("seats-map");
  var layer = document.getElementById("seats-layer");
  var canvas = document.getElementById("seats-canvas");
  var overlay = document.getElementById("seats-overlay");
  var ctx = overlay.getContext("2d");

  var map = null;          // the map document
  var at = {};             // seat field name -> position in a seat array
  var count = 0;
  var xs = null, ys = null;          // Float64Array by index: map position
  var catOf = null;                  // Uint16Array by index: category slot
  var sectionOf = null;              // Uint16Array by index: section slot
  var rowOf = null;                  // Int32Array by index: its row number
  var indexById = {};
  var taken = null;        // Uint8Array by index: 1 = sold, held or blocked
  var rows = [];           // [{indexes: [...], label, lx, ly}] in map order
  var sectionBoxes = [];   // by section slot: {name, x0, y0, x1, y1}
  var stage = null;        // {label, x, y, w, h} in map units
  var grid = null;         // seats bucketed by position, for culling and picking
  var colors = [];         // category slot -> CSS colour
  var rgb = [];            // category slot -> [r, g, b]
  var takenRgb = hexRgb(TAKEN);
  var gap = 1;             // distance between neighbours in a row (map units)
  var radius = 0.4;
  var version = -1;
  var generation = "";
  var gaLeft = {};
  var selected = [];       // seat indexes, in the order chosen
  var hold = null;         // the current hold document
  var mine = {};           // index -> true for seats held by this fan
  var pending = {};        // index -> true while this fan's hold request for it runs
  var flashes = {};        // index -> time until which it flashes (just taken)
  var holdEndsAt = 0;
  var cursor = -1;
  var stream = null;
  var pollTimer = null;
  var streamRetry = null;
  var resyncing = false;

  // The view: the map point at the centre of the canvas and the zoom (CSS
  // pixels per map unit). `width`/`height` are the canvas's CSS size.
  var view = { cx: 0, cy: 0, scale: 1 };
  var home = null;         // the whole venue: {cx, cy, scale}
  var width = 0, height = 0, ratio = 1;
  var minScale = 0.01, maxScale = 100;
  var animation = null;

  // The rendered picture around the view.
  var pictureCtx = canvas.getContext("2d");
  var cells = document.createElement("canvas");
  var cellsCtx = cells.getContext("2d");
  var shot = null;         // what the picture shows: {x0, y0, scale, w, h} (map units)
  var marksStale = true;   // this fan's seats or the cursor changed
  var stale = true;        // availability changed since the picture was rendered
  var builtAt = 0;
  var settleTimer = null;
  var frameWanted = false;
  var stats = {
    frames: 0, renders: 0, renderMs: 0, longestRenderMs: 0, firstRenderMs: 0, mode: "", drawn: 0,
    sections: [], rowLabels: 0, seatLabels: 0, stage: false
  };
  var firstDrawn = false;
  var liveDrawn = false;

  // --- small helpers -----------------------------------------------------------

  function $(id) { return document.getElementById(id); }

  function say(text) { $("seats-status").textContent = text; }

  function alertText(text) {
    var alertBox = $("seats-alert");
    alertBox.textContent = text;
    alertBox.hidden = !text;
  }

  // Django's catalog functions (loaded just before this script in the page's
  // language), or English where the catalog did not load.
  var gettext = window.gettext || function (msgid) { return msgid; };
  var ngettext = window.ngettext || function (singular, plural, n) {
    return n === 1 ? singular : plural;
  };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };
  function words(format, values) { return interpolate(format, values, true); }

  // Amounts as the server's money filter writes them: the page's language's
  // separators, two decimals, grouped thousands, then the currency code.
  var language = document.documentElement.lang || "en";
  var amounts = null;
  try {
    amounts = new Intl.NumberFormat(language, {
      minimumFractionDigits: 2, maximumFractionDigits: 2, useGrouping: true
    });
  } catch (error) { amounts = null; }
  function money(amount) {
    var value = Number(amount);
    var shown = amounts && isFinite(value) ? amounts.format(value) : String(amount);
    return shown + " " + (map ? map.currency : data.currency);
  }

  function cookie(name) {
    var match = document.cookie.match("(?:^|; )" + name + "=([^;]*)");
    return match ? decodeURIComponent(match[1]) : "";
  }

  function hexRgb(color) {
    var match = /^#?([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(color || "");
    return match ? [parseInt(match[1], 16), parseInt(match[2], 16), parseInt(match[3], 16)] : [11, 92, 173];
  }

  function raw(index) { return map.seats[index]; }

  // "Stalls, row A, seat 1": on the map, in the lists and spoken by screen readers.
  function seatWords(section, row, label) {
    return words(gettext("%(section)s, row %(row)s, seat %(seat)s"), { section: section, row: row, seat: label });
  }

  function seatName(index) {
    var seat = raw(index);
    return seatWords(map.sections[seat[at.section]], seat[at.row], seat[at.label]);
  }

  function categoryOf(index) { return map.categories[catOf[index]]; }

  function category(code) {
    for (var i = 0; i < map.categories.length; i++) {
      if (map.categories[i].code === code) { return map.categories[i]; }
    }
    return null;
  }

  function isSelected(index) { return selected.indexOf(index) !== -1; }

  function seatState(index) {
    return mine[index] ? "mine" : isSelected(index) ? "selected" : taken[index] ? "taken" : "available";
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

  // --- the map document into arrays ------------------------------------------------

  function build() {
    at = {};
    map.seat_fields.forEach(function (name, i) { at[name] = i; });
    count = map.seats.length;
    xs = new Float64Array(count);
    ys = new Float64Array(count);
    catOf = new Uint16Array(count);
    sectionOf = new Uint16Array(count);
    rowOf = new Int32Array(count);
    taken = new Uint8Array(count);
    indexById = {};
    rows = [];
    sectionBoxes = map.sections.map(function (name) {
      return { name: name, x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity };
    });
    var lastSection = -1, lastRow = null, row = null;
    for (var i = 0; i < count; i++) {
      var seat = map.seats[i];
      var x = seat[at.x], y = seat[at.y], section = seat[at.section];
      xs[i] = x;
      ys[i] = y;
      catOf[i] = seat[at.category];
      sectionOf[i] = section;
      indexById[seat[at.id]] = i;
      if (section !== lastSection || seat[at.row] !== lastRow) {
        row = { indexes: [], label: String(seat[at.row]) };
        rows.push(row);
        lastSection = section;
        lastRow = seat[at.row];
      }
      row.indexes.push(i);
      rowOf[i] = rows.length - 1;
      var sbox = sectionBoxes[section];
      if (x < sbox.x0) { sbox.x0 = x; }
      if (x > sbox.x1) { sbox.x1 = x; }
      if (y < sbox.y0) { sbox.y0 = y; }
      if (y > sbox.y1) { sbox.y1 = y; }
    }
    // Seats are drawn a little smaller than the gap between two neighbours
    // in a row.
    gap = 1;
    for (var r = 0; r < rows.length; r++) {
      if (rows[r].indexes.length > 1) {
        var a = rows[r].indexes[0], b = rows[r].indexes[1];
        var distance = Math.sqrt((xs[a] - xs[b]) * (xs[a] - xs[b]) + (ys[a] - ys[b]) * (ys[a] - ys[b]));
        if (distance > 0) { gap = distance; }
        break;
      }
    }
    radius = gap * 0.4;
    // A row's label sits one gap before its first seat, along the row.
    rows.forEach(function (each) {
      var first = each.indexes[0];
      var dx = -1, dy = 0;
      if (each.indexes.length > 1) {
        var second = each.indexes[1];
        var length = Math.sqrt((xs[first] - xs[second]) * (xs[first] - xs[second]) + (ys[first] - ys[second]) * (ys[first] - ys[second]));
        if (length > 0) { dx = (xs[first] - xs[second]) / length; dy = (ys[first] - ys[second]) / length; }
      }
      each.lx = xs[first] + dx * gap * 1.1;
      each.ly = ys[first] + dy * gap * 1.1;
    });
    colors = map.categories.map(function (c) { return c.color; });
    rgb = colors.map(hexRgb);
    stage = map.stage || null;
    grid = buildGrid();
  }

  function buildGrid() {
    // Seats bucketed into square cells (a counting sort), about 32 a cell.
    var bounds = map.bounds;
    var spanX = Math.max(bounds.max_x - bounds.min_x, gap), spanY = Math.max(bounds.max_y - bounds.min_y, gap);
    var size = Math.max(gap * 4, Math.sqrt(spanX * spanY / Math.max(count / 32, 1)));
    var columns = Math.max(1, Math.ceil(spanX / size) + 1), lines = Math.max(1, Math.ceil(spanY / size) + 1);
    var start = new Int32Array(columns * lines + 1);
    var cellOf = new Int32Array(count);
    for (var i = 0; i < count; i++) {
      var cell = Math.floor((ys[i] - bounds.min_y) / size) * columns + Math.floor((xs[i] - bounds.min_x) / size);
      cellOf[i] = cell;
      start[cell + 1]++;
    }
    for (var c = 0; c < columns * lines; c++) { start[c + 1] += start[c]; }
    var fill = start.slice(0, columns * lines);
    var items = new Int32Array(count);
    for (var j = 0; j < count; j++) { items[fill[cellOf[j]]++] = j; }
    return { x0: bounds.min_x, y0: bounds.min_y, size: size, columns: columns, lines: lines, start: start, items: items };
  }

  // Calls `each(index)` for every seat whose cell meets the box (map units).
  function seatsIn(x0, y0, x1, y1, each) {
    if (!grid || !count) { return; }
    var c0 = Math.max(0, Math.floor((x0 - grid.x0) / grid.size)), c1 = Math.min(grid.columns - 1, Math.floor((x1 - grid.x0) / grid.size));
    var l0 = Math.max(0, Math.floor((y0 - grid.y0) / grid.size)), l1 = Math.min(grid.lines - 1, Math.floor((y1 - grid.y0) / grid.size));
    for (var l = l0; l <= l1; l++) {
      for (var c = c0; c <= c1; c++) {
        var cell = l * grid.columns + c;
        for (var k = grid.start[cell]; k < grid.start[cell + 1]; k++) { each(grid.items[k]); }
      }
    }
  }

  // --- the view ----------------------------------------------------------------------

  function venueBox() {
    var bounds = map.bounds;
    var pad = gap * 2;
    var x0 = bounds.min_x - pad, y0 = bounds.min_y - pad, x1 = bounds.max_x + pad, y1 = bounds.max_y + pad;
    if (stage) {
      x0 = Math.min(x0, stage.x - pad); y0 = Math.min(y0, stage.y - pad);
      x1 = Math.max(x1, stage.x + stage.w + pad); y1 = Math.max(y1, stage.y + stage.h + pad);
    }
    return { x0: x0, y0: y0, x1: x1, y1: y1 };
  }

  function fitScale(w, h) {
    return Math.min(width / Math.max(w, gap), height / Math.max(h, gap));
  }

  function computeHome() {
    var venue = venueBox();
    var scale = fitScale(venue.x1 - venue.x0, venue.y1 - venue.y0);
    home = { cx: (venue.x0 + venue.x1) / 2, cy: (venue.y0 + venue.y1) / 2, scale: scale };
    minScale = scale / 2;
    // Close enough for seats 60 CSS px apart, and never less than the whole venue.
    maxScale = Math.max(60 / gap, scale);
  }

  function visibleBox() {
    var halfW = width / 2 / view.scale, halfH = height / 2 / view.scale;
    return { x: view.cx - halfW, y: view.cy - halfH, w: halfW * 2, h: halfH * 2, scale: view.scale };
  }

  function setView(cx, cy, scale) {
    scale = Math.min(Math.max(scale, minScale), maxScale);
    // Some of the venue stays in view.
    var venue = venueBox();
    cx = Math.min(Math.max(cx, venue.x0), venue.x1);
    cy = Math.min(Math.max(cy, venue.y0), venue.y1);
    var zoomed = scale !== view.scale;
    view = { cx: cx, cy: cy, scale: scale };
    if (zoomed) { settleSoon(); }
    requestFrame();
  }

  // The top left corner of the map's inside, in client coordinates.
  function origin() {
    var rect = box.getBoundingClientRect();
    return { left: rect.left + box.clientLeft, top: rect.top + box.clientTop };
  }

  function toMap(clientX, clientY) {
    var rect = origin();
    return {
      x: view.cx + (clientX - rect.left - width / 2) / view.scale,
      y: view.cy + (clientY - rect.top - height / 2) / view.scale
    };
  }

  function zoomAt(factor, x, y) {
    if (!home) { return; }
    stopAnimation();
    x = x === undefined ? view.cx : x;
    y = y === undefined ? view.cy : y;
    var scale = Math.min(Math.max(view.scale * factor, minScale), maxScale);
    // The map point (x, y) stays where it is on screen.
    var k = view.scale / scale;
    setView(x - (x - view.cx) * k, y - (y - view.cy) * k, scale);
  }

  function stopAnimation() { animation = null; }

  function animateTo(target) {
    if (reducedMotion) { setView(target.cx, target.cy, target.scale); return; }
    animation = { from: { cx: view.cx, cy: view.cy, scale: view.scale }, to: target, start: performance.now(), ms: 350 };
    requestFrame();
  }

  function stepAnimation(now) {
    if (!animation) { return; }
    var t = Math.min(1, (now - animation.start) / animation.ms);
    var ease = t < 0.5 ? 2 * t * t : 1 - Math.pow(-2 * t + 2, 2) / 2;
    var from = animation.from, to = animation.to;
    // The zoom moves evenly on a log scale, so zooming in and out feel alike.
    var scale = Math.exp(Math.log(from.scale) + (Math.log(to.scale) - Math.log(from.scale)) * ease);
    var done = t >= 1;
    if (done) { animation = null; }
    setView(from.cx + (to.cx - from.cx) * ease, from.cy + (to.cy - from.cy) * ease, done ? to.scale : scale);
  }

  // The view that shows all these seats, as close as seats 28 px apart.
  function viewOf(indexes) {
    var x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
    indexes.forEach(function (index) {
      x0 = Math.min(x0, xs[index]); x1 = Math.max(x1, xs[index]);
      y0 = Math.min(y0, ys[index]); y1 = Math.max(y1, ys[index]);
    });
    var pad = gap * 3;
    var scale = Math.min(fitScale(x1 - x0 + 2 * pad, y1 - y0 + 2 * pad), Math.max(28 / gap, home.scale));
    return { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2, scale: Math.min(Math.max(scale, minScale), maxScale) };
  }

  function panTo(index) {
    var seen = visibleBox();
    var margin = gap * 2;
    if (xs[index] - margin < seen.x || xs[index] + margin > seen.x + seen.w ||
        ys[index] - margin < seen.y || ys[index] + margin > seen.y + seen.h) {
      setView(xs[index], ys[index], view.scale);
    }
  }

  function settleSoon() {
    // A zoom in progress scales the old picture; once it rests for a moment
    // the picture is rendered again, sharp.
    if (settleTimer) { clearTimeout(settleTimer); }
    settleTimer = setTimeout(function () { settleTimer = null; requestFrame(); }, 120);
  }

  function resize() {
    // The canvas fills the box inside its border.
    var w = Math.max(1, box.clientWidth), h = Math.max(1, box.clientHeight);
    var r = window.devicePixelRatio || 1;
    if (w === width && h === height && r === ratio) { return; }
    var wasHome = !home || (view.cx === home.cx && view.cy === home.cy && view.scale === home.scale);
    width = w; height = h; ratio = r;
    shot = null;
    if (map) {
      computeHome();
      if (wasHome) { view = { cx: home.cx, cy: home.cy, scale: home.scale }; }
      setView(view.cx, view.cy, view.scale);
    }
    requestFrame();
  }

  // --- drawing --------------------------------------------------------------------------

  function marksChanged() {
    marksStale = true;
    requestFrame();
  }

  function requestFrame() {
    if (frameWanted) { return; }
    frameWanted = true;
    window.requestAnimationFrame(frame);
  }

  function frame(now) {
    frameWanted = false;
    if (!map || !width) { return; }
    stepAnimation(now);
    var zooming = !!settleTimer || !!animation;
    var since = now - builtAt;
    var needed = !shot || !covers(shot) ||
      (!zooming && shot.scale !== view.scale) ||
      (zooming && (view.scale / shot.scale > 1.6 || shot.scale / view.scale > 1.6));
    if (!needed && stale) {
      if (since >= REBUILD_MS) { needed = true; } else { setTimeout(requestFrame, REBUILD_MS - since); }
    }
    if (needed) { render(); builtAt = now; }
    if (marksStale || Object.keys(flashes).length) { drawMarks(now); }
    place();
    stats.frames++;
    if (!firstDrawn) {
      firstDrawn = true;
      // For page timing (the browser tests, real-user monitoring).
      if (window.performance && performance.mark) { performance.mark("onsale:seat-map-drawn"); }
    }
    if (!liveDrawn && version >= 0 && !stale) {
      liveDrawn = true;
      if (window.performance && performance.mark) { performance.mark("onsale:seat-map-live"); }
    }
    if (animation || Object.keys(flashes).length) { requestFrame(); }
  }

  // The part of the view where there is something to draw (the venue).
  function wanted() {
    var seen = visibleBox(), venue = venueBox();
    return {
      x0: Math.max(seen.x, venue.x0), y0: Math.max(seen.y, venue.y0),
      x1: Math.min(seen.x + seen.w, venue.x1), y1: Math.min(seen.y + seen.h, venue.y1)
    };
  }

  function covers(picture) {
    var need = wanted();
    if (need.x1 <= need.x0 || need.y1 <= need.y0) { return true; }
    // Half a device pixel of slack: the picture's edges are rounded to pixels.
    var slack = 0.5 / (picture.scale * ratio);
    return need.x0 >= picture.x0 - slack && need.y0 >= picture.y0 - slack &&
      need.x1 <= picture.x0 + picture.w + slack && need.y1 <= picture.y0 + picture.h + slack;
  }

  // Where the layer goes for the view: its offset (CSS px, whole device
  // pixels when not scaled, so the picture is shown pixel for pixel) and scale.
  function placement() {
    var seen = visibleBox();
    var factor = view.scale / shot.scale;
    var x = (shot.x0 - seen.x) * view.scale, y = (shot.y0 - seen.y) * view.scale;
    if (factor === 1) { x = Math.round(x * ratio) / ratio; y = Math.round(y * ratio) / ratio; }
    return { x: x, y: y, factor: factor };
  }

  // Moves and scales the layer so the picture lies where the view wants it.
  function place() {
    if (!shot) { return; }
    var placed = placement();
    var x = placed.x, y = placed.y, factor = placed.factor;
    layer.style.transform = "translate(" + x + "px," + y + "px) scale(" + factor + ")";
  }

  function sizeCanvas(element, w, h) {
    if (element.width !== w || element.height !== h) {
      element.width = w;
      element.height = h;
      element.style.width = w / ratio + "px";
      element.style.height = h / ratio + "px";
    }
  }

  // Renders the venue around the view into `picture` at the current zoom.
  function render() {
    var began = performance.now();
    var seen = visibleBox();
    var k = view.scale * ratio;               // device pixels per map unit
    // Half a view around the view, cut to the venue (beyond it there is
    // only background, which the map box itself shows).
    var venue = venueBox();
    var x0 = Math.max(seen.x - seen.w / 2, venue.x0), x1 = Math.min(seen.x + seen.w * 1.5, venue.x1);
    var y0 = Math.max(seen.y - seen.h / 2, venue.y0), y1 = Math.min(seen.y + seen.h * 1.5, venue.y1);
    if (x1 <= x0 || y1 <= y0) { x0 = seen.x; x1 = seen.x + seen.w; y0 = seen.y; y1 = seen.y + seen.h; }
    var limit = 4096 / k;
    if (x1 - x0 > limit) { x0 = Math.max(x0, seen.x + seen.w / 2 - limit / 2); x1 = x0 + limit; }
    if (y1 - y0 > limit) { y0 = Math.max(y0, seen.y + seen.h / 2 - limit / 2); y1 = y0 + limit; }
    var pw = Math.max(1, Math.ceil((x1 - x0) * k)), ph = Math.max(1, Math.ceil((y1 - y0) * k));
    sizeCanvas(canvas, pw, ph);
    sizeCanvas(overlay, pw, ph);
    var c = pictureCtx;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.fillStyle = BACKGROUND;
    c.fillRect(0, 0, pw, ph);
    x1 = x0 + pw / k;
    y1 = y0 + ph / k;
    var spacing = gap * view.scale;           // CSS px between neighbours
    var drawn = 0;
    stats.rowLabels = 0;
    stats.seatLabels = 0;
    drawStage(c, x0, y0, k);
    if (spacing < CELL_PX) {
      stats.mode = "cells";
      drawn = drawCells(c, x0, y0, x1, y1, k, pw, ph);
    } else {
      stats.mode = spacing < CIRCLE_PX ? "squares" : "circles";
      drawn = drawSeats(c, x0, y0, x1, y1, k, spacing);
    }
    drawSectionNames(c, x0, y0, x1, y1, k, spacing);
    shot = { x0: x0, y0: y0, w: pw / k, h: ph / k, scale: view.scale };
    stale = false;
    marksStale = true;
    stats.renders++;
    stats.renderMs = Math.round(performance.now() - began);
    stats.longestRenderMs = Math.max(stats.longestRenderMs, stats.renderMs);
    if (stats.renders === 1) { stats.firstRenderMs = stats.renderMs; }
    stats.drawn = drawn;
    box.setAttribute("data-mode", stats.mode);
    box.setAttribute("data-drawn", String(drawn));
  }

  function drawStage(c, x0, y0, k) {
    stats.stage = false;
    if (!stage) { return; }
    var sx = (stage.x - x0) * k, sy = (stage.y - y0) * k, sw = stage.w * k, sh = stage.h * k;
    c.fillStyle = "#d9dde3";
    c.strokeStyle = "#8a94a0";
    c.lineWidth = ratio;
    c.beginPath();
    c.rect(sx, sy, sw, sh);
    c.fill();
    c.stroke();
    var size = Math.min(sh * 0.6, sw / (stage.label.length * 0.7), 18 * ratio);
    if (size >= 7 * ratio) {
      c.fillStyle = "#333";
      c.font = "600 " + Math.round(size) + "px system-ui, sans-serif";
      c.textAlign = "center";
      c.textBaseline = "middle";
      c.fillText(stage.label, sx + sw / 2, sy + sh / 2);
    }
    stats.stage = true;
  }

  function drawCells(c, x0, y0, x1, y1, k, pw, ph) {
    // One cell per CELL_PX CSS pixels: each seat counts towards its cell;
    // the cell takes its seats' first category colour, greyed by the share
    // taken (at least 60 % grey once any seat in it is taken).
    var cellDevice = CELL_PX * ratio;
    var columns = Math.ceil(pw / cellDevice), lines = Math.ceil(ph / cellDevice);
    var n = columns * lines;
    var free = new Uint16Array(n), gone = new Uint16Array(n), kind = new Int16Array(n).fill(-1);
    var drawn = 0;
    var perUnit = k / cellDevice;
    seatsIn(x0, y0, x1, y1, function (index) {
      var column = Math.floor((xs[index] - x0) * perUnit), line = Math.floor((ys[index] - y0) * perUnit);
      if (column < 0 || line < 0 || column >= columns || line >= lines) { return; }
      var cell = line * columns + column;
      if (taken[index]) { gone[cell]++; } else { free[cell]++; }
      if (kind[cell] < 0) { kind[cell] = catOf[index]; }
      drawn++;
    });
    if (cells.width !== columns || cells.height !== lines) { cells.width = columns; cells.height = lines; }
    var image = cellsCtx.createImageData(columns, lines);
    var pixels = image.data;
    for (var cell = 0; cell < n; cell++) {
      var total = free[cell] + gone[cell];
      if (!total) { continue; }
      var base = rgb[kind[cell]] || takenRgb;
      var share = gone[cell] / total;
      if (share > 0) { share = Math.max(share, 0.6); }
      var p = cell * 4;
      pixels[p] = Math.round(base[0] + (takenRgb[0] - base[0]) * share);
      pixels[p + 1] = Math.round(base[1] + (takenRgb[1] - base[1]) * share);
      pixels[p + 2] = Math.round(base[2] + (takenRgb[2] - base[2]) * share);
      pixels[p + 3] = 255;
    }
    cellsCtx.putImageData(image, 0, 0);
    c.imageSmoothingEnabled = false;
    c.drawImage(cells, 0, 0, columns * cellDevice, lines * cellDevice);
    c.imageSmoothingEnabled = true;
    return drawn;
  }

  function drawSeats(c, x0, y0, x1, y1, k, spacing) {
    var margin = gap;
    var visible = [];
    seatsIn(x0 - margin, y0 - margin, x1 + margin, y1 + margin, function (index) {
      var x = xs[index], y = ys[index];
      if (x >= x0 - margin && x <= x1 + margin && y >= y0 - margin && y <= y1 + margin) { visible.push(index); }
    });
    var circles = spacing >= CIRCLE_PX;
    var r = radius * k, side = gap * 0.8 * k;
    // One path per colour: the free seats of each category, then the taken.
    for (var slot = 0; slot <= colors.length; slot++) {
      var takenPass = slot === colors.length;
      c.beginPath();
      for (var v = 0; v < visible.length; v++) {
        var index = visible[v];
        if (takenPass ? !taken[index] : (taken[index] || catOf[index] !== slot)) { continue; }
        var sx = (xs[index] - x0) * k, sy = (ys[index] - y0) * k;
        if (circles) {
          c.moveTo(sx + r, sy);
          c.arc(sx, sy, r, 0, 2 * Math.PI);
        } else {
          c.rect(sx - side / 2, sy - side / 2, side, side);
        }
      }
      c.fillStyle = takenPass ? TAKEN : colors[slot];
      c.fill();
    }
    c.textAlign = "center";
    c.textBaseline = "middle";
    if (spacing >= ROW_LABEL_PX) {
      c.fillStyle = "#333";
      c.font = "600 " + Math.round(Math.min(spacing * 0.55, 14) * ratio) + "px system-ui, sans-serif";
      var seenRows = {};
      visible.forEach(function (index) {
        var number = rowOf[index];
        if (seenRows[number]) { return; }
        seenRows[number] = true;
        var row = rows[number];
        c.fillText(row.label, (row.lx - x0) * k, (row.ly - y0) * k);
        stats.rowLabels++;
      });
    }
    if (spacing >= SEAT_LABEL_PX) {
      c.fillStyle = "#fff";
      c.font = Math.round(Math.min(spacing * 0.32, 12) * ratio) + "px system-ui, sans-serif";
      visible.forEach(function (index) {
        c.fillText(String(raw(index)[at.label]), (xs[index] - x0) * k, (ys[index] - y0) * k);
        stats.seatLabels++;
      });
    }
    return visible.length;
  }

  function drawSectionNames(c, x0, y0, x1, y1, k, spacing) {
    var names = [];
    var seen = visibleBox();
    c.textAlign = "center";
    c.textBaseline = "middle";
    c.lineJoin = "round";
    sectionBoxes.forEach(function (section) {
      if (section.x0 === Infinity) { return; }
      if (section.x1 < x0 || section.x0 > x1 || section.y1 < y0 || section.y0 > y1) { return; }
      var sw = (section.x1 - section.x0 + gap) * k;
      var size = Math.min(16 * ratio, Math.max(sw / (section.name.length * 0.75), 0));
      if (size < 8 * ratio) { return; }
      // Close up, above the section's first row; from afar, over its middle;
      // across, in the middle of the part of the section in view (so a
      // section seen close up still shows its name).
      var left = Math.max(section.x0, seen.x), right = Math.min(section.x1, seen.x + seen.w);
      var middle = left <= right ? (left + right) / 2 : (section.x0 + section.x1) / 2;
      var sx = (middle - x0) * k;
      var sy = spacing >= ROW_LABEL_PX ? (section.y0 - y0) * k - gap * 0.9 * k : ((section.y0 + section.y1) / 2 - y0) * k;
      c.font = "700 " + Math.round(size) + "px system-ui, sans-serif";
      c.lineWidth = 3 * ratio;
      c.strokeStyle = "rgba(255,255,255,.9)";
      c.strokeText(section.name, sx, sy);
      c.fillStyle = "#1a1a1a";
      c.fillText(section.name, sx, sy);
      // The names a fan can read in the view as rendered.
      var atX = x0 + sx / k, atY = y0 + sy / k;
      if (atX >= seen.x && atX <= seen.x + seen.w && atY >= seen.y && atY <= seen.y + seen.h) {
        names.push(section.name);
      }
    });
    stats.sections = names;
  }

  // This fan's seats, the seats just taken from them and the keyboard
  // cursor, on the canvas above the picture (same size and place).
  function drawMarks(now) {
    marksStale = false;
    if (!shot) { return; }
    var c = ctx;
    c.setTransform(1, 0, 0, 1, 0, 0);
    c.clearRect(0, 0, overlay.width, overlay.height);
    var k = shot.scale * ratio;
    var seen = { x: shot.x0, y: shot.y0 };
    // Never smaller than a few pixels: this fan's own seats show at any zoom.
    var r = Math.max(radius * k, 4 * ratio);
    function spot(index) { return { x: (xs[index] - seen.x) * k, y: (ys[index] - seen.y) * k }; }
    selected.forEach(function (index) {
      var p = spot(index);
      c.beginPath();
      c.arc(p.x, p.y, r, 0, 2 * Math.PI);
      c.fillStyle = "#111";
      c.fill();
      c.lineWidth = Math.max(r * 0.35, 1.5 * ratio);
      c.strokeStyle = "#f5a623";
      c.stroke();
    });
    Object.keys(mine).forEach(function (key) {
      var p = spot(+key);
      c.beginPath();
      c.arc(p.x, p.y, r, 0, 2 * Math.PI);
      c.fillStyle = "#fff";
      c.fill();
      c.lineWidth = Math.max(r * 0.35, 1.5 * ratio);
      c.strokeStyle = "#111";
      c.stroke();
    });
    Object.keys(flashes).forEach(function (key) {
      var left = flashes[key] - now;
      if (left <= 0) { delete flashes[key]; return; }
      var p = spot(+key);
      c.beginPath();
      c.arc(p.x, p.y, r * (1.4 + 0.4 * Math.sin(left / 120)), 0, 2 * Math.PI);
      c.lineWidth = 2 * ratio;
      c.strokeStyle = "#b00020";
      c.stroke();
    });
    if (cursor >= 0 && document.activeElement === box) {
      var q = spot(cursor);
      var size = Math.max(radius * 2.6 * k, 10 * ratio);
      c.lineWidth = 2 * ratio;
      c.strokeStyle = "#f5a623";
      c.strokeRect(q.x - size / 2, q.y - size / 2, size, size);
    }
  }

  function draw() {
    build();
    var venue = venueBox();
    // The map box takes the venue's shape (within the limits seats.css sets),
    // so a wide venue on a phone does not float in empty space.
    box.style.setProperty("--map-ratio", (venue.x1 - venue.x0) + " / " + (venue.y1 - venue.y0));
    width = 0;                 // measure again: the box may have a new shape
    shot = null;
    stale = true;
    home = null;
    resize();
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
      var text = words(gettext("%(category)s: %(price)s"), { category: c.name, price: money(c.price) });
      if (c.general_admission) {
        var left = gaLeft[c.code];
        text += " " + (left === undefined ? gettext("(standing)") :
          words(ngettext("(standing, %(left)s left)", "(standing, %(left)s left)", left), { left: left }));
      }
      item.appendChild(document.createTextNode(" " + text));
      list.appendChild(item);
      var option = document.createElement("option");
      option.value = c.code;
      option.textContent = words(gettext("%(category)s (%(price)s)"), { category: c.name, price: money(c.price) });
      select.appendChild(option);
    });
    if (chosen) { select.value = chosen; }
  }

  // --- pointer: tap, drag, pinch; wheel; buttons --------------------------------------

  // The seat under a point (map units), or -1.
  function seatAt(x, y) {
    var reach = Math.max(radius * 1.25, 8 / view.scale);
    var best = -1, bestDistance = reach * reach;
    seatsIn(x - reach, y - reach, x + reach, y + reach, function (index) {
      var d = (xs[index] - x) * (xs[index] - x) + (ys[index] - y) * (ys[index] - y);
      if (d <= bestDistance) { best = index; bestDistance = d; }
    });
    return best;
  }

  function tap(clientX, clientY) {
    var point = toMap(clientX, clientY);
    if (gap * view.scale < PICK_PX) {
      // Too small to pick one seat: zoom in around the tap.
      stopAnimation();
      animateTo({ cx: point.x, cy: point.y, scale: Math.min(24 / gap, maxScale) });
      say(gettext("Zoomed in. Tap a seat to choose it."));
      return;
    }
    var index = seatAt(point.x, point.y);
    if (index < 0) { return; }
    moveCursor(index, false);
    toggle(index);
    $("seats-cursor").textContent = describe(index);
  }

  function wireViewControls() {
    $("seats-zoom-in").addEventListener("click", function () { zoomAt(1 / 0.6); });
    $("seats-zoom-out").addEventListener("click", function () { zoomAt(0.6); });
    $("seats-zoom-reset").addEventListener("click", function () {
      if (home) { stopAnimation(); setView(home.cx, home.cy, home.scale); }
    });
    box.addEventListener("wheel", function (event) {
      event.preventDefault();
      var point = toMap(event.clientX, event.clientY);
      zoomAt(event.deltaY < 0 ? 1.25 : 0.8, point.x, point.y);
    }, { passive: false });

    var pointers = {};     // pointer id -> {x, y}
    var gesture = null;    // {kind: "drag"|"pinch", ...}
    var tapOk = false;     // the gesture so far could still be a tap

    function ids() { return Object.keys(pointers); }

    function begin() {
      var list = ids();
      if (list.length === 1) {
        var p = pointers[list[0]];
        gesture = { kind: "drag", x: p.x, y: p.y, cx: view.cx, cy: view.cy, moved: false };
      } else if (list.length >= 2) {
        var a = pointers[list[0]], b = pointers[list[1]];
        var mid = { x: (a.x + b.x) / 2, y: (a.y + b.y) / 2 };
        gesture = {
          kind: "pinch",
          distance: Math.max(Math.hypot(a.x - b.x, a.y - b.y), 1),
          scale: view.scale,
          anchor: toMap(mid.x, mid.y)
        };
        tapOk = false;
      } else {
        gesture = null;
      }
    }

    box.addEventListener("pointerdown", function (event) {
      if (event.pointerType === "mouse" && event.button !== 0) { return; }
      stopAnimation();
      if (box.setPointerCapture) { try { box.setPointerCapture(event.pointerId); } catch (e) { /* ignore */ } }
      // The first finger of a new touch: pointers a lost gesture left behind
      // (no pointerup came) must not turn this one into a pinch.
      if (event.isPrimary) { pointers = {}; }
      if (!ids().length) { tapOk = true; }
      pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
      begin();
    });
    box.addEventListener("pointermove", function (event) {
      if (!pointers[event.pointerId] || !gesture) { return; }
      pointers[event.pointerId] = { x: event.clientX, y: event.clientY };
      if (gesture.kind === "drag") {
        var dx = event.clientX - gesture.x, dy = event.clientY - gesture.y;
        if (!gesture.moved && Math.abs(dx) + Math.abs(dy) < (event.pointerType === "mouse" ? 5 : 10)) { return; }
        gesture.moved = true;
        tapOk = false;
        setView(gesture.cx - dx / view.scale, gesture.cy - dy / view.scale, view.scale);
      } else {
        // Two fingers: the zoom follows their spread, and the map point first
        // under their middle stays under it (which also pans).
        var list = ids(), a = pointers[list[0]], b = pointers[list[1]];
        var scale = Math.min(Math.max(gesture.scale * Math.hypot(a.x - b.x, a.y - b.y) / gesture.distance, minScale), maxScale);
        var rect = origin();
        var midX = (a.x + b.x) / 2 - rect.left, midY = (a.y + b.y) / 2 - rect.top;
        setView(gesture.anchor.x - (midX - width / 2) / scale, gesture.anchor.y - (midY - height / 2) / scale, scale);
      }
    });
    function end(event, cancelled) {
      if (!pointers[event.pointerId]) { return; }
      delete pointers[event.pointerId];
      var wasTap = !cancelled && tapOk && !ids().length;
      begin();
      // One finger left after a pinch goes on panning, never taps.
      if (gesture && gesture.kind === "drag") { gesture.moved = true; }
      if (wasTap) { tap(event.clientX, event.clientY); }
    }
    box.addEventListener("pointerup", function (event) { end(event, false); });
    box.addEventListener("pointercancel", function (event) { end(event, true); });
  }

  // --- keyboard: a cursor that walks the seats -------------------------------------

  function describe(index) {
    var c = categoryOf(index);
    var state = mine[index] ? gettext("held for you") :
      isSelected(index) ? gettext("selected") :
      taken[index] ? gettext("taken") : gettext("available");
    return words(gettext("%(seat)s. %(category)s, %(price)s. %(state)s."), {
      seat: seatName(index), category: c.name, price: money(c.price), state: state
    });
  }

  function moveCursor(index, pan) {
    if (index < 0 || index >= count) { return; }
    cursor = index;
    if (pan) { panTo(index); }
    $("seats-cursor").textContent = describe(index);
    marksChanged();
  }

  function nearestInRow(rowNumber, x) {
    var best = -1, distance = Infinity;
    rows[rowNumber].indexes.forEach(function (index) {
      var d = Math.abs(xs[index] - x);
      if (d < distance) { best = index; distance = d; }
    });
    return best;
  }

  function onKey(event) {
    if (!count) { return; }
    if (cursor < 0) { cursor = 0; }
    var row = rowOf[cursor];
    var inRow = rows[row].indexes;
    var position = inRow.indexOf(cursor);
    var next = -1;
    switch (event.key) {
      case "ArrowLeft": next = inRow[Math.max(0, position - 1)]; break;
      case "ArrowRight": next = inRow[Math.min(inRow.length - 1, position + 1)]; break;
      case "ArrowUp": if (row > 0) { next = nearestInRow(row - 1, xs[cursor]); } break;
      case "ArrowDown": if (row < rows.length - 1) { next = nearestInRow(row + 1, xs[cursor]); } break;
      case "Home": next = inRow[0]; break;
      case "End": next = inRow[inRow.length - 1]; break;
      case "Enter":
      case " ":
        event.preventDefault();
        toggle(cursor);
        $("seats-cursor").textContent = describe(cursor);
        return;
      case "+":
      case "=": event.preventDefault(); zoomAt(1 / 0.6, xs[cursor], ys[cursor]); return;
      case "-": event.preventDefault(); zoomAt(0.6); return;
      default: return;
    }
    event.preventDefault();
    if (next >= 0) { moveCursor(next, true); }
  }

  // --- selection ---------------------------------------------------------------------

  function toggle(index) {
    alertText("");
    if (mine[index]) { say(words(gettext("%(seat)s is already held for you."), { seat: seatName(index) })); return; }
    var position = selected.indexOf(index);
    if (position !== -1) {
      selected.splice(position, 1);
    } else if (taken[index]) {
      say(words(gettext("%(seat)s is taken."), { seat: seatName(index) }));
      return;
    } else if (selected.length >= holdMax) {
      say(words(ngettext("You can choose at most %(count)s seat at a time.",
        "You can choose at most %(count)s seats at a time.", holdMax), { count: holdMax }));
      return;
    } else {
      selected.push(index);
    }
    marksChanged();
    renderSelection();
  }

  function renderSelection() {
    var list = $("seats-selection");
    list.textContent = "";
    var total = 0;
    selected.forEach(function (index) {
      var c = categoryOf(index);
      var item = document.createElement("li");
      item.textContent = words(gettext("%(seat)s: %(price)s"), { seat: seatName(index), price: money(c.price) });
      list.appendChild(item);
      total += parseFloat(c.price);
    });
    $("seats-total").textContent = selected.length ?
      words(gettext("Total %(price)s"), { price: money(total.toFixed(2)) }) : gettext("No seats chosen yet.");
    $("seats-hold").disabled = selected.length === 0;
  }

  function dropFromSelection(indexes) {
    var gone = [];
    // The stream can announce this fan's own hold before its answer arrives.
    indexes = indexes.filter(function (index) { return !pending[index]; });
    var until = performance.now() + FLASH_MS;
    indexes.forEach(function (index) {
      var position = selected.indexOf(index);
      if (position !== -1) {
        selected.splice(position, 1);
        gone.push(index);
        flashes[index] = until;
      }
    });
    marksChanged();
    if (gone.length) {
      renderSelection();
      alertText(words(ngettext(
        "Seat %(seats)s was just taken by someone else. Please choose again.",
        "Seats %(seats)s were just taken by someone else. Please choose again.",
        gone.length), { seats: gone.map(seatName).join("; ") }));
    }
  }

  // --- availability: snapshot, stream, polling -------------------------------------

  function setTaken(index, value) {
    if (taken[index] === value) { return false; }
    taken[index] = value;
    stale = true;
    requestFrame();
    return true;
  }

  function applySnapshot(doc) {
    if (doc.layout_version !== map.layout_version) { loadMap(); return; }
    var bytes = atob(doc.unavailable);
    var newlyTaken = [];
    for (var i = 0; i < count; i++) {
      var bit = (bytes.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
      if (setTaken(i, bit) && bit && isSelected(i)) { newlyTaken.push(i); }
    }
    dropFromSelection(newlyTaken);
    version = doc.version;
    generation = doc.generation;
    gaLeft = doc.general_admission || {};
    // The first snapshot is drawn at once, not after the repaint pause.
    if (!liveDrawn) { builtAt = -Infinity; }
    requestFrame();
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
      if (setTaken(index, 1) && isSelected(index)) { newlyTaken.push(index); }
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
    $("seats-live").textContent = gettext("Updating every few seconds.");
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
      $("seats-live").textContent = gettext("Live.");
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
      // A refused stream (503: the server is serving as many as it can, or
      // Redis is down) is not retried by EventSource: ask again later.
      if (stream.readyState === EventSource.CLOSED && !streamRetry) {
        streamRetry = setTimeout(function () { streamRetry = null; openStream(); }, STREAM_RETRY_MS);
      }
    });
  }

  // --- holds ---------------------------------------------------------------------------

  function setHold(doc) {
    mine = {};
    marksChanged();
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
      if (index !== undefined) { mine[index] = true; setTaken(index, 1); }
      var item = document.createElement("li");
      item.textContent = words(gettext("%(seat)s: %(price)s"), {
        seat: seatWords(seat.section, seat.row, seat.label), price: money(seat.price)
      });
      list.appendChild(item);
    });
    doc.general_admission.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = words(gettext("%(quantity)s x %(category)s: %(price)s each"), {
        quantity: line.quantity, category: line.name, price: money(line.unit_price)
      });
      list.appendChild(item);
    });
    $("seats-held-total").textContent = words(gettext("Total %(price)s"), { price: money(doc.total) });
    // The checkout page (checkout app) reads the access token from the same
    // sessionStorage entry this page uses.
    $("seats-checkout").href = "/checkout/" + data.eventId + "/" + doc.hold_id + "/";
    $("seats-held").hidden = false;
    tick();
  }

  function showHeld(doc) {
    // Brings the seats of a hold the page did not pick itself (best
    // available) into view.
    var indexes = doc.seats.map(function (seat) { return indexById[seat.id]; })
      .filter(function (index) { return index !== undefined; });
    if (indexes.length && home) { animateTo(viewOf(indexes)); }
  }

  function tick() {
    if (!hold) { return; }
    var left = Math.max(0, Math.round((holdEndsAt - Date.now()) / 1000));
    var minutes = Math.floor(left / 60), seconds = left % 60;
    $("seats-countdown").textContent = minutes + ":" + (seconds < 10 ? "0" : "") + seconds;
    if (left === 0) {
      setHold(null);
      alertText(gettext("Your hold has expired and the seats were released."));
      resync();
    } else if (left === 60) {
      say(gettext("One minute left on your hold."));
    }
  }

  function holdFailed(result) {
    var body = result.body || {};
    if (result.status === 401) {
      if (body.code === "access_token_invalid" || body.code === "access_session_ended") {
        try { sessionStorage.removeItem(STORAGE_KEY); } catch (e) { /* ignore */ }
      }
      needAccess(true);
      alertText(body.message || gettext("Please sign in again."));
      return;
    }
    if (body.code === "seats_unavailable") {
      var indexes = (body.extra.seat_ids || []).map(function (id) { return indexById[id]; })
        .filter(function (index) { return index !== undefined; });
      indexes.forEach(function (index) { setTaken(index, 1); });
      dropFromSelection(indexes);
      return;
    }
    alertText(body.message || gettext("Something went wrong; please try again."));
  }

  function requestHold(payload, button) {
    alertText("");
    if (!accessToken()) { needAccess(true); return; }
    button.disabled = true;
    say(gettext("Holding seats…"));
    (payload.seats || []).forEach(function (id) { pending[indexById[id]] = true; });
    api("POST", data.holdsUrl, payload).then(function (result) {
      pending = {};
      button.disabled = false;
      if (result.status === 201) {
        selected = [];
        marksChanged();
        renderSelection();
        setHold(result.body);
        if (!payload.seats) { showHeld(result.body); }
        say(gettext("Held. Your seats are yours for the time shown."));
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
      alertText(gettext("The connection failed; please try again."));
    });
  }

  function wireHoldControls() {
    $("seats-hold").addEventListener("click", function (event) {
      requestHold({ seats: selected.map(function (index) { return raw(index)[at.id]; }) }, event.target);
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
          say(gettext("Released."));
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

  // --- inspection ------------------------------------------------------------------------

  // A read-only look at what the map shows, for the browser tests and for
  // support: where a seat is on screen, its state, the view, what was drawn.
  window.onsaleSeatMap = {
    seatCount: function () { return count; },
    seatPoint: function (index) {
      if (index < 0 || index >= count) { return null; }
      var rect = origin();
      if (shot) {
        // Where the picture shows it (the layer's offset is whole pixels).
        var placed = placement();
        return {
          x: rect.left + placed.x + (xs[index] - shot.x0) * shot.scale * placed.factor,
          y: rect.top + placed.y + (ys[index] - shot.y0) * shot.scale * placed.factor
        };
      }
      return {
        x: rect.left + width / 2 + (xs[index] - view.cx) * view.scale,
        y: rect.top + height / 2 + (ys[index] - view.cy) * view.scale
      };
    },
    seatState: function (index) { return index >= 0 && index < count ? seatState(index) : null; },
    seatIndex: function (seatId) { var index = indexById[seatId]; return index === undefined ? -1 : index; },
    view: function () {
      var seen = visibleBox();
      return {
        x: seen.x, y: seen.y, w: seen.w, h: seen.h, scale: seen.scale,
        spacing: gap * seen.scale, radius: radius * seen.scale, moving: !!animation
      };
    },
    stats: function () {
      return {
        frames: stats.frames, renders: stats.renders, renderMs: stats.renderMs,
        longestRenderMs: stats.longestRenderMs, firstRenderMs: stats.firstRenderMs,
        mode: stats.mode, drawn: stats.drawn,
        sections: stats.sections.slice(), rowLabels: stats.rowLabels, seatLabels: stats.seatLabels,
        stage: stats.stage, pending: stale || !!animation || !!settleTimer
      };
    }
  };

  // --- start -----------------------------------------------------------------------------

  function loadMap() {
    say(gettext("Loading the seat map…"));
    return fetch(data.mapUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) { throw new Error("map " + response.status); }
        return response.json();
      })
      .then(function (doc) {
        if (window.performance && performance.mark) { performance.mark("onsale:seat-map-parsed"); }
        map = doc;
        selected = [];
        cursor = -1;
        draw();
        if (window.performance && performance.mark) { performance.mark("onsale:seat-map-built"); }
        renderSelection();
        version = -1;
        generation = "";
        return resync();
      })
      .then(function () {
        say(count ? gettext("Choose seats on the map, or let us pick the best available.") : "");
        if (hold) { setHold(hold); }
      })
      .catch(function () { alertText(gettext("The seat map could not be loaded. Please reload the page.")); });
  }

  tokenFromAddress();
  wireViewControls();
  wireHoldControls();
  box.addEventListener("keydown", onKey);
  // Focus puts the keyboard cursor on the first seat without moving the view:
  // a click focuses the map too, and a pan between its pointerdown and
  // pointerup would make the click miss its seat.
  box.addEventListener("focus", function () { if (cursor < 0 && count) { moveCursor(0, false); } marksChanged(); });
  box.addEventListener("blur", marksChanged);
  if (window.ResizeObserver) { new ResizeObserver(resize).observe(box); }
  window.addEventListener("resize", resize);
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
