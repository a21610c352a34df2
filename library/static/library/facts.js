// The facts of a content block: show the form of the chosen type, add rows.
(function () {
  "use strict";

  function showType(select) {
    document.querySelectorAll(".block-facts[data-block-type]").forEach(function (fieldset) {
      fieldset.hidden = fieldset.dataset.blockType !== select.value;
    });
  }

  function addFormsetRow(container) {
    var total = container.querySelector("input[name$='-TOTAL_FORMS']");
    var template = container.querySelector("template");
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index));
    container.querySelector("tbody").insertAdjacentHTML("beforeend", html);
    total.value = String(index + 1);
  }

  function addKeyValueRow(container) {
    var rows = container.querySelectorAll("tbody tr");
    var last = rows[rows.length - 1];
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input").forEach(function (input) {
      input.value = "";
      input.removeAttribute("id");
    });
    last.parentNode.appendChild(copy);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("[data-block-type-select]");
    if (select) {
      showType(select);
      select.addEventListener("change", function () { showType(select); });
    }
    document.querySelectorAll("[data-formset-prefix] [data-add-row]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        addFormsetRow(button.closest("[data-formset-prefix]"));
      });
    });
    document.querySelectorAll(".key-value-rows .add-key-value-row").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        addKeyValueRow(button.closest(".key-value-rows"));
      });
    });
  });
})();
