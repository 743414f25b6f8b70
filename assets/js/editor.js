// The query editor: CodeMirror 5 (vendored, global) in its Cypher mode, completion of
// labels, relationship types, property keys, keywords and functions from /api/schema,
// Ctrl-Enter (Cmd-Enter) to run, and the history and saved queries kept in localStorage.
// Does not run queries itself: the view passes it the schema and an onRun callback.

const HISTORY_KEY = "diplograph.history";
const SAVED_KEY = "diplograph.saved";
const HISTORY_LIMIT = 50;

const KEYWORDS = [
  "MATCH", "OPTIONAL MATCH", "WHERE", "WITH", "UNWIND", "RETURN", "DISTINCT", "ORDER BY", "ASC", "DESC",
  "SKIP", "LIMIT", "AND", "OR", "XOR", "NOT", "IN", "STARTS WITH", "ENDS WITH", "CONTAINS", "IS NULL",
  "IS NOT NULL", "CASE", "WHEN", "THEN", "ELSE", "END", "AS", "CALL", "YIELD", "EXISTS", "true", "false", "null",
];
const FUNCTIONS = [
  "count", "collect", "min", "max", "sum", "avg", "toLower", "toUpper", "trim", "size", "length", "nodes",
  "relationships", "labels", "type", "coalesce", "startNode", "endNode", "keys", "properties", "head", "last",
  "toString", "toInteger", "exists", "shortestPath", "allShortestPaths",
];

function readList(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || "[]");
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

const writeList = (key, list) => localStorage.setItem(key, JSON.stringify(list));

export const queryHistory = {
  list: () => readList(HISTORY_KEY),
  /** Most recent first, without repeats. */
  add(query, parameters) {
    const list = readList(HISTORY_KEY).filter((item) => item.query !== query);
    list.unshift({ query, parameters, at: new Date().toISOString() });
    writeList(HISTORY_KEY, list.slice(0, HISTORY_LIMIT));
  },
  clear: () => writeList(HISTORY_KEY, []),
};

export const saved = {
  list: () => readList(SAVED_KEY),
  /** A name saved again replaces the earlier query of that name. */
  save(name, query, parameters) {
    const list = readList(SAVED_KEY).filter((item) => item.name !== name);
    list.push({ name, query, parameters });
    list.sort((a, b) => a.name.localeCompare(b.name));
    writeList(SAVED_KEY, list);
  },
  remove: (name) => writeList(SAVED_KEY, readList(SAVED_KEY).filter((item) => item.name !== name)),
};

export class QueryEditor {
  constructor(textarea, { onRun }) {
    this.schema = { labels: [], relationshipTypes: [], propertyKeys: [] };
    const CodeMirror = window.CodeMirror;
    this.cm = CodeMirror.fromTextArea(textarea, {
      mode: "cypher",
      lineNumbers: true,
      matchBrackets: true,
      viewportMargin: Infinity,
      extraKeys: {
        "Ctrl-Enter": () => onRun(),
        "Cmd-Enter": () => onRun(),
        "Ctrl-Space": (cm) => cm.showHint({ hint: (editor) => this.hints(editor), completeSingle: false }),
      },
    });
    // Completion opens by itself after ':' (labels, types), '.' (properties) and '$'.
    this.cm.on("inputRead", (cm, change) => {
      const typed = change.text.join("");
      if (/^[:.$]$/.test(typed) || (/^[A-Za-z]$/.test(typed) && this.wordBefore(cm).length >= 2)) {
        cm.showHint({ hint: (editor) => this.hints(editor), completeSingle: false });
      }
    });
  }

  setSchema(schema) {
    this.schema = {
      labels: (schema.labels || []).map((item) => item.name),
      relationshipTypes: (schema.relationshipTypes || []).map((item) => item.name),
      propertyKeys: schema.propertyKeys || [],
    };
  }

  setParameterNames(names) {
    this.parameterNames = names;
  }

  wordBefore(cm) {
    const cursor = cm.getCursor();
    const line = cm.getLine(cursor.line).slice(0, cursor.ch);
    return (/[A-Za-z_][A-Za-z0-9_]*$/.exec(line) || [""])[0];
  }

  /** show-hint's source: what fits the character before the word being typed. */
  hints(cm) {
    const cursor = cm.getCursor();
    const line = cm.getLine(cursor.line);
    const word = this.wordBefore(cm);
    const start = cursor.ch - word.length;
    const before = line.charAt(start - 1);
    let candidates;
    if (before === ":") candidates = [...this.schema.labels, ...this.schema.relationshipTypes];
    else if (before === ".") candidates = this.schema.propertyKeys;
    else if (before === "$") candidates = this.parameterNames || [];
    else candidates = [...KEYWORDS, ...FUNCTIONS.map((name) => `${name}(`), ...this.schema.labels, ...this.schema.propertyKeys];
    const lower = word.toLowerCase();
    const list = [...new Set(candidates)].filter((item) => item.toLowerCase().startsWith(lower) && item !== word);
    return { list, from: window.CodeMirror.Pos(cursor.line, start), to: window.CodeMirror.Pos(cursor.line, cursor.ch) };
  }

  get value() {
    return this.cm.getValue();
  }

  /** Replace the text; the cursor goes to its end, ready to go on typing. */
  set value(text) {
    this.cm.setValue(text);
    this.cm.setCursor(this.cm.lineCount(), 0);
  }

  focus() {
    this.cm.focus();
  }

  /** Mark where an error points (1-based line and column). */
  markError(line, column) {
    this.clearMark();
    if (!line) return;
    const from = { line: line - 1, ch: Math.max((column || 1) - 1, 0) };
    this.mark = this.cm.markText(from, { line: from.line, ch: from.ch + 1 }, { className: "cm-error-at" });
    this.cm.addLineClass(from.line, "background", "cm-error-line");
    this.errorLine = from.line;
  }

  clearMark() {
    if (this.mark) this.mark.clear();
    if (this.errorLine !== undefined) this.cm.removeLineClass(this.errorLine, "background", "cm-error-line");
    this.mark = undefined;
    this.errorLine = undefined;
  }
}
