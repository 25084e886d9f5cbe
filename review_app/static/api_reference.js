// The API reference page: reads openapi.json and lists every endpoint with its parameters,
// body, example and responses. Our own script (no CDN, nothing inline: the app's strict CSP).
(function () {
  "use strict";
  const root = document.getElementById("api-reference");
  if (!root) return;

  function el(tag, text, cls) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    if (cls) node.className = cls;
    return node;
  }

  function resolve(spec, schema) {
    if (schema && schema.$ref) {
      return spec.components.schemas[schema.$ref.split("/").pop()] || schema;
    }
    return schema || {};
  }

  function fields(spec, schema) {
    const resolved = resolve(spec, schema);
    const table = el("table", null, "data");
    const head = el("tr");
    ["field", "type", "required"].forEach(function (h) { head.appendChild(el("th", h)); });
    table.appendChild(el("thead")).appendChild(head);
    const body = el("tbody");
    const required = resolved.required || [];
    Object.entries(resolved.properties || {}).forEach(function ([name, prop]) {
      const row = el("tr");
      row.appendChild(el("td")).appendChild(el("code", name));
      let type = prop.type || (prop.enum ? "one of " + prop.enum.join(", ") : "");
      if (prop.$ref) type = prop.$ref.split("/").pop();
      if (prop.anyOf) type = prop.anyOf.map(function (p) {
        return p.type || (p.$ref ? p.$ref.split("/").pop() : p.const || (p.enum || []).join(" | "));
      }).join(" | ");
      row.appendChild(el("td", type));
      row.appendChild(el("td", required.indexOf(name) >= 0 ? "yes" : ""));
      body.appendChild(row);
    });
    table.appendChild(body);
    return table;
  }

  function render(spec) {
    root.replaceChildren();
    const p = el("p", spec.info.description);
    root.appendChild(p);
    Object.entries(spec.paths).forEach(function ([path, methods]) {
      Object.entries(methods).forEach(function ([method, op]) {
        const card = el("section", null, "card api-op");
        card.id = op.operationId;
        const title = el("h2");
        title.appendChild(el("code", method.toUpperCase() + " " + path));
        card.appendChild(title);
        card.appendChild(el("p", op.summary));
        if (op.description) card.appendChild(el("p", op.description, "muted"));
        if (op.parameters && op.parameters.length) {
          card.appendChild(el("h3", "Parameters"));
          const list = el("ul");
          op.parameters.forEach(function (param) {
            const item = el("li");
            item.appendChild(el("code", param.name));
            item.appendChild(document.createTextNode(
              " (" + param.in + (param.required ? ", required" : "") + ")" +
              (param.description ? ": " + param.description : "")));
            list.appendChild(item);
          });
          card.appendChild(list);
        }
        if (op.requestBody) {
          const [media, content] = Object.entries(op.requestBody.content)[0];
          card.appendChild(el("h3", "Body (" + media + ")"));
          card.appendChild(fields(spec, content.schema));
          if (content.example) {
            card.appendChild(el("h3", "Example"));
            card.appendChild(el("pre", JSON.stringify(content.example, null, 2)));
          }
        }
        card.appendChild(el("h3", "Responses"));
        const responses = el("ul");
        Object.entries(op.responses).forEach(function ([status, response]) {
          responses.appendChild(el("li", status + " — " + response.description));
        });
        card.appendChild(responses);
        root.appendChild(card);
      });
    });
  }

  fetch(root.dataset.spec, { headers: { Accept: "application/json" } })
    .then(function (r) { return r.json(); })
    .then(render)
    .catch(function (error) { root.appendChild(el("p", String(error), "flash flash-error")); });
})();
