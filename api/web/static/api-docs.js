// The API documentation page: Swagger UI (vendored swagger-ui-dist) over this server's
// OpenAPI description. A static file, not an inline script, so it runs under the CSP.
(function () {
  "use strict";
  var holder = document.getElementById("swagger-ui");
  if (!holder || typeof SwaggerUIBundle === "undefined") { return; }
  window.wijkenSwagger = SwaggerUIBundle({
    url: holder.dataset.openapiUrl,
    domNode: holder,
    layout: "BaseLayout",
    presets: [SwaggerUIBundle.presets.apis],
    deepLinking: true,
    showExtensions: true,
    showCommonExtensions: true,
    validatorUrl: null  // no badge from a validator service on another host
  });
}());
