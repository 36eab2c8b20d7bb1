// Hover values for labelaudit serve's charts and item images (no dependencies, no build;
// shipped in the package). Chart points carry data-hover="batch: value" (set by the
// server, escaped); a box drawn over an image carries data-hover="annotator: label".
// The text is shown with textContent only, never parsed as HTML. Pixel boxes get the
// image's natural size as their viewBox once it has loaded.
(function () {
  "use strict";
  var tip = document.createElement("div");
  tip.className = "hover-tip";
  tip.setAttribute("role", "status");
  tip.hidden = true;
  document.body.appendChild(tip);

  function show(event) {
    var node = event.target.closest ? event.target.closest("[data-hover]") : null;
    if (!node) { tip.hidden = true; return; }
    tip.textContent = node.getAttribute("data-hover");
    tip.style.left = (event.pageX + 12) + "px";
    tip.style.top = (event.pageY + 12) + "px";
    tip.hidden = false;
  }

  document.addEventListener("mouseover", show);
  document.addEventListener("mousemove", function (event) { if (!tip.hidden) { show(event); } });
  document.addEventListener("mouseout", function (event) {
    if (!event.relatedTarget || !event.relatedTarget.closest ||
        !event.relatedTarget.closest("[data-hover]")) { tip.hidden = true; }
  });

  Array.prototype.forEach.call(document.querySelectorAll("figure.boxes"), function (figure) {
    var image = figure.querySelector("img");
    var overlay = figure.querySelector("svg[data-pixels]");
    if (!image || !overlay) { return; }
    function fit() {
      if (image.naturalWidth) {
        overlay.setAttribute("viewBox", "0 0 " + image.naturalWidth + " " + image.naturalHeight);
      }
    }
    if (image.complete) { fit(); } else { image.addEventListener("load", fit); }
  });
})();
