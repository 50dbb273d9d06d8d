/* Dossier form: add and remove repeatable rows (comparators, evidence) without a round trip,
   and show only the risk classes of the chosen regulation.
   Without JavaScript the same buttons submit the form and the server adds or removes the row. */
(function () {
  "use strict";

  function addRow(listName) {
    var container = document.querySelector('[data-rows="' + listName + '"]');
    var template = document.querySelector('template[data-row-template="' + listName + '"]');
    if (!container || !template) return;
    var index = Number(container.getAttribute("data-next-index")) || 0;
    container.setAttribute("data-next-index", String(index + 1));
    container.insertAdjacentHTML("beforeend", template.innerHTML.split("__index__").join(String(index)));
    var first = container.lastElementChild.querySelector("input, select, textarea");
    if (first) first.focus();
  }

  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      event.preventDefault();
      addRow(add.getAttribute("data-add-row"));
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      event.preventDefault();
      var row = remove.closest("[data-row]");
      if (row) row.remove();
    }
  });

  function syncRiskClasses() {
    var regulation = document.getElementById("regulation");
    var riskClass = document.getElementById("risk_class");
    if (!regulation || !riskClass) return;
    var chosen = regulation.value;
    riskClass.querySelectorAll("option[data-regulation]").forEach(function (option) {
      // Hidden, never disabled: a disabled selected option would silently not be sent.
      option.hidden = Boolean(chosen) && chosen !== "legacy" && option.getAttribute("data-regulation") !== chosen;
    });
    riskClass.querySelectorAll("optgroup").forEach(function (group) {
      group.hidden = Array.prototype.every.call(group.children, function (o) { return o.hidden; });
    });
  }

  document.addEventListener("change", function (event) {
    if (event.target.id === "regulation") syncRiskClasses();
  });
  document.addEventListener("DOMContentLoaded", syncRiskClasses);
  if (document.readyState !== "loading") syncRiskClasses();
})();
