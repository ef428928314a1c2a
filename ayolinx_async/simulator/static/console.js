// Ayolinx simulator pages: expiry countdowns, copy buttons and live refresh.
// Served from /_simulator/static/ (the pages' Content-Security-Policy allows no inline script).
// Every action also works without JavaScript: buttons are plain POST forms.
(function () {
  "use strict";

  function tick() {
    var now = Date.now() / 1000;
    document.querySelectorAll("[data-expires]").forEach(function (el) {
      var left = Math.floor(Number(el.getAttribute("data-expires")) - now);
      if (left <= 0) {
        el.textContent = "expired";
        el.classList.add("expired");
        return;
      }
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      var pad = function (n) { return (n < 10 ? "0" : "") + n; };
      el.textContent = (h ? h + ":" + pad(m) : m) + ":" + pad(s) + " left";
    });
  }

  function copy(button) {
    var target = document.getElementById(button.getAttribute("data-copy"));
    if (!target) { return; }
    var text = target.textContent;
    var done = function () {
      var note = document.createElement("span");
      note.className = "copied";
      note.textContent = "copied";
      button.after(note);
      setTimeout(function () { note.remove(); }, 1500);
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(done, function () {});
      return;
    }
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try { document.execCommand("copy"); done(); } catch (e) { /* selected for Ctrl-C */ }
  }

  // Live refresh: poll the ledger's version; when it changes, fetch this page again and swap
  // in every [data-live] section whose HTML changed (forms being edited are not live).
  function refresh() {
    fetch(window.location.href, { headers: { Accept: "text/html" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html) { return; }
        var fresh = new DOMParser().parseFromString(html, "text/html");
        document.querySelectorAll("[data-live]").forEach(function (old) {
          var next = fresh.getElementById(old.id);
          if (next && next.innerHTML !== old.innerHTML) { old.innerHTML = next.innerHTML; }
        });
        tick();
      });
  }

  function poll() {
    var body = document.body;
    var url = body.getAttribute("data-version-url");
    if (!url) { return; }
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        var seen = body.getAttribute("data-version");
        if (String(data.version) !== seen) {
          body.setAttribute("data-version", String(data.version));
          refresh();
        }
      })
      .catch(function () {})
      .then(function () { setTimeout(poll, 1500); });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (button) { event.preventDefault(); copy(button); }
  });
  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 1000);
    setTimeout(poll, 1500);
    var live = document.getElementById("live-state");
    if (live) { live.textContent = "live"; }
  });
})();
