// The explorer's entry point: wires the views (query, entities, timeline) to the API.
// It may call every module under assets/js; the modules call the server only through api.js.

import { api, adoptTokenFromFragment, setToken, whenUnauthorized } from "./api.js";
import { el, replace, download, safeLink } from "./dom.js";
import { QueryEditor, queryHistory, saved } from "./editor.js";
import { GraphView } from "./graph.js";
import { renderTable, paintSwatches, rowsToCsv, rowsToJson } from "./table.js";
import { Timeline } from "./timeline.js";
import { EntityPage, isEntity } from "./entity.js";
import { caption, elementIdsIn, nodesIn, isEvent, dateInRange, formatDay } from "./values.js";

const $ = (selector) => document.querySelector(selector);

const EXAMPLES = [
  {
    name: "Who gave what to whom",
    query: "MATCH (g:Gift)-[gv:GIVER]->(a), (g)-[rc:RECIPIENT]->(b), (g)-[it:ITEM]->(i)\nRETURN a.name AS giver, i.name AS item, b.name AS recipient, g, gv, a, rc, b, it, i\nORDER BY giver, item, recipient",
  },
  {
    name: "Who reported it",
    query: "MATCH (g:Gift)-[:GIVER]->(a), (g)-[rep:REPORTED_IN]->(art:Article)\nRETURN a.name AS giver, g.date AS date, art.outlet AS outlet, rep.evidence AS evidence, g, rep, art\nORDER BY date",
  },
  {
    name: "Visits, planned and occurred",
    query: "MATCH (v:Visit)-[vr:VISITOR]->(p), (v)-[dr:DESTINATION]->(d)\nOPTIONAL MATCH (v)-[f:FULFILLED_BY]->(w)\nRETURN p.name AS visitor, d.name AS destination, v.date AS date, v.status AS status, v, vr, p, dr, d, f, w\nORDER BY date",
  },
  { name: "Meetings and their participants", query: "MATCH (m:Meeting)-[r:PARTICIPANT]->(p)\nRETURN m, r, p" },
];

const state = { result: null, range: null, pane: "graph" };

function showMessage(text) {
  const box = $("#message");
  box.textContent = text;
  box.hidden = !text;
}

function showError(err) {
  showMessage(`${err.code ? `${err.code}: ` : ""}${err.message}`);
}

// ---- views -------------------------------------------------------------------------

function showView(name) {
  for (const tab of document.querySelectorAll(".tab")) tab.setAttribute("aria-pressed", String(tab.dataset.view === name));
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== `view-${name}`;
  if (name === "query") graph.cy.resize();
  if (name === "timeline" && !state.storeTimelineShown) {
    state.storeTimelineShown = true;
    showStoreTimeline();
  }
}

// The view and the entity shown live in the URL fragment (`#view=entity&entity=ID`), so
// the back button walks back through entity pages and a page's address can be shared (the
// token is never part of it).
function routeInFragment() {
  const fragment = new URLSearchParams(window.location.hash.replace(/^#/, ""));
  const entity = fragment.get("entity");
  const view = fragment.get("view");
  return { view: ["query", "entity", "timeline"].includes(view) ? view : entity ? "entity" : "query", entity };
}

function recordRoute(view, entity) {
  const fragment = new URLSearchParams({ view });
  if (entity) fragment.set("entity", entity);
  const hash = `#${fragment}`;
  if (window.location.hash !== hash) window.history.pushState(null, "", hash);
}

function followRoute({ view, entity }) {
  showView(view);
  if (view === "entity" && entity) entityPage.open(entity, { record: false });
}

/** Show the graph or the table; `remember` when the user chose it, so that a result with
 * nothing to draw opening in the table does not change what the next result opens in. */
function showPane(name, remember = true) {
  if (remember) state.pane = name;
  for (const tab of document.querySelectorAll(".result-tab")) tab.setAttribute("aria-pressed", String(tab.dataset.pane === name));
  $("#graph-pane").hidden = name !== "graph";
  $("#table-pane").hidden = name !== "table";
  if (name === "graph") graph.cy.resize();
}

// ---- the query view ----------------------------------------------------------------

function readParameters() {
  const text = $("#parameters").value.trim();
  if (!text) return {};
  let value;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw Object.assign(new Error(`parameters: not valid JSON (${err.message}); write an object such as {"name": "Kim Jong Un"}`), { code: "InvalidParameters" });
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw Object.assign(new Error('parameters: must be a JSON object such as {"name": "Kim Jong Un"}'), { code: "InvalidParameters" });
  }
  return value;
}

/** The error as the CLI prints it: the message, then the query line with a caret (the
 * message names the kind of error; the code is kept as the box's title). */
function showQueryError(err, query) {
  const box = $("#query-error");
  box.title = err.code || "";
  let text = err.message;
  const hasCaret = /\n\s*\^/.test(text);
  if (err.caret && !hasCaret && !text.includes(err.caret)) text += `\n${err.caret}`;
  else if (!err.caret && !hasCaret && err.line) {
    const line = query.split("\n")[err.line - 1];
    if (line !== undefined) text += `\n  ${line}\n  ${" ".repeat(Math.max((err.column || 1) - 1, 0))}^`;
  }
  box.textContent = text;
  box.hidden = false;
  editor.markError(err.line, err.column);
}

async function run({ explain = false } = {}) {
  const query = editor.value;
  $("#query-error").hidden = true;
  $("#plan").hidden = true;
  editor.clearMark();
  showMessage("");
  let parameters;
  try {
    parameters = readParameters();
  } catch (err) {
    showQueryError(err, query);
    return;
  }
  editor.setParameterNames(Object.keys(parameters));
  const maxRows = Number($("#max-rows").value) || 1000;
  const timeoutSeconds = Number($("#timeout").value);
  $("#result-status").textContent = "running…";
  // A failed query goes into the history too: it is the one the user wants back to fix.
  queryHistory.add(query, parameters);
  fillHistory();
  const running = new AbortController();
  state.running = running;
  showRunning(true);
  try {
    const body = { query, parameters, max_rows: maxRows, explain };
    if (timeoutSeconds > 0) body.timeout_ms = Math.round(timeoutSeconds * 1000);
    const answer = await api.query(body, running.signal);
    if (answer.explain !== undefined) {
      const plan = $("#plan");
      plan.textContent = typeof answer.explain === "string" ? answer.explain : JSON.stringify(answer.explain, null, 2);
      plan.hidden = false;
    }
    if (explain && !(answer.rows && answer.rows.length)) {
      $("#result-status").textContent = "plan shown; nothing run";
      return;
    }
    showResult(answer, maxRows);
  } catch (err) {
    $("#result-status").textContent = "";
    showQueryError(err, query);
  } finally {
    if (state.running === running) {
      state.running = null;
      showRunning(false);
    }
  }
}

/** While a query runs, Run is disabled and Cancel aborts the request. */
function showRunning(running) {
  $("#run").disabled = running;
  $("#explain").disabled = running;
  $("#cancel").hidden = !running;
}

function showResult(answer, maxRows) {
  state.result = {
    columns: answer.columns || [],
    rows: answer.rows || [],
    graph: answer.graph || { nodes: [], relationships: [] },
    truncated: Boolean(answer.truncated),
  };
  state.range = null;
  const banner = $("#truncated");
  banner.hidden = !state.result.truncated;
  banner.textContent = `Result truncated at ${state.result.rows.length} rows (max rows ${maxRows}); add LIMIT or raise max rows to see more.`;
  const left = graph.show(state.result.graph);
  const drawable = state.result.graph.nodes.length > 0;
  $("#graph-status").textContent = !drawable
    ? "This result holds no nodes to draw (return nodes, e.g. RETURN g, a, to see them); its rows are in the table."
    : left
      ? `The graph shows ${state.result.graph.nodes.length - left} of ${state.result.graph.nodes.length} nodes; the table has every row.`
      : "Double-click a node to expand its neighbours.";
  // Rows of plain values have nothing to draw: they open in the table.
  showPane(drawable ? state.pane : "table", false);
  resultTimeline.setEvents(
    state.result.graph.nodes.filter(isEvent).map((node) => ({ id: node.elementId, type: node.properties.type, status: node.properties.status, date: node.properties.date, label: caption(node) })),
  );
  refreshRows();
}

/** The rows the brush keeps: every dated event in the row lies in the range (rows with
 * no dated event are kept). */
function visibleRows() {
  const { rows } = state.result;
  if (!state.range) return rows;
  return rows.filter((row) => nodesIn(row).filter((node) => isEvent(node) && node.properties.date).every((node) => dateInRange(node.properties.date, state.range)));
}

function refreshRows() {
  if (!state.result) return;
  const rows = visibleRows();
  renderTable($("#table-pane"), state.result.columns, rows, inspect);
  paintSwatches($("#table-pane"));
  const ids = new Set();
  for (const row of rows) elementIdsIn(row, ids);
  graph.setFilter(state.range ? ids : null, state.range);
  const filtered = state.range ? ` (${rows.length} of ${state.result.rows.length} in ${formatDay(state.range.from)} – ${formatDay(state.range.to)})` : "";
  $("#result-status").textContent = `${state.result.rows.length} row${state.result.rows.length === 1 ? "" : "s"}${filtered}`;
  updateGraphStatus();
}

/** One swatch per label drawn, so the colours can be read. */
function showLegend() {
  const labels = [...new Set(graph.cy.nodes().map((node) => node.data("label")))].sort();
  replace($("#legend"), labels.map((label) => el("span", { class: "legend-item" }, el("span", { class: "swatch", dataset: { label } }), label)));
  paintSwatches($("#legend"));
}

function updateGraphStatus() {
  showLegend();
  const count = graph.visibleNodeCount();
  const container = $("#graph");
  container.dataset.nodeCount = String(count);
  container.dataset.edgeCount = String(graph.shown("edge").length);
  $("#undo-expand").disabled = graph.expansions.length === 0;
}

/** The inspector: the clicked node's labels and properties, as text. */
function inspect(node) {
  const box = $("#inspector");
  if (!node) {
    replace(box, el("p", { class: "muted", text: "Click a node to see its properties." }));
    return;
  }
  const text = (value) => (Array.isArray(value) ? value.join(", ") : value === null ? "null" : String(value));
  const rows = Object.entries(node.properties || {}).map(([key, value]) =>
    el("tr", {}, el("th", { scope: "row", text: key }), el("td", {}, key === "url" ? safeLink(value) : text(value))));
  replace(
    box,
    el("h3", { text: caption(node) }),
    el("p", { class: "muted", text: (node.labels || []).join(", ") }),
    el("table", { class: "props" }, el("tbody", {}, rows)),
    isEntity(node) ? el("button", { type: "button", onclick: () => { showView("entity"); entityPage.open(node.properties.id); } }, "Entity page") : null,
    graph.cy.getElementById(node.elementId).nonempty()
      ? el("button", { type: "button", onclick: () => expandNode(node.elementId) }, "Expand neighbours")
      : null,
  );
}

async function expandNode(elementId) {
  try {
    await graph.expand(elementId);
  } catch (err) {
    showError(err);
  }
}

function fillSelect(select, placeholder, items, label) {
  replace(select, el("option", { value: "", text: placeholder }), items.map((item, index) => el("option", { value: String(index), text: label(item) })));
}

function fillHistory() {
  fillSelect($("#history"), "History…", queryHistory.list(), (item) => item.query.replace(/\s+/g, " ").slice(0, 80));
  fillSelect($("#saved"), "Saved…", saved.list(), (item) => item.name);
}

function loadQuery(item) {
  if (!item) return;
  editor.value = item.query;
  $("#parameters").value = JSON.stringify(item.parameters || {}, null, 0);
  editor.focus();
}

function exportName(extension) {
  return `diplograph-${new Date().toISOString().replace(/[:.]/g, "-").slice(0, 19)}.${extension}`;
}

// ---- the timeline view -------------------------------------------------------------

async function showStoreTimeline() {
  const params = {
    type: $("#timeline-type").value,
    from: $("#timeline-from").value.trim(),
    to: $("#timeline-to").value.trim(),
    bucket: $("#timeline-bucket").value,
  };
  try {
    const answer = await api.timeline(params);
    state.storeEvents = answer.events || null;
    // Marks for each event when the server listed them and no bucket was asked for.
    if (answer.events && params.bucket === "auto") storeTimeline.setEvents(answer.events, answer.undated);
    else storeTimeline.setBuckets(answer);
    listStoreEvents(null);
  } catch (err) {
    showError(err);
  }
}

function listStoreEvents(range) {
  const box = $("#timeline-events");
  if (!range) {
    replace(box, el("p", { class: "muted", text: "Brush a date range to list its events and query them." }));
    return;
  }
  const from = formatDay(range.from);
  const to = formatDay(range.to);
  const events = (state.storeEvents || []).filter((event) => dateInRange(event.date, range));
  const query = () => {
    editor.value = "MATCH (e:Event)-[r]->(x)\nWHERE e.date >= $from AND e.date <= $to AND type(r) <> 'REPORTED_IN'\nRETURN e, r, x\nORDER BY e.date";
    $("#parameters").value = JSON.stringify({ from, to });
    showView("query");
    recordRoute("query");
    run();
  };
  replace(
    box,
    el("p", {}, `${from} to ${to}: `, el("button", { type: "button", onclick: query }, "Query these events in the graph")),
    state.storeEvents
      ? el("ul", { class: "event-lines" }, events.map((event) => el("li", {}, el("strong", { text: event.date }), ` ${event.label || event.type} (${event.status})`)))
      : null,
  );
}

// ---- start -------------------------------------------------------------------------

adoptTokenFromFragment();
const editor = new QueryEditor($("#query"), { onRun: () => run() });
editor.value = EXAMPLES[0].query;
const graph = new GraphView($("#graph"), {
  api,
  onSelect: inspect,
  onError: showError,
  onExpand: ({ added, truncated, limit }) => {
    $("#graph-status").textContent = `${added} neighbour${added === 1 ? "" : "s"} added${truncated ? ` (capped at ${limit}; more exist)` : ""}. Undo removes them.`;
    updateGraphStatus();
  },
});
const resultTimeline = new Timeline($("#result-timeline"), {
  onBrush: (range) => {
    state.range = range;
    refreshRows();
  },
});
const storeTimeline = new Timeline($("#store-timeline"), { onBrush: listStoreEvents });
const entityPage = new EntityPage($("#view-entity"), {
  api,
  showError,
  onOpen: (id) => recordRoute("entity", id),
  makeTimeline: (container, onBrush) => new Timeline(container, { onBrush }),
  openInGraph: (id) => {
    editor.value = "MATCH (n {id: $id})-[r]-(m)\nRETURN n, r, m\nLIMIT 200";
    $("#parameters").value = JSON.stringify({ id });
    showView("query");
    recordRoute("query");
    run();
  },
});

for (const tab of document.querySelectorAll(".tab")) {
  tab.addEventListener("click", () => {
    showView(tab.dataset.view);
    recordRoute(tab.dataset.view, tab.dataset.view === "entity" ? entityPage.shownId : null);
  });
}
for (const tab of document.querySelectorAll(".result-tab")) tab.addEventListener("click", () => showPane(tab.dataset.pane));
$("#run").addEventListener("click", () => run());
// Ctrl-Enter runs from the parameters too, as it does in the editor.
$("#parameters").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    run();
  }
});
$("#cancel").addEventListener("click", () => {
  if (state.running) state.running.abort();
});
$("#explain").addEventListener("click", () => run({ explain: true }));
fillSelect($("#examples"), "Examples…", EXAMPLES, (item) => item.name);
$("#examples").addEventListener("change", (event) => {
  loadQuery(EXAMPLES[Number(event.target.value)]);
  event.target.value = "";
});
$("#history").addEventListener("change", (event) => {
  if (event.target.value !== "") loadQuery(queryHistory.list()[Number(event.target.value)]);
  event.target.value = "";
});
$("#saved").addEventListener("change", (event) => {
  if (event.target.value === "") return;
  const item = saved.list()[Number(event.target.value)];
  loadQuery(item);
  $("#save-name").value = item ? item.name : "";
});
$("#save").addEventListener("click", () => {
  const name = $("#save-name").value.trim();
  if (!name) {
    showMessage("Give the query a name to save it under.");
    return;
  }
  let parameters = {};
  try {
    parameters = readParameters();
  } catch (err) {
    showError(err);
    return;
  }
  saved.save(name, editor.value, parameters);
  fillHistory();
  showMessage("");
});
$("#delete-saved").addEventListener("click", () => {
  const name = $("#save-name").value.trim();
  if (name) saved.remove(name);
  fillHistory();
});
$("#undo-expand").addEventListener("click", () => {
  graph.undoExpand();
  $("#graph-status").textContent = "Expansion undone.";
  updateGraphStatus();
});
$("#hide").addEventListener("click", () => {
  graph.hideSelected();
  updateGraphStatus();
});
$("#show-hidden").addEventListener("click", () => {
  graph.showHidden();
  updateGraphStatus();
});
$("#pin").addEventListener("click", () => graph.togglePinSelected());
$("#relayout").addEventListener("click", () => graph.relayout());
$("#expand-cap").addEventListener("change", (event) => {
  graph.expandLimit = Math.min(Math.max(Number(event.target.value) || 25, 1), 500);
});
$("#export-png").addEventListener("click", () => download(exportName("png"), graph.pngBlob()));
$("#export-svg").addEventListener("click", () => download(exportName("svg"), new Blob([graph.svgText()], { type: "image/svg+xml" })));
$("#export-csv").addEventListener("click", () => {
  if (state.result) download(exportName("csv"), new Blob([rowsToCsv(state.result.columns, visibleRows())], { type: "text/csv" }));
});
$("#export-json").addEventListener("click", () => {
  if (state.result) download(exportName("json"), new Blob([rowsToJson(state.result.columns, visibleRows())], { type: "application/json" }));
});
$("#timeline-form").addEventListener("submit", (event) => {
  event.preventDefault();
  showStoreTimeline();
});
$("#token-box").addEventListener("submit", (event) => {
  event.preventDefault();
  setToken($("#token-input").value.trim());
  $("#token-box").hidden = true;
  start();
});
whenUnauthorized(() => {
  $("#token-box").hidden = false;
});

async function start() {
  try {
    const [info, schema] = await Promise.all([api.info(), api.schema()]);
    editor.setSchema(schema);
    const name = info && (info.store || info.name);
    $("#server-info").textContent = [name, info && info.version ? `v${info.version}` : ""].filter(Boolean).join(" · ");
    const eventTypes = (schema.labels || [])
      .map((item) => item.name)
      .filter((label) => ["Meeting", "Gift", "Visit", "Invitation"].includes(label) || !["Person", "Country", "Organization", "Place", "Item", "Article", "Event"].includes(label));
    replace($("#timeline-type"), el("option", { value: "", text: "all" }), eventTypes.map((label) => el("option", { value: label.toLowerCase(), text: label.toLowerCase() })));
    showMessage("");
    if (!state.routed) {
      state.routed = true;
      followRoute(routeInFragment());
    }
  } catch (err) {
    if (err.status !== 401) showError(err);
  }
  explorerHandle.ready = true;
}

window.addEventListener("popstate", () => followRoute(routeInFragment()));

// A handle for the browser tests and the developer console: the graph and a way to set
// the editor's text. Nothing in the page reads it.
const explorerHandle = { cy: graph.cy, ready: false, setQuery: (text) => { editor.value = text; } };
window.explorer = explorerHandle;

fillHistory();
listStoreEvents(null);
start();
