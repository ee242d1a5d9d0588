/* "Copy link" for the resume link. Without JavaScript the button stays hidden and the link can
   be selected and copied from its field as usual. What it says comes from the page's data-copied
   and data-copy-failed attributes, so that it is in the page's language. */
(function () {
  "use strict";
  document.querySelectorAll("[data-copy-target]").forEach(function (button) {
    var field = document.getElementById(button.getAttribute("data-copy-target"));
    var status = document.getElementById("copy-status");
    if (!field || !navigator.clipboard) {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(field.value).then(
        function () { status.textContent = button.getAttribute("data-copied"); },
        function () { field.select(); status.textContent = button.getAttribute("data-copy-failed"); }
      );
    });
  });
})();
