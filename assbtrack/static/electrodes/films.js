// Film pages: add component rows without a reload, show weight shares live, and preview the derived
// metrics of a result as it is typed. The server recomputes everything on save (electrodes/films.py).
(function () {
  "use strict";

  function number(input) {
    if (!input || input.value.trim() === "") return NaN;
    var value = Number(input.value);
    return isFinite(value) ? value : NaN;
  }

  function show(output, value, digits) {
    if (output) output.textContent = isFinite(value) ? value.toFixed(digits) : "–";
  }

  // ---- new film: component rows ----
  var rows = document.getElementById("component-rows");
  if (rows) {
    var prefix = rows.getAttribute("data-prefix");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var maxForms = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    var template = document.getElementById("component-empty");

    var refresh = function () {
      var masses = [], recipe = 0, anyRecipe = false;
      rows.querySelectorAll(".component-row").forEach(function (row) {
        masses.push({ row: row, mass: number(row.querySelector("input.mass")) });
        var wanted = number(row.querySelector("input.recipe"));
        if (isFinite(wanted)) { recipe += wanted; anyRecipe = true; }
      });
      var sum = masses.reduce(function (acc, m) { return acc + (isFinite(m.mass) && m.mass > 0 ? m.mass : 0); }, 0);
      masses.forEach(function (m) { show(m.row.querySelector("output.share"), sum > 0 ? m.mass / sum * 100 : NaN, 2); });
      show(document.getElementById("mass-total"), sum, 4);
      show(document.getElementById("recipe-total"), anyRecipe ? recipe : NaN, 2);
      var warning = document.getElementById("recipe-warning");
      if (warning) warning.textContent = anyRecipe && Math.abs(recipe - 100) > 0.1 ? "must be 100 % (±0.1 %)" : "";
    };

    document.getElementById("add-component").addEventListener("click", function () {
      var index = Number(total.value);
      if (maxForms && index >= Number(maxForms.value)) return;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      total.value = String(index + 1);
      var added = rows.lastElementChild.querySelector("input.source-code");
      if (added) added.focus();
      refresh();
    });
    rows.addEventListener("input", refresh);
    refresh();
  }

  // ---- a film's result: live loading, capacity, density and porosity ----
  var derive = document.getElementById("film-derive");
  var form = document.getElementById("result-form");
  if (derive && form) {
    var film = JSON.parse(derive.textContent);
    var inverseDensity = 0, capacityPerG = 0;
    film.components.forEach(function (c) {
      inverseDensity += c.fraction / c.density;
      if (c.capacity) capacityPerG += c.fraction * c.capacity;
    });
    var update = function () {
      var thickness = number(form.querySelector("[data-derive=thickness]"));
      var mass = number(form.querySelector("[data-derive=mass]"));
      var loading = mass * 1000 / film.area_cm2;
      var density = mass / (film.area_cm2 * thickness * 1e-4);
      show(form.querySelector("[data-live=loading]"), loading, 2);
      show(form.querySelector("[data-live=capacity]"), capacityPerG > 0 ? loading / 1000 * capacityPerG : NaN, 2);
      show(form.querySelector("[data-live=density]"), density, 3);
      show(form.querySelector("[data-live=porosity]"), (1 - density * inverseDensity) * 100, 1);
    };
    form.addEventListener("input", update);
    update();
  }
})();
