// firebreak console: the one script (the CSP allows no inline script).
// It follows live runs over server-sent events and filters tables.
"use strict";

(function () {
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.getAttribute("content") : "";
  }
  window.firebreakCSRF = csrf;

  // Filter: an input with data-filter="TABLE_ID" hides the rows of that
  // table whose text does not contain every word typed.
  document.querySelectorAll("input[data-filter]").forEach(function (inp) {
    var table = document.getElementById(inp.getAttribute("data-filter"));
    if (!table) return;
    inp.addEventListener("input", function () {
      var words = inp.value.toLowerCase().split(/\s+/).filter(Boolean);
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var text = tr.textContent.toLowerCase();
        var show = words.every(function (w) { return text.indexOf(w) >= 0; });
        tr.classList.toggle("hidden", !show);
      });
    });
  });
})();
