// The SPARQL editor: YASGUI pointed at this server's /sparql, with the example queries of the
// page. No network access beyond this server: the LOV/prefix.cc autocompleters are switched off
// and the endpoint list holds only our endpoint.
(function () {
  "use strict";
  var holder = document.getElementById("yasgui");
  if (!holder || typeof Yasgui === "undefined") { return; }
  var endpoint = new URL(holder.dataset.endpoint, window.location.href).toString();
  var pairs = JSON.parse(document.getElementById("sparql-examples").textContent);
  var examples = {};
  pairs.forEach(function (pair) { examples[pair[0]] = pair[1]; });
  var first = pairs[0][0];
  Yasgui.Yasqe.defaults.autocompleters = ["variables", "prefixes"];
  var yasgui = new Yasgui(holder, {
    requestConfig: { endpoint: endpoint, method: "POST",
                     acceptHeaderSelect: "application/sparql-results+json,*/*;q=0.9" },
    copyEndpointOnNewTab: true,
    persistenceId: null,
    populateFromUrl: true,
    endpointCatalogueOptions: { getData: function () { return [{ endpoint: endpoint }]; } },
    yasqe: { value: examples[first], prefixCcApi: null, resizeable: true,
             editorHeight: "320px" },
    yasr: { prefixes: { wk: "https://w3id.org/100wijken/ns#" } }
  });
  function showExample(key) {
    var tab = yasgui.getTab();
    tab.setQuery(examples[key]);
    tab.getYasqe().focus();
  }
  document.querySelectorAll("button.example").forEach(function (button) {
    button.addEventListener("click", function () { showExample(button.dataset.example); });
  });
  // YASGUI leaves some controls without an accessible name and its icons without text:
  // name them in Dutch and hide decorative icons, also in parts it draws later (results).
  // Result tables link every IRI; one planted by an update may be javascript: or data:, so
  // links that are not http(s) lose their href (the pages' link policy, api/security.py).
  var names = [
    ["input.autocomplete", "SPARQL-eindpunt"],
    [".CodeMirror textarea", "SPARQL-vraag"],
    ["select.tableSizer", "Rijen per pagina"],
    [".dataTables_filter input, input[placeholder]", null]
  ];
  function label() {
    names.forEach(function (pair) {
      holder.querySelectorAll(pair[0]).forEach(function (el) {
        if (!el.getAttribute("aria-label") && !(el.labels && el.labels.length)) {
          el.setAttribute("aria-label", pair[1] || el.getAttribute("placeholder") || "invoer");
        }
      });
    });
    holder.querySelectorAll("a[href]").forEach(function (a) {
      if (a.protocol !== "http:" && a.protocol !== "https:") { a.removeAttribute("href"); }
    });
    holder.querySelectorAll("svg:not([aria-hidden])").forEach(function (svg) {
      if (!svg.querySelector("title")) { svg.setAttribute("aria-hidden", "true"); }
    });
  }
  label();
  new MutationObserver(label).observe(holder, { childList: true, subtree: true });
  window.wijkenYasgui = yasgui;
}());
