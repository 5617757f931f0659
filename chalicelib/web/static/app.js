// Small progressive enhancements; every screen also works without JavaScript.
(function () {
  "use strict";
  // The one place where JavaScript written by the interview's author is compiled: `js show if`
  // conditions and `javascript` check-in replies. It is why the pages' Content-Security-Policy
  // allows 'unsafe-eval' (and nothing inline). The code comes from the interview source (the
  // fields' data-js-* attributes, which author HTML cannot carry) or from the author's check-in code.
  var DA = window.DA = window.DA || {};
  DA.authorFunction = function (parameters, body) {
    return Function.apply(null, parameters.concat([String(body)]));
  };

  // A screen may be the answer to the form's POST: make its history entry a plain GET of the same
  // address, so that reloading shows the screen again instead of posting the answer a second time.
  if (window.history && history.replaceState) { history.replaceState(history.state, "", location.href); }

  // Put the cursor in the first field with an error, else the first field.
  var first = document.querySelector("[aria-invalid=true]") ||
              document.querySelector("form.screen input:not([type=hidden]), form.screen select, form.screen textarea");
  if (first && first.focus) { first.focus(); }
  // Prevent double submission of a screen.
  var form = document.querySelector("form.screen");
  if (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var pressed = event.submitter;
      if (pressed && pressed.name) {
        var keep = document.createElement("input");
        keep.type = "hidden"; keep.name = pressed.name; keep.value = pressed.value;
        form.appendChild(keep);
      }
    });
  }
  if (form) { jsConditions(form); }

  // docassemble's `js show if` / `js hide if` / `js enable if` / `js disable if`: the field's
  // data-js-* attribute holds a JavaScript expression using val("variable"); it is evaluated
  // again on every input or change event in the form.
  function jsConditions(form) {
    var kinds = ["show-if", "hide-if", "enable-if", "disable-if"];
    var selector = kinds.map(function (k) { return "[data-js-" + k + "]"; }).join(", ");
    var fields = Array.from(form.querySelectorAll(selector));
    if (!fields.length) { return; }
    var compiled = {};

    function val(name) {
      var field = form.querySelector('[data-variable="' + CSS.escape(String(name)) + '"]');
      if (!field) { return undefined; }
      var inputs = Array.from(field.querySelectorAll("input, select, textarea"));
      if (!inputs.length) { return undefined; }
      var first = inputs[0];
      var real = function (el) { return el.dataset.value !== undefined ? el.dataset.value : el.value; };
      if (first.type === "checkbox" && field.classList.contains("field-check")) { return first.checked; }
      if (first.type === "checkbox") { return inputs.filter(function (i) { return i.checked; }).map(real); }
      if (first.type === "radio") {
        var chosen = inputs.find(function (i) { return i.checked; });
        return chosen ? real(chosen) : "";
      }
      if (first.tagName === "SELECT") {
        var option = first.selectedIndex >= 0 ? first.options[first.selectedIndex] : null;
        return option && option.value !== "" ? real(option) : "";
      }
      return first.value;
    }

    function test(expr) {
      try {
        var fn = compiled[expr] || (compiled[expr] = DA.authorFunction(["val"], "return (" + expr + ");"));
        return Boolean(fn(val));
      } catch (err) {
        console.error("js condition failed:", expr, err);
        return null; // unknown: leave the field as it is
      }
    }

    function update() {
      fields.forEach(function (field) {
        var d = field.dataset, shown = null, enabled = null;
        if (d.jsShowIf !== undefined) { shown = test(d.jsShowIf); }
        if (d.jsHideIf !== undefined) { var h = test(d.jsHideIf); shown = h === null ? shown : !h; }
        if (d.jsEnableIf !== undefined) { enabled = test(d.jsEnableIf); }
        if (d.jsDisableIf !== undefined) { var x = test(d.jsDisableIf); enabled = x === null ? enabled : !x; }
        if (shown !== null) { field.hidden = !shown; }
        if (enabled !== null) {
          field.querySelectorAll("input, select, textarea, button").forEach(function (c) { c.disabled = !enabled; });
        }
      });
    }

    form.addEventListener("input", update);
    form.addEventListener("change", update);
    update();
  }
})();
