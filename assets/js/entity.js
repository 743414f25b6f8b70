// The entity page: search by name, then one person, country, organization or place with
// its aliases, affiliations and events in time order, and for every event each report
// (outlet, date, language, evidence quote, according_to, a link to the article).
// Calls the server through the api object it is given; text only through dom.js.

import { el, replace, safeLink, languageTag } from "./dom.js";
import { caption, dateInRange } from "./values.js";

const ENTITY_LABELS = ["Person", "Country", "Organization", "Place", "Item"];
export const isEntity = (node) => Boolean(node && node.labels && node.labels.some((label) => ENTITY_LABELS.includes(label)));

export class EntityPage {
  /** `openInGraph(id)`: draw the entity's neighbourhood in the query view;
   * `timeline`: the page's Timeline, fed from /api/timeline?entity=. */
  constructor(root, { api, openInGraph, makeTimeline, showError, onOpen }) {
    this.api = api;
    this.onOpen = onOpen;
    this.openInGraph = openInGraph;
    this.showError = showError;
    this.results = root.querySelector("#entity-results");
    this.detail = root.querySelector("#entity-detail");
    this.timeline = makeTimeline(root.querySelector("#entity-timeline"), (range) => this.filterEvents(range));
    root.querySelector("#entity-search").addEventListener("submit", (event) => {
      event.preventDefault();
      this.search(root.querySelector("#entity-name").value.trim(), root.querySelector("#entity-kind").value);
    });
  }

  /** Exact names and aliases first (the API resolves them as ingest does), then entities
   * whose name contains the text, so a part of a name finds them too. */
  async search(name, kind) {
    if (!name) return;
    try {
      const found = await this.api.entities(name, kind || undefined);
      const seen = new Set(found.map((item) => item.id));
      for (const item of await this.namesContaining(name, kind)) if (!seen.has(item.id)) found.push(item);
      if (!found.length) {
        replace(this.results, el("p", { class: "muted", text: `No entity named like "${name}".` }));
        return;
      }
      replace(
        this.results,
        el("ul", { class: "entity-list" },
          found.map((item) => el("li", {},
            el("button", { type: "button", class: "link", onclick: () => this.open(item.id) }, item.name),
            el("span", { class: "muted", text: typeof item.events === "number" ? ` ${item.kind} · ${item.events} event${item.events === 1 ? "" : "s"}` : ` ${item.kind}` }),
            item.aliases && item.aliases.length ? el("span", { class: "aliases", text: ` (${item.aliases.join(", ")})` }) : null,
          ))),
      );
      if (found.length === 1) await this.open(found[0].id);
    } catch (err) {
      this.showError(err);
    }
  }

  async namesContaining(name, kind) {
    const labels = ENTITY_LABELS.includes(kind) ? [kind] : ENTITY_LABELS;
    const answer = await this.api.query({
      query: `MATCH (n) WHERE (${labels.map((label) => `n:${label}`).join(" OR ")}) AND toLower(n.name) CONTAINS toLower($name)\nRETURN n ORDER BY n.name LIMIT 50`,
      parameters: { name },
      max_rows: 50,
    });
    return (answer.rows || []).map(([node]) => ({
      id: node.properties.id,
      name: node.properties.name,
      kind: node.labels.find((label) => ENTITY_LABELS.includes(label)) || node.labels[0],
      aliases: node.properties.aliases || [],
    }));
  }

  /** Show one entity; `record: false` when following the browser's history rather than a click. */
  async open(id, { record = true } = {}) {
    try {
      const [entity, timeline] = await Promise.all([this.api.entity(id), this.api.timeline({ entity: id, bucket: "auto" })]);
      this.render(entity);
      this.shownId = id;
      if (record) this.onOpen(id);
      if (timeline.events) this.timeline.setEvents(timeline.events, timeline.undated);
      else this.timeline.setBuckets(timeline);
    } catch (err) {
      this.showError(err);
    }
  }

  render(entity) {
    const props = entity.node.properties || {};
    const nodeLink = (node) =>
      isEntity(node)
        ? el("button", { type: "button", class: "link", onclick: () => this.open(node.properties.id) }, caption(node))
        : el("span", { text: caption(node) });
    this.events = entity.events || [];
    replace(
      this.detail,
      el("h2", { id: "entity-title", text: props.name || props.id }),
      el("p", { class: "muted", text: [(entity.node.labels || []).join(", "), props.title].filter(Boolean).join(" · ") }),
      el("button", { type: "button", onclick: () => this.openInGraph(props.id) }, "Open in graph"),
      el("h3", { text: "Aliases" }),
      entity.aliases && entity.aliases.length ? el("ul", { class: "aliases" }, entity.aliases.map((alias) => el("li", { text: alias }))) : el("p", { class: "muted", text: "none" }),
      el("h3", { text: "Affiliations" }),
      entity.affiliations && entity.affiliations.length
        ? el("ul", {}, entity.affiliations.map((item) => el("li", {}, `${item.type} `, nodeLink(item.node), item.properties && item.properties.title ? ` as ${item.properties.title}` : "")))
        : el("p", { class: "muted", text: "none" }),
      el("h3", { text: `Events (${this.events.length}, in date order)` }),
      (this.eventList = el("ol", { class: "events" }, this.events.map((event) => this.renderEvent(event, nodeLink)))),
    );
  }

  renderEvent(event, nodeLink) {
    const props = event.node.properties || {};
    const byRole = new Map();
    for (const { role, node } of event.roles || []) {
      if (!byRole.has(role)) byRole.set(role, []);
      byRole.get(role).push(node);
    }
    const roles = [...byRole].map(([role, nodes]) =>
      el("li", {}, el("span", { class: "role", text: `${role.toLowerCase()}: ` }), ...nodes.flatMap((node, index) => (index ? [", ", nodeLink(node)] : [nodeLink(node)]))));
    const linked = (title, nodes) =>
      nodes && nodes.length
        ? el("p", { class: "fulfil" }, `${title} `, ...nodes.flatMap((node, index) => [index ? "; " : "", `${node.properties.type} ${node.properties.date || "(undated)"} (${node.properties.status})`]))
        : null;
    const item = el(
      "li",
      { class: `event status-${props.status}`, dataset: { date: props.date || "" } },
      el("div", { class: "event-head" },
        el("strong", { text: props.date || "undated" }), " ",
        el("span", { class: "event-type", text: props.type }), " ",
        el("span", { class: `status status-${props.status}`, text: props.status })),
      el("ul", { class: "roles" }, roles),
      linked("Fulfilled by", event.fulfilled_by),
      linked("Fulfils", event.fulfils),
      el("ul", { class: "reports" }, (event.reports || []).map((report) => this.renderReport(report))),
    );
    return item;
  }

  renderReport(report) {
    const article = (report.article && report.article.properties) || {};
    const lang = languageTag(article.language);
    return el(
      "li",
      { class: "report" },
      el("div", { class: "report-head" },
        el("span", { class: "outlet", text: article.outlet || "unknown outlet" }), " · ",
        el("span", { text: article.published || "" }),
        lang ? el("span", { class: "lang", text: ` · ${lang}` }) : null, " · ",
        safeLink(article.url, article.title || article.url || article.id)),
      report.evidence ? el("blockquote", { class: "evidence", lang: lang || undefined, text: report.evidence }) : null,
      report.according_to ? el("p", { class: "according", text: `according to ${report.according_to}` }) : null,
      typeof report.confidence === "number" ? el("p", { class: "muted", text: `confidence ${report.confidence}` }) : null,
    );
  }

  /** The entity timeline's brush hides the events outside the range. */
  filterEvents(range) {
    if (!this.eventList) return;
    for (const item of this.eventList.children) item.hidden = Boolean(range) && !dateInRange(item.dataset.date, range);
  }
}
