// dom.js — small helpers that build the console's DOM from data with
// createElement and text nodes only (nothing is ever parsed as HTML), and the
// number, byte and time formats every view shares.

const SVG_NS = 'http://www.w3.org/2000/svg';

// Sets attrs on el: `on` maps event names to listeners; null, undefined and
// false are skipped, true becomes an empty attribute; `style` and inline
// handlers are refused (the page's policy forbids them anyway).
function apply(el, attrs) {
  for (const [name, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    if (name === 'on') {
      for (const [type, fn] of Object.entries(value)) el.addEventListener(type, fn);
      continue;
    }
    if (name === 'style' || /^on/i.test(name)) throw new Error('dom: attribute ' + name + ' is not allowed');
    el.setAttribute(name, value === true ? '' : String(value));
  }
}

// Appends children to el: strings and numbers as text, nodes as they are,
// arrays flattened, null/undefined/false skipped.
function append(el, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(el, child);
    else if (child instanceof Node) el.appendChild(child);
    else el.appendChild(document.createTextNode(String(child)));
  }
  return el;
}

function isAttrs(x) {
  return x !== null && typeof x === 'object' && !Array.isArray(x) && !(x instanceof Node);
}

// An HTML element <tag> with attributes attrs (optional) and children as text or nodes.
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  if (isAttrs(attrs)) apply(el, attrs);
  else children.unshift(attrs);
  return append(el, children);
}

// An SVG element <tag> with attributes attrs (optional) and children as text or nodes.
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  if (isAttrs(attrs)) apply(el, attrs);
  else children.unshift(attrs);
  return append(el, children);
}

// Replaces everything el holds with children (same rules as h); returns el.
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

// Shows text in a message element (role=alert); kind 'error' or 'ok' colours it.
export function say(el, text, kind = 'error') {
  el.textContent = text || '';
  el.classList.toggle('error', !!text && kind === 'error');
  el.classList.toggle('ok', !!text && kind === 'ok');
}

// An empty message element with role=alert (and the given id, if any).
export function alertBox(id) {
  return h('p', { id: id || null, role: 'alert', class: 'message' });
}

// An integer with thousands separators ("12,345"), or "—" when not a number.
export function fmtInt(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

// A byte count as "12,345 B" (no other digits, so the number reads back).
export function fmtBytes(n) {
  return Number.isFinite(n) ? fmtInt(n) + ' B' : '—';
}

function pad(n) {
  return String(n).padStart(2, '0');
}

// A Unix time in seconds as local "YYYY-MM-DD HH:MM:SS" ("—" when absent).
export function fmtTime(secs) {
  if (!Number.isFinite(secs) || secs <= 0) return '—';
  const d = new Date(secs * 1000);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// A <time> element for a Unix time in seconds, machine-readable in datetime.
export function timeEl(secs) {
  if (!Number.isFinite(secs) || secs <= 0) return h('span', { class: 'muted' }, '—');
  return h('time', { datetime: new Date(secs * 1000).toISOString() }, fmtTime(secs));
}

// A duration in seconds as "3 d 4 h", "2 h 5 min", "4 min 7 s" or "12 s".
export function fmtDuration(secs) {
  if (!Number.isFinite(secs) || secs < 0) return '—';
  const d = Math.floor(secs / 86400), hr = Math.floor(secs / 3600) % 24;
  const m = Math.floor(secs / 60) % 60, sec = Math.floor(secs % 60);
  if (d) return `${d} d ${hr} h`;
  if (hr) return `${hr} h ${m} min`;
  if (m) return `${m} min ${sec} s`;
  return `${sec} s`;
}

// A hex value (AID, CIN) as a <span class="hex"> that may break anywhere.
export function hex(text) {
  return h('span', { class: 'hex' }, text === null || text === undefined ? '—' : String(text));
}

// A <td>: a number shows with thousands separators, right-aligned; anything
// else (text, nodes, arrays) is its content as given; attrs go on the cell.
export function td(content, attrs = {}) {
  const cls = typeof content === 'number' ? 'num' : null;
  return h('td', Object.assign({ class: cls }, attrs), typeof content === 'number' ? fmtInt(content) : content);
}

// A table in a horizontally scrolling, keyboard-focusable region: caption
// text, head a list of column names (a name starting with '#' is numeric,
// the '#' dropped), rows a list of <tr> (or one <tbody> per group).
export function table(caption, head, rows) {
  const ths = head.map(name => name.startsWith('#')
    ? h('th', { scope: 'col', class: 'num' }, name.slice(1))
    : h('th', { scope: 'col' }, name));
  const bodies = rows.length && rows[0].tagName === 'TBODY' ? rows : [h('tbody', null, rows)];
  const t = h('table', null, h('caption', null, caption), h('thead', null, h('tr', null, ths)), bodies);
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: 0 }, t);
}

// A definition list from [term, value, attrs-for-the-value] entries.
export function facts(entries, cls = 'facts') {
  return h('dl', { class: cls }, entries.map(([term, value, attrs]) =>
    h('div', null, h('dt', null, term), h('dd', attrs || null, value))));
}

// Text cut to max characters with an ellipsis (for echoing user input).
export function shorten(text, max = 40) {
  return text.length > max ? text.slice(0, max - 1) + '…' : text;
}
