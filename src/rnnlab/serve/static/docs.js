// rnnlab serve's API reference, drawn from /openapi.json on this server (FastAPI's own /docs
// fetches Swagger UI from a CDN; this page works offline)
"use strict";

function el(tag, text, cls) {
  const e = document.createElement(tag);
  if (text !== undefined) e.textContent = text;
  if (cls) e.className = cls;
  return e;
}

// a schema object as one line: "string, 1..2000 characters" / "integer <= 500, default 1"
function describe(s, schemas) {
  if (s.$ref) return s.$ref.split("/").pop();
  if (s.anyOf) return s.anyOf.map((x) => describe(x, schemas)).join(" or ");
  let t = s.type || "any";
  if (t === "array") t = `list of ${describe(s.items || {}, schemas)}`;
  const bounds = [];
  if (s.minLength !== undefined || s.maxLength !== undefined) {
    bounds.push(`${s.minLength ?? 0}..${s.maxLength ?? ""} characters`);
  }
  if (s.minItems !== undefined || s.maxItems !== undefined) {
    bounds.push(`${s.minItems ?? 0}..${s.maxItems ?? ""} items`);
  }
  if (s.minimum !== undefined) bounds.push(`>= ${s.minimum}`);
  if (s.maximum !== undefined) bounds.push(`<= ${s.maximum}`);
  return bounds.length ? `${t} (${bounds.join(", ")})` : t;
}

function table(schema, schemas) {
  const props = schema.properties || {};
  const required = new Set(schema.required || []);
  const t = el("table");
  const head = t.insertRow();
  for (const h of ["field", "type", "default", "what"]) head.append(el("th", h));
  for (const [name, s] of Object.entries(props)) {
    const row = t.insertRow();
    row.append(el("td", required.has(name) ? `${name} *` : name, "code"));
    row.append(el("td", describe(s, schemas)));
    row.append(el("td", s.default === undefined ? "" : JSON.stringify(s.default)));
    row.append(el("td", s.description || ""));
  }
  return t;
}

async function main() {
  const api = await (await fetch("/openapi.json")).json();
  const schemas = (api.components || {}).schemas || {};
  const out = document.getElementById("api");
  out.replaceChildren(el("p", api.info.description || "", "muted"));
  for (const [path, methods] of Object.entries(api.paths)) {
    for (const [method, op] of Object.entries(methods)) {
      const section = el("section");
      section.append(el("h2", `${method.toUpperCase()} ${path}`));
      if (op.summary) section.append(el("p", op.summary, "muted"));
      const content = (op.requestBody || {}).content || {};
      for (const [type, body] of Object.entries(content)) {
        const ref = body.schema && body.schema.$ref;
        const schema = ref ? schemas[ref.split("/").pop()] : body.schema;
        section.append(el("p", `body (${type}):`));
        if (schema) section.append(table(schema, schemas));
      }
      const ok = ((op.responses || {})["200"] || {}).content || {};
      const answer = (ok["application/json"] || {}).schema;
      if (answer && answer.$ref) {
        const name = answer.$ref.split("/").pop();
        section.append(el("p", `200: ${name}`));
        section.append(table(schemas[name], schemas));
      }
      out.append(section);
    }
  }
}

main().catch((e) => { document.getElementById("api").textContent = `cannot read /openapi.json: ${e}`; });
