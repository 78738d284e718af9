// Pan and zoom for the lineage graphs (assbtrack/tracing/graph.py): the SVG's viewBox moves, nothing is redrawn.
// Drag to pan, wheel (or the + / − buttons) to zoom around the pointer, "Fit" to see the whole graph again.
(function () {
  "use strict";

  function setUp(container) {
    const svg = container.querySelector("svg.lineage-graph");
    if (!svg || svg.dataset.panZoom) return;
    svg.dataset.panZoom = "on";
    const start = svg.getAttribute("viewBox").split(/[ ,]+/).map(Number);
    let box = start.slice();

    function apply() { svg.setAttribute("viewBox", box.map((v) => v.toFixed(1)).join(" ")); }

    function toGraph(clientX, clientY) {
      const rect = svg.getBoundingClientRect();
      const scale = Math.max(box[2] / rect.width, box[3] / rect.height);
      const offsetX = (rect.width * scale - box[2]) / 2;
      return [box[0] + (clientX - rect.left) * scale - offsetX, box[1] + (clientY - rect.top) * scale];
    }

    function zoom(factor, clientX, clientY) {
      const [gx, gy] = clientX === undefined
        ? [box[0] + box[2] / 2, box[1] + box[3] / 2]
        : toGraph(clientX, clientY);
      const width = Math.min(Math.max(box[2] * factor, start[2] / 20), start[2] * 4);
      const applied = width / box[2];
      box = [gx - (gx - box[0]) * applied, gy - (gy - box[1]) * applied, box[2] * applied, box[3] * applied];
      apply();
    }

    svg.addEventListener("wheel", (event) => {
      event.preventDefault();
      zoom(event.deltaY > 0 ? 1.15 : 1 / 1.15, event.clientX, event.clientY);
    }, { passive: false });

    let drag = null;
    svg.addEventListener("pointerdown", (event) => {
      if (event.button !== 0) return;
      drag = { x: event.clientX, y: event.clientY, box: box.slice(), moved: false };
    });
    svg.addEventListener("pointermove", (event) => {
      if (!drag) return;
      const dx = event.clientX - drag.x;
      const dy = event.clientY - drag.y;
      if (!drag.moved && Math.abs(dx) + Math.abs(dy) < 4) return;  // a click on a node stays a click
      if (!drag.moved) { drag.moved = true; svg.classList.add("panning"); svg.setPointerCapture(event.pointerId); }
      const rect = svg.getBoundingClientRect();
      const scale = Math.max(box[2] / rect.width, box[3] / rect.height);
      box = [drag.box[0] - dx * scale, drag.box[1] - dy * scale, box[2], box[3]];
      apply();
    });
    function endDrag(event) {
      if (drag && drag.moved) {
        svg.classList.remove("panning");
        // swallow the click that ends a pan, so that it does not open the node under the pointer
        svg.addEventListener("click", (click) => { click.preventDefault(); click.stopPropagation(); },
          { capture: true, once: true });
        if (svg.hasPointerCapture(event.pointerId)) svg.releasePointerCapture(event.pointerId);
      }
      drag = null;
    }
    svg.addEventListener("pointerup", endDrag);
    svg.addEventListener("pointercancel", endDrag);

    const controls = document.createElement("div");
    controls.className = "graph-zoom";
    for (const [label, title, action] of [
      ["+", "Zoom in", () => zoom(1 / 1.4)],
      ["−", "Zoom out", () => zoom(1.4)],
      ["Fit", "Show the whole graph", () => { box = start.slice(); apply(); }],
    ]) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = label;
      button.title = title;
      button.addEventListener("click", action);
      controls.appendChild(button);
    }
    container.appendChild(controls);
  }

  function setUpAll() { document.querySelectorAll("[data-pan-zoom]").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setUpAll);
  else setUpAll();
})();
