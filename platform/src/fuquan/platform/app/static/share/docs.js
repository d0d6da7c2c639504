// The data-sharing API's document in Swagger UI: loaded from /static (no inline script under the pages' CSP).
window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  window.SwaggerUIBundle({
    url: root.getAttribute("data-spec"),
    dom_id: "#swagger-ui",
    deepLinking: true,
    supportedSubmitMethods: [],
  });
});
