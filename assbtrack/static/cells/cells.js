// Cells forms: add layer rows without reloading, and preview the nominal rating while codes are typed.
// The preview uses the same formulas as cells.tiers (parallel layers add capacity, series layers add
// voltage); the server recomputes everything from the records on save.
(function () {
  "use strict";
  var rows = document.getElementById("layer-rows");
  var addButton = document.getElementById("add-layer");
  var template = document.getElementById("layer-empty");
  if (!rows) return;
  var prefix = rows.getAttribute("data-prefix");
  var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
  var maximum = document.getElementById("id_" + prefix + "-MAX_NUM_FORMS");
  var ANODE_VOLTAGE = { li_metal: 0, anode_free: 0, li_in: 0.62, graphite: 0.15, silicon: 0.4 };

  function number(layerRow, name) {
    var input = layerRow.querySelector('input[name$="-' + name + '"]');
    return input && input.value !== "" ? parseFloat(input.value) : NaN;
  }
  function option(listId, code) {
    if (!code) return null;
    var list = document.getElementById(listId);
    if (!list) return null;
    var wanted = code.trim().toUpperCase();
    for (var i = 0; i < list.options.length; i++) {
      if (list.options[i].value === wanted) return list.options[i];
    }
    return null;
  }
  function text(layerRow, name) {
    var input = layerRow.querySelector('input[name$="-' + name + '"]');
    return input ? input.value : "";
  }
  function field(id) {
    var el = document.getElementById(id);
    return el ? el.value : "";
  }
  function show(name, value, digits) {
    document.querySelectorAll('[data-live="' + name + '"]').forEach(function (out) {
      out.textContent = typeof value === "string" ? value : (isFinite(value) && value > 0 ? value.toPrecision(digits || 3) : "–");
    });
  }

  function update() {
    var anodeType = field("id_anode_type");
    var cathodeV = parseFloat(field("id_cathode_voltage_v"));
    if (!isFinite(cathodeV)) cathodeV = 3.8;
    var anodeV = parseFloat(field("id_anode_voltage_v"));
    if (!isFinite(anodeV)) anodeV = ANODE_VOLTAGE[anodeType] || 0;
    var series = field("id_connection") === "series";
    var capacities = [], lowestNp = Infinity;
    rows.querySelectorAll(".layer").forEach(function (layerRow, index) {
      var number_ = layerRow.querySelector(".layer-number");
      if (number_) number_.textContent = String(index + 1);
      var out = layerRow.querySelector('[data-live="layer"]');
      var cathode = option("cathode-sheets", text(layerRow, "cathode"));
      if (!cathode) { if (out) out.textContent = ""; return; }
      var areal = parseFloat(cathode.getAttribute("data-capacity"));
      var capacity = areal * parseFloat(cathode.getAttribute("data-area"));
      var np = NaN;
      var anode = option("anode-sheets", text(layerRow, "anode"));
      var foil = option("foil-lots", text(layerRow, "anode_lot"));
      if (anode) np = parseFloat(anode.getAttribute("data-capacity")) / areal;
      else if (foil) {
        var specific = parseFloat(foil.getAttribute("data-capacity")) || (anodeType === "li_metal" ? 3861 : NaN);
        np = number(layerRow, "anode_mass_g") * specific / capacity;
      } else if (anodeType === "anode_free") np = 0;
      if (isFinite(capacity)) capacities.push(capacity);
      if (isFinite(np)) lowestNp = Math.min(lowestNp, np);
      if (out) out.textContent = isFinite(capacity) ? capacity.toPrecision(3) + " mAh" + (isFinite(np) ? ", N/P " + np.toPrecision(3) : "") : "";
    });
    var layerV = cathodeV - anodeV;
    var capacity = 0, voltage = NaN;
    if (capacities.length) {
      capacity = series ? Math.min.apply(null, capacities) : capacities.reduce(function (a, b) { return a + b; }, 0);
      voltage = series ? layerV * capacities.length : layerV;
    }
    show("capacity", capacity, 4);
    show("voltage", voltage, 3);
    show("np", lowestNp === Infinity ? NaN : (lowestNp === 0 ? "0" : lowestNp), 3);
    var ah = capacity / 1000;
    show("tier", capacity > 0 ? (ah < 0.1 ? "laboratory" : (ah <= 10 ? "pilot" : "production")) : "–");
  }

  if (addButton && template) {
    addButton.addEventListener("click", function () {
      var index = parseInt(total.value, 10);
      if (maximum && index >= parseInt(maximum.value, 10)) return;
      var holder = document.createElement("div");
      holder.innerHTML = template.innerHTML.replace(/__prefix__/g, String(index)).trim();
      var row = holder.firstElementChild;
      rows.appendChild(row);
      total.value = String(index + 1);
      var first = row.querySelector("input");
      if (first) first.focus();
      update();
    });
  }
  // A scanner types the code and presses Enter: move to the next field instead of submitting half a cell.
  rows.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || event.target.tagName !== "INPUT") return;
    event.preventDefault();
    var inputs = Array.prototype.slice.call(rows.querySelectorAll("input"));
    var next = inputs[inputs.indexOf(event.target) + 1];
    if (next) next.focus(); else if (addButton) addButton.click();
  });
  document.getElementById("cell-form").addEventListener("input", update);
  document.getElementById("cell-form").addEventListener("change", update);
  update();
})();
