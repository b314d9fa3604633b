(function () {
  "use strict";
  var unitSel = document.getElementById("filter-unit");
  var ruleSel = document.getElementById("filter-rule");
  var shown = document.getElementById("shown");
  if (!unitSel || !ruleSel || !shown) {
    return;
  }
  var rows = Array.prototype.slice.call(document.querySelectorAll("tr.exc"));
  var sections = Array.prototype.slice.call(document.querySelectorAll("section.unit"));
  var locale = document.documentElement.lang === "sv" ? "sv-SE" : "en-GB";
  function apply() {
    var unit = unitSel.value;
    var rule = ruleSel.value;
    var n = 0;
    rows.forEach(function (tr) {
      var rules = (tr.getAttribute("data-rules") || "").split(" ");
      var visible = (!unit || tr.getAttribute("data-unit") === unit) &&
                    (!rule || rules.indexOf(rule) >= 0);
      tr.hidden = !visible;
      if (visible) {
        n += 1;
      }
    });
    sections.forEach(function (section) {
      section.hidden = section.querySelector("tr.exc:not([hidden])") === null;
    });
    shown.setAttribute("data-shown", String(n));
    shown.textContent = shown.getAttribute("data-template")
      .replace("{shown}", n.toLocaleString(locale))
      .replace("{total}", Number(shown.getAttribute("data-total")).toLocaleString(locale));
  }
  unitSel.addEventListener("change", apply);
  ruleSel.addEventListener("change", apply);
  apply();
}());
