/* The organizer console: event creation, editing, seat map upload with an
 * SVG preview, and the live control room (numbers, chart, controls, audit).
 *
 * Every change goes to the organizer JSON API with the session cookie and the
 * CSRF token; the API's errors ({code, message, extra}) are shown inline, and
 * seat map errors name the path (JSON) or the line and column (CSV).
 */
(function () {
  "use strict";

  var SVGNS = "http://www.w3.org/2000/svg";

  function $(id) { return document.getElementById(id); }

  function cookie(name) {
    var match = document.cookie.match(new RegExp("(?:^|; )" + name + "=([^;]*)"));
    return match ? decodeURIComponent(match[1]) : "";
  }

  function api(method, url, body, contentType) {
    var headers = { Accept: "application/json", "X-CSRFToken": cookie("csrftoken") };
    var payload;
    if (body !== undefined) {
      headers["Content-Type"] = contentType || "application/json";
      payload = contentType ? body : JSON.stringify(body);
    }
    return fetch(url, { method: method, credentials: "same-origin", headers: headers, body: payload })
      .then(function (response) {
        return response.json().then(
          function (json) { return { status: response.status, body: json }; },
          function () { return { status: response.status, body: null }; }
        );
      });
  }

  function show(id, text) {
    var box = $(id);
    if (!box) { return; }
    box.textContent = text || "";
    box.hidden = !text;
  }

  /* A readable sentence from an API error, naming where the problem is. */
  function errorText(result) {
    var body = result.body || {};
    var extra = body.extra || {};
    var text = body.message || ("The request failed (HTTP " + result.status + ").");
    var where = [];
    if (extra.row !== undefined && extra.row !== null && text.indexOf("line " + extra.row) < 0) {
      where.push("line " + extra.row);
    }
    if (extra.column && text.indexOf(extra.column) < 0) { where.push("column " + extra.column); }
    if (extra.path && text.indexOf(extra.path) < 0) { where.push("at " + extra.path); }
    if (extra.field && text.indexOf(extra.field) < 0) { where.push("field " + extra.field); }
    if (body.code === "validation_error" || (extra.fields && typeof extra.fields === "object")) {
      var fields = extra.fields || extra;
      Object.keys(fields).forEach(function (name) {
        if (Array.isArray(fields[name])) { where.push(name + ": " + fields[name].join(" ")); }
      });
    }
    return where.length ? text + " (" + where.join("; ") + ")" : text;
  }

  function utc(value) { return value ? value + (value.length === 16 ? ":00Z" : "Z") : undefined; }

  function formFields(form, names) {
    var out = {};
    names.forEach(function (name) {
      var input = form.elements[name];
      if (!input || input.value === "") { return; }
      out[name] = input.type === "datetime-local" ? utc(input.value) : input.value;
    });
    return out;
  }

  // --- seat map preview --------------------------------------------------------

  function drawMap(svg, map) {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    if (!map || !map.seats || !map.seats.length) { return; }
    var f = {};
    map.seat_fields.forEach(function (name, i) { f[name] = i; });
    var b = map.bounds;
    var pad = 1;
    svg.setAttribute("viewBox", [b.min_x - pad, b.min_y - pad,
      (b.max_x - b.min_x) + 2 * pad, (b.max_y - b.min_y) + 2 * pad].join(" "));
    var fragment = document.createDocumentFragment();
    map.seats.forEach(function (seat) {
      var dot = document.createElementNS(SVGNS, "circle");
      dot.setAttribute("cx", seat[f.x]);
      dot.setAttribute("cy", seat[f.y]);
      dot.setAttribute("r", 0.4);
      dot.setAttribute("fill", map.categories[seat[f.category]].color);
      fragment.appendChild(dot);
    });
    svg.appendChild(fragment);
  }

  function loadPreview(root) {
    var caption = $("seatmap-caption");
    return api("GET", root.dataset.seatmapUrl).then(function (result) {
      if (result.status !== 200) {
        drawMap($("seatmap-preview"), null);
        caption.textContent = "No seat map yet.";
        return;
      }
      var map = result.body;
      drawMap($("seatmap-preview"), map);
      var ga = map.categories.filter(function (c) { return c.general_admission; });
      caption.textContent = map.seat_count + " seats in " + map.sections.length + " sections; " +
        map.categories.map(function (c) {
          return c.name + " " + c.price + " " + map.currency + (c.general_admission ? " (standing, " + c.capacity + ")" : "");
        }).join(", ") + (ga.length ? "." : ".");
    });
  }

  // --- event list: create ------------------------------------------------------

  function initList(root) {
    var form = $("create-form");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      show("create-errors", "");
      var text = form.elements.seatmap.value.trim();
      var seatmap = null;
      if (text) {
        try { seatmap = JSON.parse(text); } catch (err) {
          show("create-errors", "The seat map is not valid JSON: " + err.message);
          return;
        }
      }
      var data = formFields(form, ["name", "venue_name", "starts_at", "onsale_at", "currency", "time_zone", "organization_id"]);
      if (data.organization_id) { data.organization_id = parseInt(data.organization_id, 10); }
      api("POST", root.dataset.createUrl, data).then(function (result) {
        if (result.status !== 201) { show("create-errors", errorText(result)); return null; }
        var id = result.body.id;
        if (!seatmap) { window.location.href = "/organizer/events/" + id + "/"; return null; }
        return api("PUT", "/api/v1/organizer/events/" + id + "/seatmap", seatmap).then(function (put) {
          if (put.status !== 200) {
            show("create-errors", "The event was created (as a draft) but its seat map was refused: " +
              errorText(put) + ". Fix it in the editor.");
            var link = document.createElement("a");
            link.href = "/organizer/events/" + id + "/";
            link.textContent = " Open the editor.";
            $("create-errors").appendChild(link);
            return;
          }
          window.location.href = "/organizer/events/" + id + "/";
        });
      });
    });
  }

  // --- event editor ------------------------------------------------------------

  function initEdit(root) {
    var form = $("edit-form");
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      show("edit-errors", ""); show("edit-saved", "");
      api("PATCH", root.dataset.eventUrl,
        formFields(form, ["name", "venue_name", "starts_at", "onsale_at", "currency", "time_zone"]))
        .then(function (result) {
          if (result.status !== 200) { show("edit-errors", errorText(result)); return; }
          show("edit-saved", "Saved.");
          $("edit-title").textContent = result.body.name;
        });
    });
    ["edit-publish", "edit-cancel"].forEach(function (id) {
      var button = $(id);
      if (!button) { return; }
      button.addEventListener("click", function () {
        var status = button.dataset.status;
        if (status === "cancelled" && !window.confirm("Cancel this event? This cannot be undone.")) { return; }
        api("PATCH", root.dataset.eventUrl, { status: status }).then(function (result) {
          if (result.status !== 200) { show("edit-errors", errorText(result)); return; }
          window.location.reload();
        });
      });
    });

    var mapForm = $("seatmap-form");
    $("seatmap-file").addEventListener("change", function () {
      var file = this.files && this.files[0];
      if (!file) { return; }
      var isCsv = /\.csv$/i.test(file.name) || file.type === "text/csv";
      mapForm.elements.format.value = isCsv ? "csv" : "json";
      file.text().then(function (text) { $("seatmap-text").value = text; });
    });
    /* Replacing a map the event already has is confirmed in words that say
     * what goes: the current seats and, when there are any, the live holds. */
    function replaceConfirmed() {
      var seats = mapForm.dataset.currentSeats;
      if (!seats) { return true; }
      var places = parseInt(mapForm.dataset.currentPlaces || "0", 10);
      var held = parseInt(mapForm.dataset.seatsHeld || "0", 10);
      var message = "Replace this event's seat map? The current map (" + seats + " seats" +
        (places ? ", " + places + " standing places" : "") +
        ") is replaced as a whole by the map in the box.";
      if (held) { message += " " + held + " seats are held now; those holds are dropped."; }
      return window.confirm(message);
    }

    mapForm.addEventListener("submit", function (e) {
      e.preventDefault();
      show("seatmap-errors", ""); show("seatmap-saved", "");
      if (!replaceConfirmed()) { show("seatmap-saved", "Not uploaded: the current map stays."); return; }
      var text = $("seatmap-text").value;
      var request;
      if (mapForm.elements.format.value === "csv") {
        request = api("PUT", root.dataset.seatmapCsvUrl, text, "text/csv");
      } else {
        var data;
        try { data = JSON.parse(text); } catch (err) {
          show("seatmap-errors", "Not valid JSON: " + err.message);
          return;
        }
        request = api("PUT", root.dataset.seatmapUrl, data);
      }
      request.then(function (result) {
        if (result.status !== 200) { show("seatmap-errors", errorText(result) + " Nothing was saved."); return; }
        show("seatmap-saved", "Saved: " + result.body.seat_count + " seats (layout version " +
          result.body.layout_version + ").");
        // The box now holds the event's map: a second upload replaces it.
        mapForm.dataset.currentSeats = String(result.body.seat_count);
        mapForm.dataset.currentPlaces = "";
        mapForm.dataset.seatsHeld = "0";
        $("seatmap-source").textContent = "The box holds the map just uploaded (layout version " +
          result.body.layout_version + "). Uploading replaces the whole map with what the box holds.";
        $("seatmap-upload").textContent = "Replace seat map";
        $("seatmap-label").textContent = "Map (this event's current map)";
        loadPreview(root);
      });
    });
    loadPreview(root);
  }

  // --- control room ------------------------------------------------------------

  var WINDOW_MS = 10 * 60 * 1000;

  function duration(seconds) {
    if (seconds === null || seconds === undefined) { return "—"; }
    var s = Math.round(seconds);
    if (s < 60) { return s + " s"; }
    if (s < 3600) { return Math.floor(s / 60) + " min " + (s % 60) + " s"; }
    return Math.floor(s / 3600) + " h " + Math.floor((s % 3600) / 60) + " min";
  }

  /* The sell-out estimate comes from real sales only (the server's
   * sales_per_minute); without them it says why there is none. */
  function selloutText(live) {
    if (live.sellout_eta_seconds !== null && live.sellout_eta_seconds !== undefined) {
      return duration(live.sellout_eta_seconds);
    }
    if (live.capacity > 0 && live.available === 0) { return "nothing left to sell"; }
    if (live.tickets_sold === 0) { return "no sales yet"; }
    if (live.sales_per_minute === null) { return "no sales lately"; }
    return "—";
  }

  function drawChart(svg, samples) {
    while (svg.firstChild) { svg.removeChild(svg.firstChild); }
    if (samples.length < 2) { return; }
    var width = 600, height = 180, now = samples[samples.length - 1].t;
    var series = [["queue_length", "#0b5cad"], ["active_shoppers", "#c75000"], ["tickets_sold", "#1f7a36"]];
    var top = 1;
    samples.forEach(function (s) {
      series.forEach(function (pair) { top = Math.max(top, s[pair[0]] || 0); });
    });
    for (var i = 1; i < 4; i++) {
      var grid = document.createElementNS(SVGNS, "line");
      grid.setAttribute("x1", 0); grid.setAttribute("x2", width);
      grid.setAttribute("y1", height * i / 4); grid.setAttribute("y2", height * i / 4);
      grid.setAttribute("stroke", "#d0d6de"); grid.setAttribute("stroke-width", 1);
      svg.appendChild(grid);
    }
    var label = document.createElementNS(SVGNS, "text");
    label.setAttribute("x", 4); label.setAttribute("y", 14); label.setAttribute("font-size", 12);
    label.textContent = "max " + top;
    svg.appendChild(label);
    series.forEach(function (pair) {
      var points = samples.map(function (s) {
        var x = width - (now - s.t) / WINDOW_MS * width;
        var y = height - ((s[pair[0]] || 0) / top) * (height - 20);
        return x.toFixed(1) + "," + y.toFixed(1);
      });
      var line = document.createElementNS(SVGNS, "polyline");
      line.setAttribute("points", points.join(" "));
      line.setAttribute("fill", "none");
      line.setAttribute("stroke", pair[1]);
      line.setAttribute("stroke-width", 2);
      line.setAttribute("vector-effect", "non-scaling-stroke");
      svg.appendChild(line);
    });
  }

  function compact(value) {
    var text = JSON.stringify(value);
    return text === "{}" ? "" : text;
  }

  function initLive(root) {
    var samples = [];
    var current = null;
    var controls = $("controls-form");
    var edited = false;
    controls.addEventListener("input", function () { edited = true; });

    function fillControls(live) {
      if (edited) { return; }
      controls.elements.rate_per_minute.value = live.rate_per_minute;
      controls.elements.burst.value = live.burst;
      controls.elements.max_active.value = live.max_active;
      controls.elements.session_seconds.value = live.session_seconds;
    }

    function render(live) {
      $("n-state").textContent = live.state + (live.event_status !== "published" ? " (" + live.event_status + ")" : "");
      ["queue_length", "rate_per_minute", "active_shoppers", "holds", "tickets_sold", "available"].forEach(function (k) {
        $("n-" + k).textContent = String(live[k]);
      });
      $("n-measured_rate_per_minute").textContent =
        live.measured_rate_per_minute === null ? "—" : String(Math.round(live.measured_rate_per_minute * 10) / 10);
      $("n-revenue").textContent = live.revenue + " " + live.currency;
      $("n-drain_eta_seconds").textContent = duration(live.drain_eta_seconds);
      $("n-sellout_eta_seconds").textContent = selloutText(live);
      $("n-server_time").textContent = live.server_time.slice(11, 19);
      $("n-turns_lapsed").textContent = live.turns_lapsed + " (" + live.turns_reclaimed + " taken back)";
      $("c-pause").disabled = live.state === "paused";
    }

    function refresh() {
      return api("GET", root.dataset.liveUrl).then(function (result) {
        if (result.status !== 200) { show("live-errors", errorText(result)); return; }
        show("live-errors", "");
        current = result.body;
        render(current);
        fillControls(current);
        var t = Date.now();
        samples.push({ t: t, queue_length: current.queue_length, active_shoppers: current.active_shoppers,
          tickets_sold: current.tickets_sold });
        while (samples.length && t - samples[0].t > WINDOW_MS) { samples.shift(); }
        drawChart($("live-chart"), samples);
      }).catch(function () { show("live-errors", "The server did not answer; retrying."); });
    }

    function loadAudit() {
      return api("GET", root.dataset.auditUrl).then(function (result) {
        if (result.status !== 200) { return; }
        var body = $("audit-rows");
        while (body.firstChild) { body.removeChild(body.firstChild); }
        result.body.results.forEach(function (entry) {
          var row = document.createElement("tr");
          [entry.created_at.slice(0, 19).replace("T", " "), entry.actor_email || "system", entry.action,
            compact(entry.before), compact(entry.after)].forEach(function (text, i) {
            var cell = document.createElement("td");
            if (i >= 3) { var code = document.createElement("code"); code.textContent = text; cell.appendChild(code); }
            else { cell.textContent = text; }
            row.appendChild(cell);
          });
          body.appendChild(row);
        });
      });
    }

    function send(changes, message) {
      show("controls-errors", ""); show("controls-saved", "");
      return api("PATCH", root.dataset.waitingroomUrl, changes).then(function (result) {
        if (result.status !== 200) { show("controls-errors", errorText(result)); return; }
        edited = false;
        show("controls-saved", message);
        refresh();
        loadAudit();
      });
    }

    controls.addEventListener("submit", function (e) {
      e.preventDefault();
      var changes = {};
      ["rate_per_minute", "burst", "max_active", "session_seconds"].forEach(function (name) {
        var value = controls.elements[name].value;
        if (value === "") { return; }
        var number = parseInt(value, 10);
        if (!current || number !== current[name]) { changes[name] = number; }
      });
      if (!Object.keys(changes).length) { show("controls-saved", "Nothing changed."); return; }
      // Drastic: cutting the rate (or the active cap) by more than half.
      var drastic = current && (
        (changes.rate_per_minute !== undefined && changes.rate_per_minute < current.rate_per_minute / 2) ||
        (changes.max_active !== undefined && changes.max_active < current.max_active / 2));
      if (drastic && !window.confirm("This cuts admission by more than half. Apply it now?")) { return; }
      send(changes, "Applied: " + Object.keys(changes).map(function (k) { return k + " = " + changes[k]; }).join(", ") + ".");
    });
    ["c-pause", "c-resume", "c-close"].forEach(function (id) {
      $(id).addEventListener("click", function () {
        var state = this.dataset.state;
        if ((state === "paused" || state === "closed") &&
            !window.confirm(state === "paused" ? "Pause admission? Nobody will be let in until you resume."
                                               : "Close the queue? Nobody can join or be admitted.")) { return; }
        send({ state: state }, "The queue is now " + state + ".");
      });
    });

    refresh();
    loadAudit();
    var every = parseInt(root.dataset.refreshMs, 10) || 3000;
    window.setInterval(refresh, every);
    window.setInterval(loadAudit, every * 5);
  }

  var list = $("console-list");
  if (list) { initList(list); }
  var edit = $("console-edit");
  if (edit) { initEdit(edit); }
  var live = $("console-live");
  if (live) { initLive(live); }
})();
