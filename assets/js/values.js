// What the explorer knows of the graph model (contract §2): how to caption a node, which
// label styles it, how to read an event's date, and how to find the nodes and
// relationships inside a result row. Pure functions: no DOM, no server.

export const LABEL_COLOURS = {
  Person: "#4e79a7",
  Country: "#59a14f",
  Organization: "#b07aa1",
  Place: "#9c755f",
  Item: "#edc948",
  Article: "#bab0ac",
  Meeting: "#f28e2b",
  Gift: "#e15759",
  Visit: "#76b7b2",
  Invitation: "#ff9da7",
  Event: "#f28e2b",
};

const LABEL_ORDER = Object.keys(LABEL_COLOURS);

/** The label a node is styled by: its most specific known label (Gift before Event). */
export function primaryLabel(node) {
  const labels = (node && node.labels) || [];
  for (const label of LABEL_ORDER) if (labels.includes(label)) return label;
  return labels[0] || "Node";
}

export function isEvent(node) {
  return Boolean(node && node.labels && node.labels.includes("Event"));
}

/** A human caption: an entity's name, an article's outlet and title, an event's type and
 * date; the id only when nothing better is stored. */
export function caption(node) {
  const props = (node && node.properties) || {};
  if (isEvent(node)) return [props.type || primaryLabel(node), props.date].filter(Boolean).join(" ");
  if (node && node.labels && node.labels.includes("Article")) {
    return [props.outlet, props.title].filter(Boolean).join(": ") || props.id || node.elementId;
  }
  return props.name || props.title || props.id || (node && node.elementId) || "?";
}

export const isNodeValue = (value) =>
  value !== null && typeof value === "object" && "elementId" in value && Array.isArray(value.labels);
export const isRelationshipValue = (value) =>
  value !== null && typeof value === "object" && "elementId" in value && "startNodeElementId" in value;

/** The element ids of every node and relationship inside a value (through lists, maps and paths). */
export function elementIdsIn(value, out = new Set()) {
  if (value === null || typeof value !== "object") return out;
  if (isNodeValue(value) || isRelationshipValue(value)) {
    out.add(value.elementId);
    return out;
  }
  for (const inner of Array.isArray(value) ? value : Object.values(value)) elementIdsIn(inner, out);
  return out;
}

/** The nodes inside a value, for finding a row's events. */
export function nodesIn(value, out = []) {
  if (value === null || typeof value !== "object") return out;
  if (isNodeValue(value)) {
    out.push(value);
    return out;
  }
  if (isRelationshipValue(value)) return out;
  for (const inner of Array.isArray(value) ? value : Object.values(value)) nodesIn(inner, out);
  return out;
}

/** The first day of a contract date (`YYYY`, `YYYY-MM` or `YYYY-MM-DD`) as epoch ms (UTC),
 * with the last day of the period it names; null for a missing or malformed date. */
export function dateSpan(text) {
  if (typeof text !== "string") return null;
  const match = /^(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?/.exec(text);
  if (!match) return null;
  const year = Number(match[1]);
  const month = match[2] ? Number(match[2]) - 1 : null;
  const day = match[3] ? Number(match[3]) : null;
  if (month === null) return { start: Date.UTC(year, 0, 1), end: Date.UTC(year, 11, 31) };
  if (day === null) return { start: Date.UTC(year, month, 1), end: Date.UTC(year, month + 1, 0) };
  const start = Date.UTC(year, month, day);
  return { start, end: start };
}

/** Whether a date falls in a brushed range (epoch ms, inclusive); a date is in when the
 * period it names overlaps the range, so "2023-09" is in a brush over 13 September. */
export function dateInRange(text, range) {
  const span = dateSpan(text);
  if (!span) return false;
  return span.end >= range.from && span.start <= range.to;
}

export const formatDay = (ms) => new Date(ms).toISOString().slice(0, 10);

/** A value as one line of text for table cells and CSV. */
export function valueText(value) {
  if (value === null || value === undefined) return "";
  if (isNodeValue(value)) return caption(value);
  if (isRelationshipValue(value)) return `:${value.type}`;
  if (Array.isArray(value)) return value.map(valueText).join(", ");
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}
