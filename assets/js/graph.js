// The node-link picture of a result, drawn by cytoscape (vendored, a global script):
// styling by label, captions, neighbour expansion with an undo stack, hide, pin,
// highlight, the brush filter, and export as PNG and SVG. Captions reach cytoscape as
// data fields, which it paints on a canvas: stored text is never parsed as markup.
// Calls the server only through the api object it is given (for neighbours).

import { LABEL_COLOURS, caption, primaryLabel, isEvent, dateInRange } from "./values.js";

/** Past this many nodes a result is drawn in part (the table keeps every row): a canvas of
 * tens of thousands of nodes would freeze the page and show nothing readable. */
export const MAX_DRAWN_NODES = 2000;
/** Past this many nodes the force-directed layout (quadratic per iteration) gives way to
 * a concentric one by degree, which is linear. */
const FORCE_LAYOUT_LIMIT = 400;

const STYLE = [
  {
    selector: "node",
    style: {
      "background-color": "data(colour)",
      label: "data(caption)",
      "font-size": 11,
      "text-valign": "bottom",
      "text-margin-y": 3,
      "text-wrap": "ellipsis",
      "text-max-width": 140,
      width: 26,
      height: 26,
      "border-width": 1,
      "border-color": "#555",
    },
  },
  { selector: "node.event", style: { shape: "round-rectangle", width: 30, height: 20 } },
  { selector: "node.status-planned", style: { "border-style": "dashed", "border-width": 2, "background-opacity": 0.45 } },
  { selector: "node.status-cancelled", style: { "background-color": "#ccc", "border-style": "dotted", "border-width": 2 } },
  { selector: "node.pinned", style: { "border-width": 4, "border-color": "#222" } },
  { selector: "node:selected", style: { "overlay-color": "#1f6feb", "overlay-opacity": 0.25, "overlay-padding": 4 } },
  {
    selector: "edge",
    style: {
      width: 1.5,
      "line-color": "#999",
      "target-arrow-color": "#999",
      "target-arrow-shape": "triangle",
      "curve-style": "bezier",
      label: "data(type)",
      "font-size": 8,
      color: "#555",
      "text-rotation": "autorotate",
      "text-background-color": "#fff",
      "text-background-opacity": 0.8,
      "text-background-padding": 1,
    },
  },
  { selector: ".faded", style: { opacity: 0.15 } },
  { selector: ".hidden, .filtered", style: { display: "none" } },
];

export class GraphView {
  /** `container`: the element to draw in; `onSelect(node|null)`: the inspector's callback;
   * `onExpand(message)`: reports each expansion (how many added, whether capped);
   * `onError(err)`: an expansion the server refused. */
  constructor(container, { onSelect, onExpand, onError, expandLimit = 25, api }) {
    this.api = api;
    this.expandLimit = expandLimit;
    this.onSelect = onSelect;
    this.onExpand = onExpand;
    this.expansions = [];
    this.rowElementIds = null;
    this.range = null;
    this.cy = window.cytoscape({ container, style: STYLE, minZoom: 0.05, maxZoom: 4 });
    this.cy.on("tap", "node", (event) => this.highlight(event.target));
    this.cy.on("tap", (event) => {
      if (event.target === this.cy) this.highlight(null);
    });
    this.cy.on("dbltap", "node", (event) => this.expand(event.target.id()).catch(onError));
  }

  /** Show a result's graph (`{nodes, relationships}`), replacing what was drawn; returns
   * how many of its nodes were left out (beyond MAX_DRAWN_NODES). */
  show(graph) {
    this.expansions = [];
    this.cy.elements().remove();
    const nodes = graph.nodes || [];
    this.cy.batch(() => this.add({ nodes: nodes.slice(0, MAX_DRAWN_NODES), relationships: graph.relationships }));
    this.layout(this.cy.elements());
    return Math.max(nodes.length - MAX_DRAWN_NODES, 0);
  }

  /** Add the nodes and relationships not drawn yet; returns the collection added. */
  add(graph) {
    const fresh = [];
    for (const node of graph.nodes || []) {
      if (this.cy.getElementById(node.elementId).nonempty()) continue;
      const status = node.properties && node.properties.status;
      const classes = [isEvent(node) ? "event" : "", status ? `status-${status}` : ""].filter(Boolean).join(" ");
      fresh.push({
        group: "nodes",
        data: { id: node.elementId, caption: caption(node), colour: LABEL_COLOURS[primaryLabel(node)] || "#888", label: primaryLabel(node), node },
        classes,
      });
    }
    for (const rel of graph.relationships || []) {
      if (this.cy.getElementById(rel.elementId).nonempty()) continue;
      fresh.push({
        group: "edges",
        data: { id: rel.elementId, source: rel.startNodeElementId, target: rel.endNodeElementId, type: rel.type, rel },
      });
    }
    // An edge whose end is not drawn (a result returned a relationship without its nodes)
    // would make cytoscape throw; it is left out rather than breaking the picture.
    const ids = new Set(this.cy.nodes().map((node) => node.id()).concat(fresh.filter((item) => item.group === "nodes").map((item) => item.data.id)));
    const drawable = fresh.filter((item) => item.group === "nodes" || (ids.has(item.data.source) && ids.has(item.data.target)));
    return this.cy.add(drawable);
  }

  layout(elements) {
    if (elements.empty()) return;
    const options =
      elements.nodes().length <= FORCE_LAYOUT_LIMIT
        ? { name: "cose", animate: false, randomize: false, nodeDimensionsIncludeLabels: true, idealEdgeLength: () => 90 }
        : { name: "concentric", animate: false, concentric: (node) => node.degree(), levelWidth: () => 2, minNodeSpacing: 6 };
    elements.layout({ ...options, fit: true, padding: 30 }).run();
  }

  /** Double-click: fetch up to `expandLimit` neighbours and draw them around the node. */
  async expand(id) {
    const centre = this.cy.getElementById(id);
    const node = centre.data("node");
    const key = (node && node.properties && node.properties.id) || id;
    const answer = await this.api.neighbours(key, this.expandLimit);
    const added = this.add((answer && answer.graph) || {});
    const addedNodes = added.nodes();
    const position = centre.position();
    addedNodes.forEach((item, index) => {
      const angle = (2 * Math.PI * index) / Math.max(addedNodes.length, 1);
      item.position({ x: position.x + 120 * Math.cos(angle), y: position.y + 120 * Math.sin(angle) });
    });
    this.expansions.push(added);
    this.applyFilter();
    this.onExpand({ added: addedNodes.length, truncated: Boolean(answer && answer.truncated), limit: this.expandLimit, undoable: this.expansions.length });
    return added;
  }

  /** Remove what the last expansion added. */
  undoExpand() {
    const last = this.expansions.pop();
    if (last) last.remove();
    return this.expansions.length;
  }

  highlight(node) {
    this.cy.elements().removeClass("faded");
    if (node) {
      const keep = node.closedNeighborhood();
      this.cy.elements().difference(keep).addClass("faded");
    }
    this.onSelect(node ? node.data("node") : null);
  }

  hideSelected() {
    this.cy.$(":selected").addClass("hidden");
  }

  showHidden() {
    this.cy.elements().removeClass("hidden");
  }

  /** Pin the selected nodes where they are (layouts leave locked nodes alone), or unpin them. */
  togglePinSelected() {
    for (const node of this.cy.$("node:selected")) {
      if (node.locked()) node.unlock().removeClass("pinned");
      else node.lock().addClass("pinned");
    }
  }

  relayout() {
    this.layout(this.cy.elements(":visible"));
  }

  /** Filter by the brushed date range: the elements of the rows kept, and of expansions the
   * events inside the range and the nodes they join. `rowElementIds` is null for no filter. */
  setFilter(rowElementIds, range) {
    this.rowElementIds = rowElementIds;
    this.range = range;
    this.applyFilter();
  }

  applyFilter() {
    this.cy.elements().removeClass("filtered");
    if (!this.rowElementIds || !this.range) return;
    const expanded = new Set();
    for (const collection of this.expansions) collection.forEach((item) => expanded.add(item.id()));
    this.cy.nodes().forEach((node) => {
      const data = node.data("node");
      const keep = expanded.has(node.id())
        ? !isEvent(data) || dateInRange(data.properties.date, this.range)
        : this.rowElementIds.has(node.id());
      if (!keep) node.addClass("filtered");
    });
    this.cy.edges().forEach((edge) => {
      const endsShown = !edge.source().hasClass("filtered") && !edge.target().hasClass("filtered");
      const keep = endsShown && (expanded.has(edge.id()) || this.rowElementIds.has(edge.id()));
      if (!keep) edge.addClass("filtered");
    });
  }

  /** The drawn elements, neither hidden nor filtered out (read from the classes rather
   * than `:visible`, whose style cytoscape may recompute only at the next frame). */
  shown(group) {
    return this.cy.elements(group).filter((item) => !item.hasClass("hidden") && !item.hasClass("filtered"));
  }

  visibleNodeCount() {
    return this.shown("node").length;
  }

  pngBlob() {
    return this.cy.png({ output: "blob", full: true, bg: "#ffffff", scale: 2 });
  }

  /** The visible picture as a standalone SVG document, built element by element. */
  svgText() {
    const NS = "http://www.w3.org/2000/svg";
    const box = this.cy.elements(":visible").boundingBox({ includeLabels: true });
    const pad = 20;
    const svg = document.createElementNS(NS, "svg");
    svg.setAttribute("xmlns", NS);
    svg.setAttribute("viewBox", `${box.x1 - pad} ${box.y1 - pad} ${box.w + 2 * pad} ${box.h + 2 * pad}`);
    svg.setAttribute("width", String(Math.ceil(box.w + 2 * pad)));
    svg.setAttribute("height", String(Math.ceil(box.h + 2 * pad)));
    const make = (tag, attrs, text) => {
      const item = document.createElementNS(NS, tag);
      for (const [key, value] of Object.entries(attrs)) item.setAttribute(key, String(value));
      if (text !== undefined) item.textContent = text;
      return item;
    };
    const defs = make("defs", {});
    const marker = make("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 6, markerHeight: 6, orient: "auto-start-reverse" });
    marker.append(make("path", { d: "M 0 0 L 10 5 L 0 10 z", fill: "#999" }));
    defs.append(marker);
    svg.append(defs, make("rect", { x: box.x1 - pad, y: box.y1 - pad, width: box.w + 2 * pad, height: box.h + 2 * pad, fill: "#fff" }));
    for (const edge of this.cy.edges(":visible")) {
      const source = edge.sourceEndpoint();
      const target = edge.targetEndpoint();
      svg.append(make("line", { x1: source.x, y1: source.y, x2: target.x, y2: target.y, stroke: "#999", "stroke-width": 1.5, "marker-end": "url(#arrow)" }));
      const middle = edge.midpoint();
      svg.append(make("text", { x: middle.x, y: middle.y, "font-size": 8, fill: "#555", "text-anchor": "middle", "font-family": "sans-serif" }, edge.data("type")));
    }
    for (const node of this.cy.nodes(":visible")) {
      const { x, y } = node.position();
      const width = node.width();
      const height = node.height();
      const dashed = node.hasClass("status-planned") ? { "stroke-dasharray": "4 2" } : {};
      const fill = node.hasClass("status-cancelled") ? "#ccc" : node.data("colour");
      const shape = node.hasClass("event")
        ? make("rect", { x: x - width / 2, y: y - height / 2, width, height, rx: 4, fill, stroke: "#555", ...dashed })
        : make("circle", { cx: x, cy: y, r: width / 2, fill, stroke: "#555", ...dashed });
      svg.append(shape, make("text", { x, y: y + height / 2 + 12, "font-size": 11, "text-anchor": "middle", "font-family": "sans-serif" }, node.data("caption")));
    }
    return new XMLSerializer().serializeToString(svg);
  }
}
