// The result as a table, and the rows exported as CSV and JSON. Cells are text nodes;
// a node cell shows its caption and labels and opens the inspector when clicked.
// Pure rendering and serialisation: no server calls.

import { el, replace } from "./dom.js";
import { caption, isNodeValue, isRelationshipValue, primaryLabel, LABEL_COLOURS, valueText } from "./values.js";

function cell(value, onNode) {
  if (value === null || value === undefined) return el("span", { class: "null", text: "null" });
  if (isNodeValue(value)) {
    return el(
      "button",
      { class: "chip", type: "button", title: value.labels.join(":"), onclick: () => onNode(value) },
      el("span", { class: "swatch", dataset: { label: primaryLabel(value) } }),
      caption(value),
    );
  }
  if (isRelationshipValue(value)) return el("span", { class: "rel", text: `:${value.type}` });
  if (Array.isArray(value)) return el("span", {}, ...value.flatMap((item, index) => (index ? [", ", cell(item, onNode)] : [cell(item, onNode)])));
  if (typeof value === "object") return el("code", { text: JSON.stringify(value) });
  return document.createTextNode(String(value));
}

/** Draw `rows` under `columns` into `container`. */
export function renderTable(container, columns, rows, onNode) {
  const head = el("tr", {}, columns.map((name) => el("th", { scope: "col", text: name })));
  const body = rows.map((row) => el("tr", {}, row.map((value) => el("td", {}, cell(value, onNode)))));
  replace(container, el("table", { class: "results" }, el("thead", {}, head), el("tbody", {}, body)));
}

/** The swatches' colours come from the one label palette, applied here because the
 * Content-Security-Policy forbids inline style attributes in markup. */
export function paintSwatches(root) {
  for (const swatch of root.querySelectorAll(".swatch")) swatch.style.backgroundColor = LABEL_COLOURS[swatch.dataset.label] || "#888";
}

function csvField(text) {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** RFC 4180 CSV: nodes as their caption, relationships as `:TYPE`, lists joined, maps as JSON. */
export function rowsToCsv(columns, rows) {
  const lines = [columns.map(csvField).join(",")];
  for (const row of rows) lines.push(row.map((value) => csvField(valueText(value))).join(","));
  return `${lines.join("\r\n")}\r\n`;
}

/** One object per row keyed by column, as `diplograph query --format json` prints. */
export function rowsToJson(columns, rows) {
  return JSON.stringify(rows.map((row) => Object.fromEntries(columns.map((name, index) => [name, row[index]]))), null, 2);
}
