/* Small helpers of the pages: the drop zone, selects that reload, the live progress of a send. */
"use strict";

function csrfToken() { return document.body.dataset.csrf || ""; }

document.addEventListener("htmx:configRequest", function (event) {
  event.detail.headers["X-CSRF-Token"] = csrfToken();
});

function setupDrop() {
  var drop = document.getElementById("drop");
  if (!drop) { return; }
  var input = document.getElementById("file");
  var chosen = document.getElementById("chosen");
  var tooBig = document.getElementById("too-big");
  var limit = Number(drop.dataset.maxMb) * 1024 * 1024;
  function show() {
    var file = input.files && input.files[0];
    chosen.textContent = file ? file.name : "";
    tooBig.hidden = !(file && file.size > limit);
    drop.classList.toggle("has-file", Boolean(file));
  }
  input.addEventListener("change", show);
  ["dragenter", "dragover"].forEach(function (name) {
    drop.addEventListener(name, function (event) { event.preventDefault(); drop.classList.add("over"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    drop.addEventListener(name, function () { drop.classList.remove("over"); });
  });
  drop.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      show();
    }
  });
  document.getElementById("upload-form").addEventListener("submit", function (event) {
    var file = input.files && input.files[0];
    if (file && file.size > limit) { event.preventDefault(); tooBig.hidden = false; }
  });
}

function setupAutosubmit() {
  document.querySelectorAll("[data-autosubmit]").forEach(function (element) {
    element.addEventListener("change", function () {
      var form = element.form;
      var action = document.createElement("input");
      action.type = "hidden"; action.name = "action"; action.value = "reload";
      form.appendChild(action);
      form.submit();
    });
  });
}

function formatSeconds(seconds) {
  if (seconds === null || seconds === undefined) { return "–"; }
  var minutes = Math.floor(seconds / 60);
  var rest = seconds % 60;
  return minutes > 0 ? minutes + " min " + rest + " s" : rest + " s";
}

function setupProgress() {
  var box = document.getElementById("progress");
  if (!box || box.dataset.live !== "yes") { return; }
  var texts = document.getElementById("texts").dataset;
  var phase = document.getElementById("phase");
  var bar = document.getElementById("bar");
  var source = new EventSource(box.dataset.events);
  function set(id, value) { document.getElementById(id).textContent = String(value); }
  source.onmessage = function (message) {
    var state = JSON.parse(message.data);
    var counts = state.counts || {};
    set("s-done", state.done);
    ["accepted", "fix", "drop", "retry", "unchanged"].forEach(function (key) {
      set("s-" + key, counts[key] || 0);
    });
    set("s-rate", state.rate);
    set("s-left", formatSeconds(state.seconds_left));
    if (state.total > 0) { bar.value = Math.round(100 * state.done / state.total); }
    if (state.phase === "failed") {
      phase.textContent = texts.failed + " " + (state.error || "");
      source.close();
    } else if (state.phase === "done" || state.phase === "none") {
      bar.value = 100;
      phase.textContent = texts.done;
      source.close();
      window.location.assign(box.dataset.result);
    } else {
      phase.textContent = texts[state.phase] || texts.running;
    }
  };
}

/* A filter sent with GET puts what was typed in the address, which the browser's history and
   the network's logs keep: a CPR number typed there is refused before it leaves the page. The
   pattern is batch.privacy.CPR_LIKE's; the server refuses it too (an address typed by hand). */
var CPR_LIKE = /(^|[^0-9])([0-9]{6}[- ]?[0-9]{4}|[0-9]{9,10})(?![0-9])/;

function setupNoCpr() {
  document.querySelectorAll("form[data-no-cpr]").forEach(function (form) {
    var warning = document.getElementById(form.dataset.noCpr);
    form.addEventListener("submit", function (event) {
      var fields = form.querySelectorAll("input[type=search], input[type=text]");
      var found = Array.prototype.find.call(fields, function (field) { return CPR_LIKE.test(field.value); });
      fields.forEach(function (field) {
        field.removeAttribute("aria-invalid");
        field.removeAttribute("aria-describedby");
      });
      warning.hidden = !found;
      if (!found) { return; }
      event.preventDefault();
      found.setAttribute("aria-invalid", "true");
      found.setAttribute("aria-describedby", warning.id);
      found.focus();
    });
  });
}

document.addEventListener("DOMContentLoaded", function () {
  setupDrop();
  setupNoCpr();
  setupAutosubmit();
  setupProgress();
});
