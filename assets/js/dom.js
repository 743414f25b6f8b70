// DOM helpers. Every piece of text from the store (names, titles, quotes) goes through
// textContent here; nothing in the explorer assigns innerHTML, so stored text can never
// become markup or script. Used by every view; calls nothing but the DOM.

/** An element with attributes, properties and children (strings become text nodes). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replace a node's children. */
export function replace(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** A link to an article URL when it is http(s); otherwise the URL as plain text, so a
 * `javascript:` or `data:` URL from a batch is shown but cannot be followed. */
export function safeLink(url, label) {
  const text = label || url || "";
  if (typeof url !== "string") return document.createTextNode(text);
  let parsed;
  try {
    parsed = new URL(url);
  } catch {
    return document.createTextNode(text);
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:") return document.createTextNode(text);
  return el("a", { href: parsed.href, target: "_blank", rel: "noopener noreferrer", text });
}

/** Offer a Blob as a file download. */
export function download(filename, blob) {
  const url = URL.createObjectURL(blob);
  const link = el("a", { href: url, download: filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A language tag as BCP 47 allows it (letters, digits, hyphens), else null. */
export function languageTag(value) {
  return typeof value === "string" && /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(value) ? value : null;
}
