// Materials forms: add precursor rows without reloading, and show derived values while typing.
// The server recomputes every derived value on save; these are previews with the same formulas.
(function () {
  "use strict";
  function num(id) {
    var el = document.getElementById(id);
    if (!el || el.value === "") return NaN;
    return parseFloat(el.value);
  }
  function show(name, value, digits) {
    document.querySelectorAll('[data-live="' + name + '"]').forEach(function (out) {
      out.textContent = isFinite(value) && value > 0 ? value.toPrecision(digits || 3) : "–";
    });
  }

  // Precursor rows: clone the empty form, number it, count it in TOTAL_FORMS.
  var rows = document.getElementById("precursor-rows");
  var addButton = document.getElementById("add-precursor");
  var template = document.getElementById("precursor-empty");
  if (rows && addButton && template) {
    var prefix = rows.getAttribute("data-prefix");
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var maximum = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
    addButton.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (maximum && index >= parseInt(maximum.value, 10)) return;
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      var holder = document.createElement("div");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("input");
      if (first) first.focus();
    });
  }

  function updateBatch() {
    if (!rows) return;
    var sum = 0;
    rows.querySelectorAll('input[name$="-mass_g"]').forEach(function (input) {
      var v = parseFloat(input.value);
      if (isFinite(v) && v > 0) sum += v;
    });
    show("precursor-total", sum, 4);
    show("batch-yield", 100 * num("id_batch_mass_g") / sum, 3);
  }

  // σ = L / (R·A) in mS/cm, with L in mm and A in cm² (or from the diameter in mm).
  function updateConductivity() {
    var thicknessCm = num("id_thickness_mm") / 10;
    var area = num("id_area_cm2");
    if (!isFinite(area)) {
      var diameterCm = num("id_diameter_mm") / 10;
      area = Math.PI * diameterCm * diameterCm / 4;
    }
    show("conductivity", 1000 * thicknessCm / (num("id_resistance_ohm") * area), 3);
  }

  function updateRetention() {
    var data = document.getElementById("measurement-sigma");
    if (!data) return;
    var sigma = JSON.parse(data.textContent);
    var before = sigma[(document.getElementById("id_measurement_before") || {}).value];
    var after = sigma[(document.getElementById("id_measurement_after") || {}).value];
    show("retention", 100 * after / before, 3);
  }

  function updateStepYield() {
    show("step-yield", 100 * num("id_recovered_mass_g") / num("id_mass_in_g"), 3);
  }

  function updateAll() {
    updateBatch();
    if (document.querySelector('[data-live="conductivity"]')) updateConductivity();
    updateRetention();
    if (document.querySelector('[data-live="step-yield"]')) updateStepYield();
  }
  document.addEventListener("input", updateAll);
  document.addEventListener("change", updateAll);
  updateAll();
})();
