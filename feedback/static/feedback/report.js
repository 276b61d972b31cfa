// Show only the part of the form that the chosen kind needs, and one person row at a time for a move-in
// (without JavaScript every part and every row is shown).
(function () {
  "use strict";
  function filled(row) {
    var inputs = row.querySelectorAll("input");
    for (var i = 0; i < inputs.length; i++) { if (inputs[i].value.trim() !== "") { return true; } }
    return row.querySelector(".fb-error") !== null;
  }
  function init() {
    var form = document.getElementById("fb-form");
    if (!form) { return; }
    form.parentNode.classList.add("js");
    var sections = form.querySelectorAll(".fb-section[data-kind]");
    function update() {
      var checked = form.querySelector("input[name=kind]:checked");
      var kind = checked ? checked.value : "";
      sections.forEach(function (s) {
        var k = s.getAttribute("data-kind");
        s.hidden = !(k === "all" || k === kind);
      });
    }
    form.addEventListener("change", function (e) { if (e.target.name === "kind") { update(); } });
    update();

    var rows = Array.prototype.slice.call(form.querySelectorAll(".fb-person"));
    var add = form.querySelector(".fb-add");
    var shown = 1;
    rows.forEach(function (row, i) { if (filled(row)) { shown = Math.max(shown, i + 1); } });
    function showRows() {
      rows.forEach(function (row, i) { row.hidden = i >= shown; });
      if (add) { add.hidden = shown >= rows.length; }
    }
    if (add) {
      add.addEventListener("click", function () {
        shown = Math.min(shown + 1, rows.length);
        showRows();
        var first = rows[shown - 1].querySelector("input");
        if (first) { first.focus(); }
      });
    }
    showRows();
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
