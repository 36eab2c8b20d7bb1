// Keyboard adjudication for the queue page of labelaudit serve (no dependencies).
// j / ArrowDown and k / ArrowUp move between items; 1-9 decide the selected item with the
// n-th label. Decisions go to /api/decisions with the page's CSRF token; text is set with
// textContent only, never parsed as HTML.
(function () {
  "use strict";
  var rows = Array.prototype.slice.call(document.querySelectorAll(".queue-entry"));
  var meta = document.querySelector('meta[name="csrf-token"]');
  var csrf = meta ? meta.getAttribute("content") : "";
  var current = 0;

  function select(index) {
    if (!rows.length) { return; }
    current = Math.max(0, Math.min(rows.length - 1, index));
    rows.forEach(function (row, k) { row.classList.toggle("selected", k === current); });
    rows[current].scrollIntoView({ block: "nearest" });
  }

  function bump(id, delta) {
    var node = document.getElementById(id);
    if (node) { node.textContent = String(parseInt(node.textContent, 10) + delta); }
  }

  function decide(row, label) {
    var status = row.querySelector(".status");
    var wasOpen = !row.classList.contains("decided");
    fetch("/api/decisions", {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ item: row.getAttribute("data-item"), label: label })
    }).then(function (response) {
      return response.text().then(function (text) {  // read the whole answer first
        if (response.ok) {
          row.classList.add("decided");
          status.textContent = "decided: " + label;
          if (wasOpen) { bump("n-open", -1); bump("n-decided", 1); }
          select(current + 1);
        } else {
          status.textContent = "not saved (" + response.status + "): " + text.slice(0, 200);
        }
      });
    }).catch(function (error) { status.textContent = "not saved: " + error; });
  }

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (target && /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName)) { return; }
    if (event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (event.key === "j" || event.key === "ArrowDown") { select(current + 1); event.preventDefault(); }
    else if (event.key === "k" || event.key === "ArrowUp") { select(current - 1); event.preventDefault(); }
    else if (/^[1-9]$/.test(event.key) && rows.length) {
      var buttons = rows[current].querySelectorAll('button[name="label"]');
      var button = buttons[parseInt(event.key, 10) - 1];
      if (button) { decide(rows[current], button.value); event.preventDefault(); }
    }
  });
  select(0);
}());
