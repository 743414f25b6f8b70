// The timeline: events along a date axis in one lane per event type, drawn as SVG.
// Occurred events are filled dots, planned ones hollow and dashed, cancelled ones grey
// crosses; past MAX_MARKS events (or when the server bucketed them) each lane shows bars
// per bucket instead. Dragging across the axis brushes a date range; a click clears it.
// Knows nothing of the server or of what the brush filters: it reports ranges to a callback.

import { LABEL_COLOURS, dateSpan, formatDay } from "./values.js";

const NS = "http://www.w3.org/2000/svg";
const MAX_MARKS = 150;
const LANE = 26;
const LEFT = 90;
const RIGHT = 16;
const TOP = 8;
const AXIS = 22;
const DAY = 86400000;

const typeColour = (type) => LABEL_COLOURS[type ? type[0].toUpperCase() + type.slice(1) : ""] || "#888";

function svgElement(tag, attrs = {}, text) {
  const node = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

/** The start (epoch ms, UTC) of the bucket of `unit` holding `ms`. */
function bucketStart(ms, unit) {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (unit === "year") return Date.UTC(year, 0, 1);
  if (unit === "month") return Date.UTC(year, date.getUTCMonth(), 1);
  if (unit === "week") {
    const day = Date.UTC(year, date.getUTCMonth(), date.getUTCDate());
    return day - ((date.getUTCDay() + 6) % 7) * DAY;
  }
  return Date.UTC(year, date.getUTCMonth(), date.getUTCDate());
}

function nextBucket(ms, unit) {
  const date = new Date(ms);
  if (unit === "year") return Date.UTC(date.getUTCFullYear() + 1, 0, 1);
  if (unit === "month") return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
  return ms + (unit === "week" ? 7 : 1) * DAY;
}

/** The bucket unit for bucketing events over a span: a few dozen buckets at most. */
function unitForSpan(spanMs) {
  if (spanMs > 6 * 365 * DAY) return "year";
  if (spanMs > 200 * DAY) return "month";
  if (spanMs > 45 * DAY) return "week";
  return "day";
}

/** The tick unit for an axis over a span: about a dozen ticks at most. */
function tickUnitForSpan(spanMs) {
  if (spanMs > 3 * 365 * DAY) return "year";
  if (spanMs > 90 * DAY) return "month";
  if (spanMs > 21 * DAY) return "week";
  return "day";
}

export class Timeline {
  /** `onBrush(range|null)` receives `{from, to}` in epoch ms, or null when cleared. */
  constructor(container, { onBrush }) {
    this.container = container;
    this.onBrush = onBrush;
    this.range = null;
    this.svg = svgElement("svg", { class: "timeline-svg", role: "img" });
    this.summary = document.createElement("p");
    this.summary.className = "timeline-summary";
    container.replaceChildren(this.svg, this.summary);
    this.installBrush();
    new ResizeObserver(() => this.draw()).observe(container);
  }

  /** Events `[{id, type, status, date, label}]`; drawn as marks, or bucketed when many.
   * `undated`: how many events have no date (the server counts them; else those given). */
  setEvents(events, undated) {
    const dated = events.map((event) => ({ ...event, span: dateSpan(event.date) })).filter((event) => event.span);
    this.undated = Number.isInteger(undated) ? undated : events.length - dated.length;
    this.range = null;
    if (dated.length > MAX_MARKS) {
      const first = Math.min(...dated.map((event) => event.span.start));
      const last = Math.max(...dated.map((event) => event.span.start));
      this.data = { mode: "buckets", unit: unitForSpan(last - first), buckets: this.bucketed(dated, unitForSpan(last - first)) };
    } else {
      this.data = { mode: "marks", events: dated };
    }
    this.draw();
  }

  /** The server's buckets (`/api/timeline`): `{bucket, buckets: [{start, count, by_type, by_status}]}`. */
  setBuckets(answer) {
    this.undated = Number(answer.undated) || 0;
    this.range = null;
    const buckets = (answer.buckets || [])
      .map((bucket) => ({ ...bucket, startMs: (dateSpan(bucket.start) || {}).start }))
      .filter((bucket) => bucket.startMs !== undefined);
    this.data = { mode: "buckets", unit: answer.bucket || "month", buckets };
    this.draw();
  }

  bucketed(events, unit) {
    const byStart = new Map();
    for (const event of events) {
      const start = bucketStart(event.span.start, unit);
      const bucket = byStart.get(start) || { startMs: start, count: 0, by_type: {}, by_status: {} };
      bucket.count += 1;
      bucket.by_type[event.type] = (bucket.by_type[event.type] || 0) + 1;
      bucket.by_status[event.status] = (bucket.by_status[event.status] || 0) + 1;
      byStart.set(start, bucket);
    }
    return [...byStart.values()].sort((a, b) => a.startMs - b.startMs);
  }

  domain() {
    const data = this.data;
    let starts;
    let ends;
    if (data.mode === "marks") {
      starts = data.events.map((event) => event.span.start);
      ends = data.events.map((event) => event.span.end);
    } else {
      starts = data.buckets.map((bucket) => bucket.startMs);
      ends = data.buckets.map((bucket) => nextBucket(bucket.startMs, data.unit));
    }
    if (!starts.length) return null;
    let from = Math.min(...starts);
    let to = Math.max(...ends);
    const pad = Math.max((to - from) * 0.04, 3 * DAY);
    from -= pad;
    to += pad;
    return { from, to };
  }

  lanes() {
    const types = new Set();
    if (this.data.mode === "marks") this.data.events.forEach((event) => types.add(event.type));
    else this.data.buckets.forEach((bucket) => Object.keys(bucket.by_type || {}).forEach((type) => types.add(type)));
    return [...types].sort();
  }

  draw() {
    const svg = this.svg;
    svg.replaceChildren();
    if (!this.data) return;
    // The container pads its content: the drawing takes the width inside that padding.
    const width = Math.max(this.container.clientWidth - 10, 320);
    const lanes = this.lanes();
    const statusLane = this.data.mode === "buckets" ? 1 : 0;
    const height = TOP + (lanes.length + statusLane) * LANE + AXIS;
    svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
    svg.setAttribute("width", String(width));
    svg.setAttribute("height", String(height));
    const domain = this.domain();
    this.geometry = null;
    if (!domain) {
      this.summary.textContent = "No dated events to show.";
      return;
    }
    const x = (ms) => LEFT + ((ms - domain.from) / (domain.to - domain.from)) * (width - LEFT - RIGHT);
    this.geometry = { domain, width, height, x };
    lanes.forEach((type, index) => {
      const y = TOP + index * LANE;
      svg.append(svgElement("rect", { x: 0, y, width, height: LANE, class: index % 2 ? "lane odd" : "lane" }));
      svg.append(svgElement("text", { x: 6, y: y + LANE / 2 + 4, class: "lane-label" }, type));
    });
    if (this.data.mode === "marks") this.drawMarks(lanes, x);
    else this.drawBuckets(lanes, x, statusLane);
    this.drawAxis(domain, x, TOP + (lanes.length + statusLane) * LANE, width);
    this.brushRect = svgElement("rect", { class: "brush", x: 0, y: TOP, width: 0, height: (lanes.length + statusLane) * LANE, visibility: "hidden" });
    svg.append(this.brushRect);
    this.showRange();
  }

  drawMarks(lanes, x) {
    // Events of one type on one date would cover each other: they stack across the lane.
    const sameSpot = new Map();
    for (const event of this.data.events) {
      const spot = `${event.type}|${event.span.start}`;
      sameSpot.set(spot, (sameSpot.get(spot) || 0) + 1);
    }
    const placed = new Map();
    for (const event of this.data.events) {
      const spot = `${event.type}|${event.span.start}`;
      const count = sameSpot.get(spot);
      const index = placed.get(spot) || 0;
      placed.set(spot, index + 1);
      const step = Math.min(8, (LANE - 10) / Math.max(count - 1, 1));
      const cx = x(event.span.start);
      const cy = TOP + lanes.indexOf(event.type) * LANE + LANE / 2 + (index - (count - 1) / 2) * step;
      const colour = typeColour(event.type);
      let mark;
      if (event.status === "cancelled") {
        mark = svgElement("path", { d: `M${cx - 5},${cy - 5}L${cx + 5},${cy + 5}M${cx - 5},${cy + 5}L${cx + 5},${cy - 5}`, class: "mark cancelled" });
      } else if (event.status === "planned") {
        mark = svgElement("circle", { cx, cy, r: count > 1 ? 5 : 6, class: "mark planned", stroke: colour });
      } else {
        mark = svgElement("circle", { cx, cy, r: count > 1 ? 5 : 6, class: `mark ${event.status || "occurred"}`, fill: colour });
      }
      mark.dataset.id = event.id;
      mark.append(svgElement("title", {}, `${event.label || event.type} · ${event.date} · ${event.status || ""}`));
      this.svg.append(mark);
    }
  }

  drawBuckets(lanes, x, statusLane) {
    const unit = this.data.unit;
    const max = Math.max(1, ...this.data.buckets.flatMap((bucket) => Object.values(bucket.by_type || {})));
    const maxCount = Math.max(1, ...this.data.buckets.map((bucket) => bucket.count || 0));
    for (const bucket of this.data.buckets) {
      const left = x(bucket.startMs);
      const barWidth = Math.max(2, x(nextBucket(bucket.startMs, unit)) - left - 1);
      lanes.forEach((type, index) => {
        const count = (bucket.by_type || {})[type] || 0;
        if (!count) return;
        const barHeight = Math.max(2, ((LANE - 6) * count) / max);
        const bar = svgElement("rect", { x: left, y: TOP + index * LANE + LANE - 3 - barHeight, width: barWidth, height: barHeight, fill: typeColour(type), class: "bar" });
        bar.append(svgElement("title", {}, `${type}: ${count} from ${formatDay(bucket.startMs)} (${unit})`));
        this.svg.append(bar);
      });
      if (statusLane) {
        // The status lane stacks a bucket's events by status: solid, hatched, grey.
        let top = TOP + lanes.length * LANE + LANE - 3;
        for (const status of ["occurred", "planned", "cancelled", "extended", "accepted", "declined"]) {
          const count = (bucket.by_status || {})[status] || 0;
          if (!count) continue;
          const barHeight = ((LANE - 6) * count) / maxCount;
          top -= barHeight;
          const bar = svgElement("rect", { x: left, y: top, width: barWidth, height: barHeight, class: `bar status-${status}` });
          bar.append(svgElement("title", {}, `${status}: ${count} from ${formatDay(bucket.startMs)}`));
          this.svg.append(bar);
        }
      }
    }
    if (statusLane) {
      const y = TOP + lanes.length * LANE;
      this.svg.append(svgElement("text", { x: 6, y: y + LANE / 2 + 4, class: "lane-label" }, "by status"));
    }
  }

  drawAxis(domain, x, y, width) {
    this.svg.append(svgElement("line", { x1: LEFT, y1: y, x2: width - RIGHT, y2: y, class: "axis" }));
    const unit = tickUnitForSpan(domain.to - domain.from);
    let tick = nextBucket(bucketStart(domain.from, unit), unit);
    let lastLabel = -Infinity;
    while (tick < domain.to) {
      const position = x(tick);
      this.svg.append(svgElement("line", { x1: position, y1: y, x2: position, y2: y + 4, class: "axis" }));
      if (position - lastLabel > 70) {
        const label = unit === "year" ? formatDay(tick).slice(0, 4) : unit === "month" ? formatDay(tick).slice(0, 7) : formatDay(tick);
        this.svg.append(svgElement("text", { x: position, y: y + 16, class: "tick-label", "text-anchor": "middle" }, label));
        lastLabel = position;
      }
      tick = nextBucket(tick, unit);
    }
  }

  installBrush() {
    let startX = null;
    const toLocal = (event) => {
      const box = this.svg.getBoundingClientRect();
      return Math.min(Math.max(event.clientX - box.left, LEFT), box.width - RIGHT);
    };
    const toTime = (px) => {
      const { domain, width } = this.geometry;
      return domain.from + ((px - LEFT) / (width - LEFT - RIGHT)) * (domain.to - domain.from);
    };
    this.svg.addEventListener("pointerdown", (event) => {
      if (!this.geometry) return;
      startX = toLocal(event);
      this.svg.setPointerCapture(event.pointerId);
    });
    this.svg.addEventListener("pointermove", (event) => {
      if (startX === null) return;
      const now = toLocal(event);
      this.brushRect.setAttribute("x", String(Math.min(startX, now)));
      this.brushRect.setAttribute("width", String(Math.abs(now - startX)));
      this.brushRect.setAttribute("visibility", "visible");
    });
    this.svg.addEventListener("pointerup", (event) => {
      if (startX === null) return;
      const end = toLocal(event);
      const [left, right] = [Math.min(startX, end), Math.max(startX, end)];
      startX = null;
      this.range = right - left < 4 ? null : { from: toTime(left), to: toTime(right) };
      this.showRange();
      this.onBrush(this.range);
    });
  }

  clearBrush() {
    this.range = null;
    this.showRange();
    this.onBrush(null);
  }

  showRange() {
    if (!this.geometry || !this.brushRect) return;
    const count = this.data.mode === "marks" ? `${this.data.events.length} dated events` : `${this.data.buckets.reduce((sum, bucket) => sum + (bucket.count || 0), 0)} events in ${this.data.buckets.length} ${this.data.unit} buckets`;
    const undated = this.undated ? `, ${this.undated} undated` : "";
    if (this.range) {
      const { x } = this.geometry;
      this.brushRect.setAttribute("x", String(x(this.range.from)));
      this.brushRect.setAttribute("width", String(x(this.range.to) - x(this.range.from)));
      this.brushRect.setAttribute("visibility", "visible");
      this.summary.textContent = `${count}${undated}. Brushed ${formatDay(this.range.from)} to ${formatDay(this.range.to)}; click the timeline to clear.`;
    } else {
      this.brushRect.setAttribute("visibility", "hidden");
      this.summary.textContent = `${count}${undated}. Drag across the timeline to filter by date.`;
    }
  }
}
