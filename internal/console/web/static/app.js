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

// The run page: step states over server-sent events, approvals answered
// without leaving the page.
(function () {
  var run = document.getElementById("run");
  if (!run) return;
  var id = run.getAttribute("data-run");

  function byStep(sel, step) {
    return document.querySelectorAll(sel + '[data-step="' + CSS.escape(step) + '"]');
  }

  function setStep(ev) {
    if (ev.item >= 0) return; // a for_each item: the step's own event says how it ends
    byStep("#dag g.node", ev.step).forEach(function (g) {
      g.setAttribute("class", "node st-" + ev.status);
    });
    byStep("#steps tr", ev.step).forEach(function (tr) {
      var st = tr.querySelector(".st");
      st.textContent = "";
      var span = document.createElement("span");
      span.className = "status s-" + ev.status;
      span.textContent = ev.status;
      st.appendChild(span);
      tr.querySelector(".att").textContent = ev.attempt ? String(ev.attempt) : "";
      var err = tr.querySelector(".err");
      err.textContent = ev.error || ev.skip_reason || "";
      err.classList.toggle("error", !!ev.error);
    });
    document.querySelectorAll('form.approval[data-approval-step="' + CSS.escape(ev.step) + '"]').forEach(function (f) {
      f.classList.toggle("hidden", ev.status !== "waiting");
    });
  }

  if (run.getAttribute("data-live") === "true") {
    var es = new EventSource("/api/runs/" + encodeURIComponent(id) + "/events");
    es.addEventListener("step", function (e) { setStep(JSON.parse(e.data)); });
    es.addEventListener("end", function (e) {
      var d = JSON.parse(e.data);
      var s = document.getElementById("run-status");
      s.textContent = d.status;
      s.className = "status s-" + d.status;
      run.setAttribute("data-live", "false");
      document.getElementById("reload").classList.remove("hidden");
      es.close();
    });
  }

  document.querySelectorAll("form.approval").forEach(function (f) {
    f.addEventListener("submit", function (e) {
      e.preventDefault();
      var decline = e.submitter && e.submitter.value === "decline";
      var msg = f.querySelector(".msg");
      msg.textContent = "";
      fetch(f.getAttribute("data-api"), {
        method: "POST",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": window.firebreakCSRF() },
        body: JSON.stringify({ step: f.querySelector('input[name="step"]').value, decline: decline }),
        credentials: "same-origin"
      }).then(function (res) {
        return res.json().then(function (body) {
          if (!res.ok) { msg.textContent = body.error || res.statusText; return; }
          f.classList.add("hidden");
        });
      }).catch(function (err) { msg.textContent = String(err); });
    });
  });
})();
