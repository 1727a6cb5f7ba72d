// The graph view of a record page: cytoscape.js over the subgraph embedded in the page.
// Nodes are coloured by type (same colours as the badges); clicking a node opens its page.
(function () {
  "use strict";
  // The server only hands out links it may (api/security.py); check again before navigating:
  // http(s) URLs and paths of this site, never javascript: and the like.
  var LINKABLE = /^(https?:\/\/|\/(?![\/\\])|[?#])/i;
  var holder = document.getElementById("graph");
  var data = document.getElementById("graph-data");
  if (!holder || !data || typeof cytoscape === "undefined") { return; }
  var payload = JSON.parse(data.textContent);
  var cy = cytoscape({
    container: holder,
    elements: payload.elements,
    wheelSensitivity: 0.3,
    minZoom: 0.2,
    maxZoom: 3,
    style: [
      { selector: "node", style: {
          "background-color": "data(colour)",
          "label": "data(label)", "font-size": 10, "color": "#1b1b1b",
          "text-wrap": "ellipsis", "text-max-width": 140, "text-valign": "bottom",
          "text-margin-y": 4, "width": 18, "height": 18,
          "text-background-color": "#ffffff", "text-background-opacity": 0.8,
          "text-background-padding": 1 } },
      { selector: "node[?center]", style: {
          "width": 30, "height": 30, "border-width": 3, "border-color": "#1b1b1b",
          "font-weight": "bold", "font-size": 12 } },
      { selector: "edge", style: {
          "width": 1.2, "line-color": "#9e9e9e", "curve-style": "bezier",
          "target-arrow-shape": "triangle", "target-arrow-color": "#9e9e9e",
          "arrow-scale": 0.7 } },
      { selector: "edge.show-label, edge:selected", style: {
          "label": "data(label)", "font-size": 9, "color": "#424242",
          "text-rotation": "autorotate", "text-background-color": "#ffffff",
          "text-background-opacity": 0.9 } },
      { selector: "node.hover", style: { "border-width": 3, "border-color": "#ffbf47" } }
    ],
    // Rings by distance from the record (the centre), so its direct links form the first ring.
    layout: { name: "concentric", animate: false, padding: 24, fit: true, minNodeSpacing: 28,
              startAngle: 3 / 2 * Math.PI, avoidOverlap: true,
              concentric: function (n) { return 10 - n.data("level"); },
              levelWidth: function () { return 1; } }
  });
  cy.on("tap", "node", function (evt) {
    var href = evt.target.data("href");
    if (href && LINKABLE.test(href)) { window.location.href = href; }
  });
  cy.on("mouseover", "node", function (evt) {
    evt.target.addClass("hover");
    evt.target.connectedEdges().addClass("show-label");
    holder.style.cursor = "pointer";
  });
  cy.on("mouseout", "node", function (evt) {
    evt.target.removeClass("hover");
    evt.target.connectedEdges().removeClass("show-label");
    holder.style.cursor = "";
  });
  window.wijkenGraph = cy;
}());
