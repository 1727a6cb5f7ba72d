// The SPARQL editor: YASGUI pointed at this server's /sparql, with the example queries of the
// page. No network access beyond this server: the LOV/prefix.cc autocompleters are switched off
// and the endpoint list holds only our endpoint.
(function () {
  "use strict";
  var holder = document.getElementById("yasgui");
  if (!holder || typeof Yasgui === "undefined") { return; }
  var endpoint = new URL(holder.dataset.endpoint, window.location.href).toString();
  var examples = JSON.parse(document.getElementById("sparql-examples").textContent);
  var first = Object.keys(examples)[0];
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
  window.wijkenYasgui = yasgui;
}());
