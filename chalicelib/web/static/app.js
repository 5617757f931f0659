// Small progressive enhancements; every screen also works without JavaScript.
(function () {
  "use strict";
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
})();
