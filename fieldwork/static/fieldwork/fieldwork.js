/* The grid worker's workbench: drafts kept in localStorage, sent when the connection returns; the workload chart.
 *
 * A visit form (form[data-draft-form=<house id>]) saves every change to localStorage. Submitting while offline
 * queues the form in an outbox instead; the "online" event (or the next page load when online) sends it with
 * fetch. The client-generated client_id travels with it, so a retry never records a second visit.
 */
(function () {
  "use strict";
  var DRAFT = "renfang.fieldwork.draft.";
  var OUTBOX = "renfang.fieldwork.outbox";

  function read(key, fallback) {
    try { return JSON.parse(localStorage.getItem(key)) || fallback; } catch (e) { return fallback; }
  }
  function write(key, value) {
    try { localStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or disabled */ }
  }
  function fields(form) {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.name === "csrfmiddlewaretoken" || el.disabled) return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      out.push([el.name, el.value]);
    });
    return out;
  }
  function restore(form, saved) {
    var values = {};
    saved.forEach(function (p) { (values[p[0]] = values[p[0]] || []).push(p[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.type === "file" || el.name === "csrfmiddlewaretoken") return;
      var v = values[el.name];
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = !!v && v.indexOf(el.value) >= 0;
      } else if (v) {
        el.value = v[0];
      }
    });
  }
  // The messages come from the page (data-msg-* attributes, translated on the server).
  function status(key) {
    document.querySelectorAll("[data-draft-status]").forEach(function (el) {
      el.textContent = el.getAttribute("data-msg-" + key) || "";
      el.setAttribute("data-state", key);
    });
  }
  function syncSections(form) {
    var add = form.querySelector("input[name=add_person]");
    var person = form.querySelector(".fw-person");
    if (add && person) person.hidden = !add.checked;
    var mode = form.querySelector("input[name='new-mode']:checked");
    form.querySelectorAll(".fw-person [data-mode]").forEach(function (el) {
      el.hidden = !!mode && el.getAttribute("data-mode") !== mode.value;
    });
  }

  function csrf() {
    var el = document.querySelector("input[name=csrfmiddlewaretoken]");
    return el ? el.value : "";
  }

  var sending = false;
  function flush() {
    var box = read(OUTBOX, []);
    if (!box.length || sending || !navigator.onLine) return;
    sending = true;
    var entry = box[0];
    var body = new FormData();
    entry.fields.forEach(function (p) { body.append(p[0], p[1]); });
    body.append("csrfmiddlewaretoken", csrf() || entry.csrf);
    fetch(entry.url, {method: "POST", body: body, credentials: "same-origin",
                      headers: {"X-Fieldwork-Draft": "1", "X-CSRFToken": csrf() || entry.csrf}})
      .then(function (r) { return r.json().then(function (data) { return {status: r.status, data: data}; }); })
      .then(function (res) {
        sending = false;
        var rest = read(OUTBOX, []).filter(function (e) { return e.id !== entry.id; });
        if (res.status === 200 && res.data.ok) {
          write(OUTBOX, rest);
          localStorage.removeItem(DRAFT + entry.house);
          status("sent");
          var here = document.querySelector("[data-draft-form='" + entry.house + "']");
          if (here) { window.location.href = res.data.url; return; }
          flush();
        } else if (res.status === 400 || res.status === 409 || res.status === 403 || res.status === 404) {
          // The server refused it: keep the draft on the house page so the worker can correct and resend.
          write(OUTBOX, rest);
          status(res.status === 409 ? "conflict" : "refused");
        }
      })
      .catch(function () { sending = false; status("retry"); });
  }

  function queue(form) {
    var house = form.getAttribute("data-draft-form") || form.closest("[data-house]").getAttribute("data-house");
    var box = read(OUTBOX, []);
    var data = fields(form);
    var cid = (data.filter(function (p) { return p[0] === "client_id"; })[0] || [null, ""])[1];
    box = box.filter(function (e) { return e.id !== cid; });
    box.push({id: cid, house: house, url: form.action || window.location.href, fields: data, csrf: csrf(),
              at: new Date().toISOString()});
    write(OUTBOX, box);
    status("queued");
  }

  function offlineBanner() {
    document.querySelectorAll("[data-offline-banner]").forEach(function (el) { el.hidden = navigator.onLine; });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-clear-draft]").forEach(function (el) {
      localStorage.removeItem(DRAFT + el.getAttribute("data-clear-draft"));
    });
    document.querySelectorAll("form[data-draft-form]").forEach(function (form) {
      var key = DRAFT + form.getAttribute("data-draft-form");
      var saved = read(key, null);
      var bound = form.querySelector(".errorlist, .form-errors") || document.querySelector("[data-testid=conflict]");
      if (saved && saved.fields && !bound) {
        restore(form, saved.fields);
        document.querySelectorAll("[data-draft-banner]").forEach(function (el) { el.hidden = false; });
      }
      syncSections(form);
      var save = function () { write(key, {fields: fields(form), at: new Date().toISOString()}); };
      form.addEventListener("input", save);
      form.addEventListener("change", function () { syncSections(form); save(); });
      form.addEventListener("submit", function (ev) {
        save();
        if (!navigator.onLine) { ev.preventDefault(); queue(form); }
      });
    });
    document.querySelectorAll("form[data-quick]").forEach(function (form) {
      form.addEventListener("submit", function (ev) {
        if (!navigator.onLine) { ev.preventDefault(); queue(form); }
      });
    });
    var chart = document.getElementById("fw-chart");
    if (chart && window.echarts) {
      var data = JSON.parse(chart.getAttribute("data-chart"));
      var c = window.echarts.init(chart);
      c.setOption({
        tooltip: {trigger: "axis"}, legend: {data: [data.labels.visits, data.labels.stale]},
        grid: {left: 8, right: 16, top: 32, bottom: 8, containLabel: true},
        xAxis: {type: "value", minInterval: 1}, yAxis: {type: "category", data: data.names},
        series: [{name: data.labels.visits, type: "bar", data: data.visits, itemStyle: {color: "#1f6feb"}},
                 {name: data.labels.stale, type: "bar", data: data.stale, itemStyle: {color: "#b7791f"}}]
      });
      chart.setAttribute("data-ready", "1");
      window.addEventListener("resize", function () { c.resize(); });
    }
    offlineBanner();
    flush();
  });
  window.addEventListener("online", function () { offlineBanner(); flush(); });
  window.addEventListener("offline", offlineBanner);
})();
