/* Body map (templates/patient/_body_map.html), progressive enhancement only.
   Without this file the checkboxes work and CSS :has() colours the picture. With it:
   - a tap or click on a region of the picture ticks or unticks its checkbox;
   - pointing at a region, or at or into a checkbox, outlines the matching region(s);
   - regions also get an `is-on` class, for browsers without :has(). */
(function () {
  "use strict";

  function setUp(map) {
    const inputs = new Map();
    map.querySelectorAll('input[type="checkbox"]').forEach((input) => {
      inputs.set(input.value, input);
    });
    const shapes = Array.from(map.querySelectorAll("[data-region]"));

    function regionOf(element) {
      if (!element || !element.closest) return null;
      const shape = element.closest("[data-region]");
      if (shape) return shape.getAttribute("data-region");
      const option = element.closest(".body-map__option");
      const input = option && option.querySelector("input");
      return input ? input.value : null;
    }

    function sync() {
      shapes.forEach((shape) => {
        const input = inputs.get(shape.getAttribute("data-region"));
        shape.classList.toggle("is-on", Boolean(input && input.checked));
      });
    }

    function hint(region) {
      shapes.forEach((shape) => {
        shape.classList.toggle("is-hinted", shape.getAttribute("data-region") === region);
      });
    }

    map.addEventListener("click", (event) => {
      const shape = event.target.closest && event.target.closest("[data-region]");
      const input = shape && inputs.get(shape.getAttribute("data-region"));
      if (!input || input.disabled) return;
      input.checked = !input.checked;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      input.dispatchEvent(new Event("change", { bubbles: true }));
    });
    map.addEventListener("change", sync);
    map.addEventListener("mouseover", (event) => hint(regionOf(event.target)));
    map.addEventListener("mouseleave", () => hint(null));
    map.addEventListener("focusin", (event) => hint(regionOf(event.target)));
    map.addEventListener("focusout", () => hint(null));
    // The browser may restore ticks when the page comes back from the history.
    window.addEventListener("pageshow", sync);

    map.classList.add("body-map--js");
    sync();
  }

  document.querySelectorAll("[data-body-map]").forEach(setUp);
})();
