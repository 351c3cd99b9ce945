// The demo embeds the package the way another portal would: import the web build, init, call.
import init, { compile, validate, version, referencedFiles } from "./pkg/tycho_wasm.js";

const $ = (id) => document.getElementById(id);
const compose = $("compose");

function options() {
  const env = {};
  for (const pair of $("env").value.split(/\s+/).filter(Boolean)) {
    const at = pair.indexOf("=");
    if (at > 0) env[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return { name: $("name").value.trim(), guid: $("guid").value.trim(), env };
}

// Moves the cursor to a 1-based line and column of the textarea.
function reveal(line, column) {
  const lines = compose.value.split("\n");
  let offset = 0;
  for (let i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
  offset += Math.max(0, column - 1);
  compose.focus();
  compose.setSelectionRange(offset, offset + 1);
}

function render() {
  let result;
  try {
    result = compile(compose.value, options());
  } catch (e) {
    // Only misuse of the API throws (here: options of the wrong shape).
    $("status").className = "error";
    $("status").textContent = String(e.message || e);
    return;
  }
  const errors = result.diagnostics.filter((d) => d.severity === "error").length;
  const warnings = result.diagnostics.length - errors;
  const status = $("status");
  if (result.ok) {
    status.className = warnings ? "warning" : "ok";
    status.textContent = `✓ compiles to ${result.objects.length} objects (${result.object_name})` +
      (warnings ? `, ${warnings} warning(s)` : "");
    $("manifests").textContent = result.yaml;
    $("manifests").classList.remove("stale");
  } else {
    status.className = "error";
    status.textContent = `${errors} error(s), ${warnings} warning(s)`;
    $("manifests").classList.add("stale");
  }
  const list = $("diagnostics");
  list.replaceChildren(...result.diagnostics.map((d) => {
    const li = document.createElement("li");
    li.className = d.severity;
    li.dataset.line = d.line;
    li.dataset.column = d.column;
    li.dataset.code = d.code;
    const pos = document.createElement("span");
    pos.className = "pos";
    pos.textContent = `${d.line}:${d.column}`;
    const code = document.createElement("span");
    code.className = "code";
    code.textContent = ` ${d.severity}[${d.code}] `;
    li.append(pos, code, d.message);
    li.title = d.path;
    li.addEventListener("click", () => reveal(d.line, d.column));
    return li;
  }));
}

async function loadCatalog() {
  try {
    const response = await fetch("./catalog/index.json");
    if (!response.ok) return;
    const select = $("example");
    for (const name of await response.json()) {
      const option = document.createElement("option");
      option.value = name;
      option.textContent = name;
      select.append(option);
    }
    select.addEventListener("change", async () => {
      if (!select.value) return;
      compose.value = await (await fetch(`./catalog/${select.value}.yaml`)).text();
      render();
    });
  } catch {
    // The catalog is optional: the demo works without it.
  }
}

await init();
$("version").textContent = `tycho-wasm ${version()}`;
for (const id of ["compose", "name", "guid", "env"]) $(id).addEventListener("input", render);
render();
await loadCatalog();
// For tests and for other scripts on the page.
window.tycho = { compile, validate, version, referencedFiles };
document.body.dataset.ready = "true";
