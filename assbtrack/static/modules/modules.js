// Modules pages: add cell rows without a reload (a scanner's Enter adds the next row), and the live plate check.
(function () {
  "use strict";

  // --- formset rows ---------------------------------------------------------------------------------
  function addRow(prefix) {
    var total = document.getElementById("id_" + prefix + "-TOTAL_FORMS");
    var template = document.getElementById(prefix + "-empty");
    var rows = document.getElementById(prefix + "-rows");
    if (!total || !template || !rows) return null;
    var index = parseInt(total.value, 10);
    var html = template.innerHTML.replace(/__prefix__/g, String(index)).replace(/__position__/g, String(index + 1));
    var holder = document.createElement("div");
    holder.innerHTML = html.trim();
    var row = holder.firstElementChild;
    rows.appendChild(row);
    total.value = String(index + 1);
    var input = row.querySelector("input");
    if (input) input.focus();
    return row;
  }

  document.querySelectorAll("[data-add-row]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      addRow(button.getAttribute("data-add-row"));
    });
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (event.key !== "Enter" || !target.classList || !target.classList.contains("cell-code")) return;
    event.preventDefault(); // a barcode scanner ends each code with Enter: go to the next row, do not submit
    var rows = target.closest("[data-rows]");
    var inputs = rows ? rows.querySelectorAll("input.cell-code") : [];
    if (inputs.length && inputs[inputs.length - 1] === target) {
      if (target.value.trim()) addRow(rows.getAttribute("data-rows"));
    } else {
      var next = Array.prototype.indexOf.call(inputs, target) + 1;
      if (inputs[next]) inputs[next].focus();
    }
  });

  // --- live plate check (the server recomputes on save with modules/housing.py) -----------------------
  var live = document.getElementById("plate-live");
  if (!live) return;
  var RATIOS = [1.0, 1.2, 1.4, 1.6, 1.8, 2.0, 3.0, 4.0, 5.0];
  var ALPHA = [0.0444, 0.0616, 0.0770, 0.0906, 0.1017, 0.1110, 0.1335, 0.1400, 0.1417];
  var BETA = [0.2874, 0.3762, 0.4530, 0.5172, 0.5688, 0.6102, 0.7134, 0.7410, 0.7476];
  var ALPHA_STRIP = 0.1421, BETA_STRIP = 0.7500;

  function interp(x, xs, ys) {
    if (x <= xs[0]) return ys[0];
    for (var i = 1; i < xs.length; i++) {
      if (x <= xs[i]) return ys[i - 1] + (ys[i] - ys[i - 1]) * (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
    }
    return ys[ys.length - 1];
  }
  function coefficients(ratio) {
    if (ratio > 5) {
      var inverse = 1 / ratio; // linear in b/a between a/b = 5 (b/a = 0.2) and the strip (0)
      return [ALPHA_STRIP + (ALPHA[8] - ALPHA_STRIP) * inverse / 0.2, BETA_STRIP + (BETA[8] - BETA_STRIP) * inverse / 0.2];
    }
    return [interp(ratio, RATIOS, ALPHA), interp(ratio, RATIOS, BETA)];
  }
  function value(name) {
    var el = document.getElementById("id_" + name);
    var number = el ? parseFloat(el.value) : NaN;
    return isFinite(number) ? number : NaN;
  }
  function update() {
    var l = value("plate_length_mm"), w = value("plate_width_mm"), t = value("plate_thickness_mm");
    var q = value("target_stack_pressure_mpa"), e = value("plate_modulus_gpa") * 1000;
    var n = value("deflection_ratio"), allow = value("plate_allowable_stress_mpa");
    if (!(l > 0 && w > 0 && q > 0 && e > 0 && n > 0 && allow > 0)) { live.textContent = "Fill in the plate to see the thickness it needs."; return; }
    var a = Math.max(l, w), b = Math.min(l, w), c = coefficients(a / b);
    var stiff = Math.cbrt(c[0] * q * Math.pow(b, 3) * n / e), strong = Math.sqrt(c[1] * q * b * b / allow);
    var needed = Math.max(stiff, strong);
    var text = "Needs " + needed.toFixed(2) + " mm (stiffness " + stiff.toFixed(2) + " mm, strength " + strong.toFixed(2) + " mm).";
    if (t > 0) {
      var y = c[0] * q * Math.pow(b, 4) / (e * Math.pow(t, 3)), s = c[1] * q * b * b / (t * t);
      text += " The " + t + " mm plate: deflection " + y.toFixed(3) + " mm (tolerance " + (b / n).toFixed(3) + " mm), stress " + s.toFixed(1) + " MPa.";
      live.className = "derived" + (t < needed ? " errors" : "");
    }
    live.textContent = text;
  }
  document.querySelectorAll("input").forEach(function (input) { input.addEventListener("input", update); });
  update();
})();
