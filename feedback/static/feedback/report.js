// Show only the part of the form that the chosen kind needs (without JavaScript every part is shown).
(function () {
  "use strict";
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
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
})();
