// charts.js — the campaign view's two charts, drawn by hand as SVG: the
// progress over time (one step line per target state) and the bytes per
// target card (request and response stacked, personalization apart). Each
// chart has role="img", an aria-label and a <title>; the table beside it
// holds the same numbers.

import { fmtBytes, fmtDuration, fmtInt, s } from './dom.js';

const STATES = [
  { key: 'pending', color: '#5f6368', dash: '6 4' },
  { key: 'running', color: '#1a5fb4', dash: null },
  { key: 'done', color: '#1e7b34', dash: null },
  { key: 'failed', color: '#b3261e', dash: '2 3' },
];
const PARTS = [
  { key: 'request', label: 'request', color: '#1a5fb4' },
  { key: 'response', label: 'response', color: '#b35900' },
  { key: 'perso', label: 'personalization (counted apart)', color: '#1e7b34' },
];
const INK = '#202124';
const GRID = '#c8cbd0';
const FONT = 12;
const MAX_BARS = 60;

// The <svg> shell: id, viewBox w×h, role img, aria-label and <title> summary.
function frame(id, w, h, summary) {
  return s('svg', {
    id, class: 'chart', viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': summary,
    preserveAspectRatio: 'xMinYMin meet', focusable: 'false',
  }, s('title', null, summary));
}

function label(x, y, text, anchor = 'start', extra = {}) {
  return s('text', Object.assign({ x, y, fill: INK, 'font-size': FONT, 'text-anchor': anchor }, extra), text);
}

// The progress chart of a campaign's timeline ({created, points:[{at, pending,
// running, done, failed}]}): step lines per state over seconds since creation.
export function progressChart(timeline, campaignId) {
  const points = timeline && Array.isArray(timeline.points) ? timeline.points : [];
  const W = 480, H = 250, L = 40, R = 14, T = 12, B = 74;
  const pw = W - L - R, ph = H - T - B;
  const last = points.length ? points[points.length - 1] : { pending: 0, running: 0, done: 0, failed: 0 };
  const t0 = timeline && Number.isFinite(timeline.created) ? timeline.created : points.length ? points[0].at : 0;
  const t1 = Math.max(points.length ? points[points.length - 1].at : t0, t0 + 1);
  let total = 1;
  for (const p of points) total = Math.max(total, p.pending + p.running + p.done + p.failed);
  const span = t1 - t0;
  const summary = `Progress of campaign ${campaignId} over ${fmtDuration(span)}: ${fmtInt(total)} target cards; ` +
    `now ${fmtInt(last.pending)} pending, ${fmtInt(last.running)} running, ${fmtInt(last.done)} done, ` +
    `${fmtInt(last.failed)} failed.`;
  const svg = frame('chart-progress', W, H, summary);
  const x = t => L + ((t - t0) / span) * pw;
  const y = v => T + ph - (v / total) * ph;

  // axes, grid and ticks
  const yTicks = total > 1 ? [0, Math.round(total / 2), total] : [0, total];
  for (const v of yTicks) {
    svg.append(s('path', { d: `M${L} ${y(v)}H${L + pw}`, stroke: GRID, 'stroke-width': 1, fill: 'none' }),
      label(L - 6, y(v) + 4, fmtInt(v), 'end'));
  }
  svg.append(s('path', { d: `M${L} ${T}V${T + ph}H${L + pw}`, stroke: INK, 'stroke-width': 1.5, fill: 'none' }));
  for (const t of span >= 2 ? [t0, t0 + Math.round(span / 2), t1] : [t0, t1]) {
    svg.append(s('path', { d: `M${x(t)} ${T + ph}v5`, stroke: INK, 'stroke-width': 1 }),
      label(x(t), T + ph + 18, fmtDuration(Math.round(t - t0)), t === t0 ? 'start' : t === t1 ? 'end' : 'middle'));
  }
  svg.append(label(L + pw / 2, T + ph + 34, 'time since the campaign was created', 'middle'),
    label(12, T + ph / 2, 'cards', 'middle', { transform: `rotate(-90 12 ${T + ph / 2})` }));

  // one step line per state (a single point is drawn as a line to the end)
  for (const st of STATES) {
    const coords = [];
    points.forEach((p, i) => {
      if (i > 0) coords.push(`${x(p.at).toFixed(1)},${y(points[i - 1][st.key]).toFixed(1)}`);
      coords.push(`${x(p.at).toFixed(1)},${y(p[st.key]).toFixed(1)}`);
    });
    if (points.length) coords.push(`${x(t1).toFixed(1)},${y(last[st.key]).toFixed(1)}`);
    if (coords.length) {
      svg.append(s('polyline', {
        points: coords.join(' '), fill: 'none', stroke: st.color, 'stroke-width': 2.5,
        'stroke-dasharray': st.dash, 'stroke-linejoin': 'round', 'data-state': st.key,
      }));
    }
  }

  // the legend, one entry per state with its count now
  const ly = H - 14, step = pw / STATES.length;
  STATES.forEach((st, i) => {
    const lx = L + i * step;
    svg.append(s('path', { d: `M${lx} ${ly - 4}h18`, stroke: st.color, 'stroke-width': 3, 'stroke-dasharray': st.dash }),
      label(lx + 22, ly, `${st.key} ${fmtInt(last[st.key])}`));
  });
  return svg;
}

// The bytes chart of a campaign's targets ([{cin, bytes:{request, response,
// perso, total}}]): one row per card (its CIN's tail as label), request and
// response stacked into the total, personalization as a thin bar below.
export function bytesChart(targets, campaignId) {
  const all = Array.isArray(targets) ? targets : [];
  const shown = all.slice(0, MAX_BARS);
  const W = 480, L = 86, R = 76, T = 44, ROW = 26, B = 8;
  const pw = W - L - R;
  const H = T + Math.max(shown.length, 1) * ROW + B;
  let max = 1, sum = 0, perso = 0;
  for (const t of all) {
    const b = t.bytes || {};
    sum += b.total || 0;
    perso += b.perso || 0;
  }
  for (const t of shown) {
    const b = t.bytes || {};
    max = Math.max(max, (b.request || 0) + (b.response || 0), b.perso || 0);
  }
  const summary = `Bytes per target card of campaign ${campaignId}: ${fmtInt(all.length)} cards, ` +
    `${fmtBytes(sum)} in all, ${fmtBytes(perso)} of personalization` +
    (all.length > shown.length ? `; the first ${shown.length} cards are drawn.` : '.');
  const svg = frame('chart-bytes', W, H, summary);
  const w = v => (Math.max(0, v || 0) / max) * pw;

  // legend
  let lx = 0;
  for (const part of PARTS) {
    svg.append(s('rect', { x: lx, y: 6, width: 12, height: 12, fill: part.color, class: 'legend' }),
      label(lx + 16, 16, part.label));
    lx += 16 + part.label.length * 6.6 + 14;
  }
  svg.append(s('path', { d: `M${L} ${T - 8}V${H - B}`, stroke: INK, 'stroke-width': 1 }));

  shown.forEach((t, i) => {
    const b = t.bytes || {};
    const top = T + i * ROW;
    const cin = String(t.cin || '');
    const tail = cin.length > 8 ? '…' + cin.slice(-8) : cin;
    const row = s('g', { 'data-cin-bar': cin },
      s('title', null, `${cin}: request ${fmtBytes(b.request)}, response ${fmtBytes(b.response)}, ` +
        `personalization ${fmtBytes(b.perso)}, total ${fmtBytes(b.total)}`),
      label(L - 6, top + 12, tail, 'end', { 'font-family': 'ui-monospace, monospace' }),
      s('rect', { x: L, y: top + 2, width: w(b.request).toFixed(1), height: 13, fill: PARTS[0].color }),
      s('rect', { x: (L + w(b.request)).toFixed(1), y: top + 2, width: w(b.response).toFixed(1), height: 13, fill: PARTS[1].color }),
      s('rect', { x: L, y: top + 17, width: w(b.perso).toFixed(1), height: 4, fill: PARTS[2].color }),
      label(L + w((b.request || 0) + (b.response || 0)) + 4, top + 13, fmtBytes(b.total)));
    svg.append(row);
  });
  if (!shown.length) svg.append(label(L + 8, T + 16, 'no target card'));
  return svg;
}
