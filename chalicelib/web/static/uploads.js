// Large uploads: a chosen file larger than the form's data-direct-upload-bytes is sent straight
// to S3 (past API Gateway's body limit), then the form is sent with "s3:<token>/<name>" in its place.
// For each such file the page asks data-direct-upload (POST, with the CSRF token) for a presigned
// POST, sends the file there, and adds the value the server gave to the form. The server checks
// the object's size, reads it, deletes it and stores the file sealed like any other upload.
(function () {
  "use strict";
  var form = document.querySelector("form.screen[data-direct-upload]");
  if (!form) { return; }
  var slotUrl = form.dataset.directUpload;
  var threshold = parseInt(form.dataset.directUploadBytes || "0", 10);
  var csrf = (form.querySelector("input[name=_csrf]") || {}).value || "";

  function showError(input, text) {
    var id = input.id + "-direct-error";
    var note = document.getElementById(id);
    if (!note) {
      note = document.createElement("p");
      note.id = id; note.className = "error"; note.setAttribute("role", "alert");
      input.insertAdjacentElement("afterend", note);
    }
    note.textContent = text;
    input.setAttribute("aria-invalid", "true");
  }

  function send(input, file) {
    return fetch(slotUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ name: file.name, size: file.size })
    }).then(function (reply) {
      return reply.json().then(function (slot) {
        if (!reply.ok || !slot.url) { throw new Error(slot.error || "The file could not be sent."); }
        var data = new FormData();
        Object.keys(slot.fields).forEach(function (name) { data.append(name, slot.fields[name]); });
        data.append("file", file);
        // no-cors: S3 need not allow this site; the server checks that the object arrived.
        return fetch(slot.url, { method: "POST", body: data, mode: "no-cors" }).then(function () {
          var hidden = document.createElement("input");
          hidden.type = "hidden"; hidden.name = input.name; hidden.value = slot.value;
          form.appendChild(hidden);
        });
      });
    });
  }

  form.addEventListener("submit", function (event) {
    var large = Array.from(form.querySelectorAll("input[type=file]")).filter(function (input) {
      return !input.disabled && Array.from(input.files).some(function (f) { return f.size > threshold; });
    });
    if (!large.length) { return; }
    event.preventDefault();
    var sending = Promise.resolve();
    large.forEach(function (input) {
      Array.from(input.files).forEach(function (file) {
        sending = sending.then(function () {
          return send(input, file).catch(function (err) { showError(input, err.message); throw err; });
        });
      });
    });
    sending.then(function () {
      large.forEach(function (input) { input.disabled = true; }); // sent already: not in the form again
      HTMLFormElement.prototype.submit.call(form); // app.js has added the pressed button's value
    }, function () {
      delete form.dataset.sent; // let the user choose another file and send again
    });
  });
})();
