// Check-ins: while a screen is open, ask the server every few seconds for news
// (notifications of finished background tasks) and apply the commands it returns.
// The body carries data-checkin-url and data-checkin-interval (ms); 0 or absent = off.
(function () {
  "use strict";
  var body = document.body;
  var url = body.dataset.checkinUrl;
  var interval = parseInt(body.dataset.checkinInterval || "0", 10);
  var form = document.querySelector("form.screen");
  if (!url || !(interval > 0) || !form) { return; }

  var code = String(Math.floor(Math.random() * 1e9)); // this page load's checkinCode
  var csrf = (form.querySelector("input[name=_csrf]") || {}).value || "";
  var pending = null; // the AbortController of the check-in in flight
  var timer = null;
  var initial = true;
  var lastRefresh = 0;
  var applying = false; // true while a check-in's commands are applied

  function fieldsOf(variable) {
    return form.querySelectorAll('[data-variable="' + CSS.escape(variable) + '"]');
  }

  // The form's current values, keyed by variable name (as docassemble's `parameters`).
  function parameters() {
    var out = { _initial: initial, _changed: null };
    form.querySelectorAll("[data-variable]").forEach(function (field) {
      var inputs = field.querySelectorAll("input, select, textarea");
      if (!inputs.length) { return; }
      var first = inputs[0];
      if (first.type === "checkbox") {
        out[field.dataset.variable] = inputs.length === 1 ? (first.checked ? "True" : "False")
          : Array.from(inputs).filter(function (i) { return i.checked; }).map(function (i) { return i.value; });
      } else if (first.type === "radio") {
        var chosen = Array.from(inputs).find(function (i) { return i.checked; });
        out[field.dataset.variable] = chosen ? chosen.value : "";
      } else {
        out[field.dataset.variable] = first.value;
      }
    });
    return out;
  }

  var PRIORITIES = ["info", "success", "warning", "danger"];
  function flash(text, priority) {
    var region = document.getElementById("flash");
    if (!region) { return; }
    var alert = document.createElement("div");
    alert.className = "alert alert-" + (PRIORITIES.indexOf(priority) >= 0 ? priority : "info");
    alert.textContent = String(text);
    region.appendChild(alert);
  }
  // docassemble's page function, for `javascript` replies such as flash("Hint: ...", "success")
  window.flash = flash;

  // The loop guard: an action that answers "refresh" on every check-in must not reload the
  // page more than once per interval. The time of the last reload is kept in the tab's
  // sessionStorage, because a reload starts this script afresh.
  var refreshKey = "da-refreshed:" + url;
  function lastRefreshed() {
    try { return Number(window.sessionStorage.getItem(refreshKey)) || lastRefresh; } catch (e) { return lastRefresh; }
  }
  function refresh() {
    var now = Date.now();
    if (now - lastRefreshed() < interval) { return; }
    lastRefresh = now;
    try { window.sessionStorage.setItem(refreshKey, String(now)); } catch (e) { /* storage off: per page only */ }
    stop();
    window.location.replace(form.action); // a GET of the interview, never a re-submit
  }

  // choices: ["a"] | {"a": "A"} | [{"a": "A"}] | [["a", "A"]] | [{value, label}]  ->  [[value, label], ...]
  function pairs(choices) {
    if (!Array.isArray(choices)) { return Object.entries(choices || {}); }
    return choices.map(function (c) {
      if (Array.isArray(c)) { return [c[0], c.length > 1 ? c[1] : c[0]]; }
      if (c === null || typeof c !== "object") { return [c, c]; }
      if ("value" in c || "label" in c) { return ["value" in c ? c.value : c.label, "label" in c ? c.label : c.value]; }
      return Object.entries(c)[0] || ["", ""];
    });
  }

  // As Python prints it: the page's data-value attributes hold str(value).
  function text(value) {
    if (value === true || value === false) { return value ? "True" : "False"; }
    return value === null || value === undefined ? "" : String(value);
  }

  // Choices are posted by position (value="0", "1"...); data-value holds the real value.
  function matches(el, values) {
    return values.indexOf(el.dataset.value !== undefined ? el.dataset.value : el.value) >= 0;
  }

  function truthy(value) { return [true, 1, "1", "True", "true", "yes"].indexOf(value) >= 0; }

  function setValue(field, value) {
    var values = (Array.isArray(value) ? value : [value]).map(text);
    field.querySelectorAll("input, select, textarea").forEach(function (input) {
      if (input.type === "checkbox" && field.classList.contains("field-check")) {
        input.checked = truthy(value); // a yes/no checkbox
      } else if (input.type === "checkbox" || input.type === "radio") {
        input.checked = matches(input, values);
      } else if (input.tagName === "SELECT") {
        var option = Array.from(input.options).find(function (o) { return o.value !== "" && matches(o, values); });
        input.value = option ? option.value : "";
      } else {
        input.value = text(value);
      }
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
  }

  function setOptions(select, choices) {
    var blank = select.options.length && select.options[0].value === "" ? select.options[0] : null;
    select.replaceChildren();
    if (blank) { select.appendChild(blank); }
    pairs(choices).forEach(function (p, n) {
      var option = new Option(text(p[1]), String(n)); // by position, as the server renders them
      option.dataset.value = text(p[0]);
      select.appendChild(option);
    });
  }

  // spec: a value, or {value?, choices?}
  function setField(variable, spec) {
    var detailed = spec !== null && typeof spec === "object" && !Array.isArray(spec) &&
      ("value" in spec || "choices" in spec);
    fieldsOf(variable).forEach(function (field) {
      if (detailed && spec.choices) {
        field.querySelectorAll("select").forEach(function (select) { setOptions(select, spec.choices); });
      }
      if (!detailed || "value" in spec) { setValue(field, detailed ? spec.value : spec); }
    });
  }

  function backgroundResponse(value) {
    (Array.isArray(value) ? value : [value]).forEach(function (item) {
      if (!item || item.target === undefined) { return; }
      var name = String(item.target).replace(/[^A-Za-z0-9_]/g, "");
      document.querySelectorAll(".datarget" + name).forEach(function (el) {
        el.innerHTML = item.content === undefined || item.content === null ? "" : String(item.content); // author HTML
      });
    });
  }

  function apply(command) {
    var value = command.value;
    switch (command.extra) {
      case "flash": flash(value); break;
      case "refresh": refresh(); break;
      case "javascript":
        try { window.DA.authorFunction([], value)(); } catch (err) { console.error("check-in javascript failed:", err); }
        break;
      case "fields":
        Object.keys(value || {}).forEach(function (variable) { setField(variable, value[variable]); });
        break;
      case "backgroundresponse": backgroundResponse(value); break;
      default: break;
    }
  }

  // changed: the variable name of the field whose change triggered this check-in (sent even
  // while another is pending); absent for a timer tick (skipped while one is pending).
  function checkin(changed) {
    var params = parameters();
    if (typeof changed === "string") {
      params._changed = changed;
    } else if (pending) {
      return; // skip the tick while one is pending
    }
    var data = new URLSearchParams({ csrf_token: csrf, checkinCode: code, parameters: JSON.stringify(params) });
    initial = false;
    var mine = pending = new AbortController();
    fetch(url, { method: "POST", body: data, credentials: "same-origin", signal: mine.signal,
                 headers: { "Accept": "application/json" } })
      .then(function (response) {
        // no session, a bad token, a bad request: give up (a 409, a session busy with other writers, passes)
        if (response.status >= 400 && response.status < 500 && response.status !== 409) { stop(); }
        return response.ok ? response.json() : null;
      })
      .then(function (reply) {
        if (!reply || !reply.success || String(reply.checkin_code) !== code) { return; }
        applying = true;
        try {
          (reply.commands || []).forEach(function (command) {
            try { apply(command); } catch (err) { console.error("check-in command failed:", command, err); }
          });
        } finally { applying = false; }
      })
      .catch(function (err) { if (err.name !== "AbortError") { console.warn("check-in failed:", err); } })
      .finally(function () { if (pending === mine) { pending = null; } });
  }

  function tick() { checkin(); }

  function start() {
    stop();
    timer = window.setTimeout(function () {
      checkin();
      timer = window.setInterval(tick, interval);
    }, 100);
  }

  // A change of a field: check in at once and restart the interval timer. The change events that
  // a `fields` command fires itself (while `applying`) send nothing, or a check-in that sets a
  // field would trigger itself forever.
  form.addEventListener("change", function (event) {
    var target = event.target;
    if (applying || !target || !target.matches || !target.matches("input, select, textarea")) { return; }
    var field = target.closest("[data-variable]");
    if (!field || !form.contains(field) || timer === null) { return; }
    window.clearTimeout(timer);
    window.clearInterval(timer);
    timer = window.setInterval(tick, interval);
    if (initial) { checkin(); } // a change within the first 100 ms: the initial check-in goes first
    checkin(field.dataset.variable);
  });

  function stop() {
    window.clearTimeout(timer);
    window.clearInterval(timer);
    timer = null;
    if (pending) { pending.abort(); }
  }

  window.addEventListener("pagehide", stop);
  window.addEventListener("pageshow", function (event) { if (event.persisted) { start(); } });
  start();
})();
