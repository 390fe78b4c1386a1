/* The API reference: Swagger UI (vendored) on the served OpenAPI document. */
"use strict";

(function () {
  const root = document.getElementById("api-docs");
  window.SwaggerUIBundle({
    url: root.dataset.openapiUrl,
    domNode: root,
    // Off: it turns each path into a link inside the operation's button (a control within a control).
    deepLinking: false,
    // Nothing leaves the server: no validator badge (it calls an outside service), no remote config.
    validatorUrl: null,
    queryConfigEnabled: false,
    presets: [window.SwaggerUIBundle.presets.apis],
  });
})();
