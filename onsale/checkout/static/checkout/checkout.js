/* Checkout page: hold countdown and payment submission to the checkout API.
   The Idempotency-Key is kept per hold in sessionStorage, so a retry after a
   network error or a reload cannot pay twice.
   Its texts come from Django's JavaScript catalog, loaded just before it in
   the page's language; without the catalog they stay English. */
(function () {
  "use strict";
  var root = document.getElementById("checkout");
  if (!root) { return; }
  var eventId = root.dataset.eventId;
  var holdId = root.dataset.holdId;
  var expiresAt = root.dataset.expiresAt ? Date.parse(root.dataset.expiresAt) : null;
  var form = document.getElementById("checkout-form");
  var errorBox = document.getElementById("checkout-error");
  var button = document.getElementById("checkout-submit");
  var keyName = "onsale.checkout.key." + eventId + "." + holdId;

  var busy = document.getElementById("checkout-busy");
  // Django's catalog functions, or English where the catalog did not load.
  var gettext = window.gettext || function (msgid) { return msgid; };
  var interpolate = window.interpolate || function (format, values) {
    return format.replace(/%\((\w+)\)s/g, function (match, name) { return String(values[name]); });
  };

  function showError(message, way) {
    errorBox.textContent = message;
    if (way) {
      // The way on: the seat map, or the waiting room when the session is over.
      var link = document.createElement("a");
      link.href = "/events/" + eventId + (way === "queue" ? "/queue" : "/seats");
      link.textContent = way === "queue" ? gettext("Go to the waiting room") : gettext("Back to the seat map");
      link.id = "checkout-back";
      errorBox.appendChild(document.createTextNode(" "));
      errorBox.appendChild(link);
    }
    errorBox.hidden = false;
    if (busy) { busy.textContent = ""; }
    errorBox.focus();
  }

  function tick() {
    var node = document.getElementById("checkout-countdown");
    if (!node || !expiresAt) { return; }
    var left = Math.max(0, Math.floor((expiresAt - Date.now()) / 1000));
    node.textContent = interpolate(gettext("%(minutes)s min %(seconds)s s"),
      { minutes: Math.floor(left / 60), seconds: ("0" + (left % 60)).slice(-2) }, true);
    if (left === 0) {
      showError(gettext("Your hold has expired. Go back to the seat map to choose seats again."), "seats");
      if (button) { button.disabled = true; }
      return;
    }
    window.setTimeout(tick, 1000);
  }

  function idempotencyKey() {
    var key = null;
    try { key = sessionStorage.getItem(keyName); } catch (e) {}
    if (!key) {
      key = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
        : String(Date.now()) + "-" + Math.random().toString(16).slice(2);
      try { sessionStorage.setItem(keyName, key); } catch (e) {}
    }
    return key;
  }

  var messages = {
    payment_declined: gettext("Your card was declined. Your seats are still held for you: try again with another card."),
    hold_already_checked_out: gettext("These seats are already being paid for. See your orders."),
    hold_expired: gettext("Your hold has expired or was released. Go back to the seat map."),
    seat_already_sold: gettext("One of your seats has just been sold. Go back to the seat map."),
    access_token_required: gettext("Your shopping session was not found. Rejoin the waiting room."),
    access_token_invalid: gettext("Your shopping session is not valid. Rejoin the waiting room."),
    access_session_ended: gettext("Your shopping session has ended. Rejoin the waiting room."),
    idempotency_request_in_progress: gettext("Your payment is still being processed. Please wait a moment.")
  };

  // What the provider's decline reason means to the person paying.
  var declineReasons = {
    insufficient_funds: gettext("The card has insufficient funds."),
    invalid_number: gettext("The card number is not valid."),
    payment_timeout: gettext("The payment provider did not confirm the payment in time; nothing was kept.")
  };

  function released() {
    // The seats are gone: stop the countdown and say so.
    expiresAt = null;
    var node = document.getElementById("checkout-countdown");
    if (node && node.parentNode) { node.parentNode.textContent = gettext("Your seats are no longer held."); }
  }

  function fieldErrors(fields, prefix) {
    // {"buyer": {"name": ["..."]}} -> "buyer name: ..."
    var parts = [];
    Object.keys(fields).forEach(function (name) {
      var value = fields[name];
      var label = (prefix ? prefix + " " : "") + name.replace(/_/g, " ");
      if (Array.isArray(value)) { parts.push(label + ": " + value.join(" ")); }
      else if (value && typeof value === "object") { parts.push(fieldErrors(value, label)); }
    });
    return parts.join("; ");
  }

  var confirming = gettext("We are confirming your payment with the bank. This can take a minute or two; you will not be charged twice.");

  // A pending order: show its payment status (the server's message, e.g.
  // payment_confirming) and poll the order until it is paid or failed.
  function follow(order) {
    var status = order.payment_status || {};
    if (busy) {
      busy.textContent = status.message || confirming;
      busy.dataset.code = status.code || "";
    }
    if (order.state === "paid") {
      window.location.assign("/orders/" + order.id + "/?placed=1");
      return;
    }
    if (order.state !== "pending") {
      try { sessionStorage.removeItem(keyName); } catch (e) {}
      if (busy) { busy.textContent = ""; }
      // The hold may still be the fan's (a failed payment keeps it): allow
      // another try; a hold that is gone answers hold_expired then.
      showError(interpolate(gettext("%(reason)s Your seats stay held for you until your hold runs out: try again, or choose seats again."),
        { reason: status.message || gettext("The payment did not go through.") }, true), "seats");
      button.disabled = false;
      return;
    }
    window.setTimeout(function () {
      fetch("/api/v1/orders/" + order.id, {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        if (!response.ok) { throw new Error(String(response.status)); }
        return response.json();
      }).then(follow).catch(function () {
        // A failed poll is tried again; the order's fate does not depend on it.
        follow(order);
      });
    }, 2000);
  }

  function submit(event) {
    event.preventDefault();
    errorBox.hidden = true;
    if (!form.reportValidity()) { return; }
    var token = null;
    try { token = sessionStorage.getItem("onsale.access." + eventId); } catch (e) {}
    var exp = (form.elements.exp.value || "").split("/");
    var payment = { card_number: form.elements.card_number.value.replace(/\s+/g, "") };
    if (exp.length === 2) {
      payment.exp_month = parseInt(exp[0], 10);
      payment.exp_year = 2000 + parseInt(exp[1], 10);
    }
    if (form.elements.cvc.value) { payment.cvc = form.elements.cvc.value; }
    var body = {
      hold_id: parseInt(holdId, 10),
      event_id: parseInt(eventId, 10),
      payment: payment,
      buyer: { name: form.elements.name.value, email: form.elements.email.value }
    };
    button.disabled = true;
    if (busy) { busy.textContent = gettext("Processing your payment…"); }
    // A charge that takes longer than a moment is being confirmed with the
    // bank: say so instead of spinning silently.
    var slow = window.setTimeout(function () {
      if (busy) { busy.textContent = confirming; }
    }, 3000);
    fetch(root.dataset.apiUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": form.elements.csrfmiddlewaretoken.value,
        "X-Access-Token": token || "",
        "Idempotency-Key": idempotencyKey()
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().then(function (data) { return { status: response.status, data: data }; });
    }).then(function (result) {
      window.clearTimeout(slow);
      if (result.status === 201) {
        if (busy) { busy.textContent = gettext("Payment accepted. Opening your order…"); }
        window.location.assign("/orders/" + result.data.id + "/?placed=1");
        return;
      }
      if (result.status === 202) {
        // The outcome is not known yet: say where it stands and poll.
        follow(result.data);
        return;
      }
      try { sessionStorage.removeItem(keyName); } catch (e) {}
      var code = result.data && result.data.code;
      var message = messages[code] || (result.data && result.data.message) || gettext("The payment could not be completed.");
      var reason = code === "payment_declined" && result.data.extra && result.data.extra.reason;
      if (reason && declineReasons[reason]) {
        message = message.replace(gettext("Your card was declined."), declineReasons[reason]);
      }
      if (code === "invalid" && result.data.extra && result.data.extra.fields) {
        message = interpolate(gettext("Please check the form: %(errors)s"),
          { errors: fieldErrors(result.data.extra.fields, "") }, true);
      }
      // A decline keeps the hold (until extra.hold_expires_at): the fan may
      // pay again for the same seats, under a new key (the old one was
      // removed above and replays the decline).
      var kept = code === "payment_declined" && result.data.extra && result.data.extra.hold_expires_at;
      if (kept) {
        expiresAt = Date.parse(result.data.extra.hold_expires_at);
      } else if (code === "payment_declined") {
        message = message.replace(gettext("Your seats are still held for you: try again with another card."),
          gettext("Your hold has ended; choose seats again."));
      }
      var final = (code === "payment_declined" && !kept) || code === "hold_expired" || code === "seat_already_sold";
      var access = /^access_/.test(code || "");
      if (final) { released(); }
      showError(message, final ? "seats" : access ? "queue" : null);
      button.disabled = final;
    }).catch(function () {
      window.clearTimeout(slow);
      // Network error: keep the key, so pressing Pay again cannot pay twice.
      showError(gettext("The connection failed. Press Pay again: you will not be charged twice."));
      button.disabled = false;
    });
  }

  if (form) { form.addEventListener("submit", submit); }
  tick();
})();
