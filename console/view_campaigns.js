// view_campaigns.js — the campaigns view (the list, refreshed while shown,
// and the form that creates one after checking every field) and one
// campaign's view: state, start/pause/cancel, counts, byte totals, the two
// charts and a row per target card, polled while the campaign is live.

import { api } from './api.js';
import { bytesChart, progressChart } from './charts.js';
import { alertBox, facts, fmtBytes, fmtInt, h, hex, replace, say, shorten, table, td, timeEl } from './dom.js';

const KINDS = ['install', 'personalize', 'update', 'upgrade', 'delete'];
const LIVE = new Set(['created', 'running', 'paused']);
const COUNTS = ['pending', 'running', 'done', 'failed'];
const TOTALS = [
  ['request', 'Requests (terminal to server)'],
  ['response', 'Responses (server to terminal)'],
  ['perso', 'Personalization data (counted apart)'],
  ['total', 'Total (requests + responses)'],
];
const MAX_TARGETS = 10000;
const HEX = /^[0-9A-Fa-f]+$/;

function stateBadge(state, attrs = {}) {
  return h('span', Object.assign({ class: 'state state-' + String(state).replace(/[^a-z]/g, '') }, attrs), state);
}

function campaignRow(c) {
  const n = c.counts || {}, b = c.bytes || {};
  return h('tr', { 'data-campaign': c.id },
    td(h('a', { href: '#/campaigns/' + c.id }, 'Campaign ' + c.id)),
    td(c.kind), td(hex(c.package)), td(c.version), td(stateBadge(c.state)),
    td(n.pending), td(n.running), td(n.done), td(n.failed),
    td(fmtBytes(b.total), { class: 'num' }), td(timeEl(c.updated)));
}

function campaignsTable(list) {
  if (!list.length) return h('p', { class: 'muted' }, 'No campaign yet.');
  const sorted = list.slice().sort((a, b) => b.id - a.id);
  return table(`${list.length} ${list.length === 1 ? 'campaign' : 'campaigns'}, newest first`,
    ['Campaign', 'Kind', 'Package', 'Version', 'State', '#Pending', '#Running', '#Done', '#Failed',
      '#Total bytes', 'Last event'], sorted.map(campaignRow));
}

// Checks the form's fields; {field, message} naming the first wrong one, or {body}.
function checkForm(kind, aidText, versionText, targetsText, start) {
  if (!KINDS.includes(kind)) return { field: 'kind', message: 'Kind: choose install, personalize, update, upgrade or delete.' };
  const aid = aidText.trim();
  if (!aid) return { field: 'aid', message: 'Package AID: enter the package’s AID in hex (5 to 16 bytes).' };
  if (!HEX.test(aid) || aid.length % 2 || aid.length < 10 || aid.length > 32) {
    return { field: 'aid', message: `Package AID: “${shorten(aid)}” is not an AID; an AID is 5 to 16 bytes in hex ` +
      '(10 to 32 hex digits, an even number).' };
  }
  const version = versionText.trim();
  if (!version) return { field: 'version', message: 'Version: enter the package version as major.minor, e.g. 2.0.' };
  if (!/^\d{1,3}\.\d{1,3}$/.test(version)) {
    return { field: 'version', message: `Version: “${shorten(version)}” is not major.minor (e.g. 2.0).` };
  }
  const targets = targetsText.split(/[\s,;]+/).filter(t => t);
  if (!targets.length) return { field: 'targets', message: 'Target cards: enter at least one CIN.' };
  if (targets.length > MAX_TARGETS) {
    return { field: 'targets', message: `Target cards: ${fmtInt(targets.length)} given; a campaign takes at most ` +
      `${fmtInt(MAX_TARGETS)}.` };
  }
  const bad = targets.find(t => !HEX.test(t) || t.length % 2 || t.length > 32);
  if (bad) {
    return { field: 'targets', message: `Target cards: “${shorten(bad)}” is not a CIN; a CIN is 1 to 16 bytes in hex ` +
      '(an even number of hex digits).' };
  }
  const body = { kind, package: aid.toUpperCase(), version, targets: targets.map(t => t.toUpperCase()) };
  if (!start) body.start = false;
  return { body };
}

function field(label, id, control, help) {
  return h('div', { class: 'field' }, h('label', { for: id }, label), control,
    help ? h('p', { id: id + '-help', class: 'help' }, help) : null);
}

// Renders the campaign list (refreshed every 3 s while shown) and the form
// that creates a campaign (POST /api/campaigns) into ctx.root.
export async function campaignsView(ctx) {
  ctx.title('Campaigns');
  const kind = h('select', { id: 'campaign-kind', name: 'kind' }, KINDS.map(k => h('option', { value: k }, k)));
  const aidList = h('datalist', { id: 'campaign-aids' });
  const versionList = h('datalist', { id: 'campaign-versions' });
  const aid = h('input', { id: 'campaign-aid', name: 'package', type: 'text', list: 'campaign-aids', autocomplete: 'off',
    spellcheck: 'false', 'aria-describedby': 'campaign-aid-help' });
  const version = h('input', { id: 'campaign-version', name: 'version', type: 'text', list: 'campaign-versions',
    autocomplete: 'off', inputmode: 'decimal', 'aria-describedby': 'campaign-version-help' });
  const targets = h('textarea', { id: 'campaign-targets', name: 'targets', rows: 4, spellcheck: 'false',
    'aria-describedby': 'campaign-targets-help' });
  const start = h('input', { id: 'campaign-start', name: 'start', type: 'checkbox', checked: true });
  const create = h('button', { id: 'campaign-create', type: 'submit' }, 'Create campaign');
  const message = alertBox('campaign-message');
  const form = h('form', { id: 'campaign-form', class: 'stack', novalidate: true, 'aria-labelledby': 'new-campaign' },
    field('Kind', 'campaign-kind', kind),
    field('Package AID', 'campaign-aid', [aid, aidList], 'The AID of an uploaded package, in hex.'),
    field('Version', 'campaign-version', [version, versionList], 'The package version as major.minor, e.g. 2.0.'),
    field('Target cards (CINs)', 'campaign-targets', targets,
      'CINs in hex, separated by spaces, commas or new lines; 1 to 10,000 cards.'),
    h('div', { class: 'check' }, start, h('label', { for: 'campaign-start' }, 'Start at once')),
    h('div', { class: 'actions' }, create),
    message);
  const list = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  ctx.root.append(h('h1', null, 'Campaigns'),
    h('section', { 'aria-labelledby': 'campaign-list' }, h('h2', { id: 'campaign-list' }, 'All campaigns'), list),
    h('section', { 'aria-labelledby': 'new-campaign' }, h('h2', { id: 'new-campaign' }, 'New campaign'), form));

  let packages = [];
  const fillVersions = () => {
    const want = aid.value.trim().toUpperCase();
    replace(versionList, packages.filter(p => p.aid === want).map(p => h('option', { value: p.version })));
  };
  aid.addEventListener('input', fillVersions);
  api('GET', '/api/packages').then(list => {
    if (!ctx.alive || !Array.isArray(list)) return;
    packages = list;
    const aids = [...new Set(list.map(p => p.aid))].sort();
    replace(aidList, aids.map(a => h('option', { value: a })));
    fillVersions();
  }).catch(() => {});

  form.addEventListener('submit', async ev => {
    ev.preventDefault();
    for (const el of [kind, aid, version, targets]) el.removeAttribute('aria-invalid');
    const checked = checkForm(kind.value, aid.value, version.value, targets.value, start.checked);
    if (!checked.body) {
      say(message, checked.message);
      const el = { kind, aid, version, targets }[checked.field];
      el.setAttribute('aria-invalid', 'true');
      el.focus();
      return;
    }
    say(message, '');
    create.disabled = true;
    try {
      const c = await api('POST', '/api/campaigns', checked.body);
      if (ctx.alive) location.hash = '#/campaigns/' + c.id;
    } catch (e) {
      if (ctx.alive) say(message, `The server refused the campaign (${e.status || 'no answer'}): ${e.message}`);
    } finally {
      create.disabled = false;
    }
  });

  let last = '';
  const refresh = async () => {
    const all = await api('GET', '/api/campaigns');
    const text = JSON.stringify(all);
    if (!ctx.alive || text === last) return 'same';
    last = text;
    replace(list, campaignsTable(Array.isArray(all) ? all : []));
    return 'changed';
  };
  try {
    await refresh();
  } catch (e) {
    if (ctx.alive) replace(list, h('p', { class: 'message error', role: 'alert' }, e.message));
  }
  if (ctx.alive) ctx.poll(refresh, { min: 3000, max: 3000 });
}

function targetRow(t) {
  const b = t.bytes || {};
  const cell = (name, text) => td(text, { 'data-field': name, class: name === 'state' ? null : 'num' });
  return h('tr', { 'data-cin': t.cin },
    td(h('a', { href: '#/cards/' + t.cin }, hex(t.cin))),
    td(stateBadge(t.state), { 'data-field': 'state' }),
    td(t.reason ? t.reason : h('span', { class: 'muted' }, '—'), { 'data-field': 'reason' }),
    td(t.claims, { 'data-field': 'claims' }),
    cell('request', fmtBytes(b.request)), cell('response', fmtBytes(b.response)),
    cell('perso', fmtBytes(b.perso)), cell('total', fmtBytes(b.total)));
}

// Renders campaign `id` (GET /api/campaigns/{id} and its /timeline) into
// ctx.root, with start/pause/cancel, polled every 1 s (up to 8 s when nothing
// changes) while the campaign is created, running or paused.
export async function campaignView(ctx, id) {
  ctx.title('Campaign ' + id);
  const stateEl = stateBadge('…', { id: 'campaign-state' });
  const buttons = {
    start: h('button', { id: 'campaign-start-btn', type: 'button', disabled: true }, 'Start'),
    pause: h('button', { id: 'campaign-pause-btn', type: 'button', class: 'secondary', disabled: true }, 'Pause'),
    cancel: h('button', { id: 'campaign-cancel-btn', type: 'button', class: 'danger', disabled: true }, 'Cancel campaign'),
  };
  const message = alertBox('campaign-message');
  const status = h('p', { id: 'campaign-status', class: 'message ok', role: 'status' });
  const about = h('div');
  const live = h('p', { class: 'help' });
  const counts = facts(COUNTS.map(k => [k[0].toUpperCase() + k.slice(1), '—', { 'data-count': k }]), 'facts counts');
  const totals = facts(TOTALS.map(([k, label]) => [label, '—', { 'data-total': k }]), 'facts counts');
  const charts = h('div', { class: 'charts' });
  const rows = h('div');
  ctx.root.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/campaigns' }, 'All campaigns')),
    h('h1', null, 'Campaign ' + id),
    about,
    h('p', { class: 'state-line' }, 'State: ', stateEl),
    live,
    h('div', { class: 'actions' }, buttons.start, buttons.pause, buttons.cancel),
    message, status,
    h('section', { 'aria-labelledby': 'campaign-targets-head' },
      h('h2', { id: 'campaign-targets-head' }, 'Target cards by state'), counts),
    h('section', { 'aria-labelledby': 'campaign-bytes-head' },
      h('h2', { id: 'campaign-bytes-head' }, 'Bytes exchanged'), totals),
    h('section', { 'aria-labelledby': 'campaign-charts-head' },
      h('h2', { id: 'campaign-charts-head' }, 'Charts'), charts),
    h('section', { 'aria-labelledby': 'campaign-cards-head' },
      h('h2', { id: 'campaign-cards-head' }, 'Each target card'), rows));

  let campaign = null, timeline = null, lastText = '', lastTargets = '', busy = false, version = 0, poller = null;
  const base = '/api/campaigns/' + encodeURIComponent(id);

  const setButtons = () => {
    const st = campaign ? campaign.state : '';
    buttons.start.disabled = busy || !(st === 'created' || st === 'paused');
    buttons.pause.disabled = busy || st !== 'running';
    buttons.cancel.disabled = busy || !LIVE.has(st);
  };

  // Shows campaign c (with its targets) and timeline tl; false when nothing changed.
  const show = (c, tl) => {
    const text = JSON.stringify([c, tl]);
    if (text === lastText) return false;
    lastText = text;
    campaign = c;
    timeline = tl;
    replace(about, facts([
      ['Kind', c.kind], ['Package', hex(c.package)], ['Version', c.version],
      ['Personalization', c.personalization === 'terminal' ? 'in the terminal' : 'by the server'],
      ['Created', timeEl(c.created)], ['Last event', timeEl(c.updated)],
    ]));
    stateEl.textContent = c.state;
    stateEl.className = 'state state-' + String(c.state).replace(/[^a-z]/g, '');
    live.textContent = LIVE.has(c.state)
      ? 'This view follows the campaign by itself while it is created, running or paused.'
      : 'The campaign is over: its numbers no longer change.';
    for (const k of COUNTS) counts.querySelector(`[data-count="${k}"]`).textContent = fmtInt((c.counts || {})[k]);
    for (const [k] of TOTALS) totals.querySelector(`[data-total="${k}"]`).textContent = fmtBytes((c.bytes || {})[k]);
    const list = Array.isArray(c.targets) ? c.targets : [];
    replace(charts,
      h('figure', null, tl ? progressChart(tl, c.id) : h('p', { class: 'muted' }, 'The timeline could not be read.'),
        h('figcaption', null, 'Target cards by state over time')),
      h('figure', null, bytesChart(list, c.id), h('figcaption', null, 'Bytes per target card (the table below has the numbers)')));
    const targetsText = JSON.stringify(list);
    if (targetsText !== lastTargets) {
      lastTargets = targetsText;
      replace(rows, list.length
        ? table(`${list.length} target ${list.length === 1 ? 'card' : 'cards'}`,
          ['CIN', 'State', 'Reason', '#Claims', '#Request', '#Response', '#Personalization', '#Total'],
          list.map(targetRow))
        : h('p', { class: 'muted' }, 'No target card.'));
    }
    setButtons();
    return true;
  };

  const fetchBoth = async () => {
    const [c, tl] = await Promise.all([api('GET', base), api('GET', base + '/timeline').catch(() => null)]);
    return [c, tl];
  };

  const follow = () => {
    if (!ctx.alive || !campaign) return;
    if (!LIVE.has(campaign.state)) {
      if (poller) poller.stop();
      poller = null;
      return;
    }
    if (poller) poller.now();
    else {
      poller = ctx.poll(async () => {
        const mine = version;
        const [c, tl] = await fetchBoth();
        if (!ctx.alive || mine !== version || busy) return 'same';
        const changed = show(c, tl);
        if (!LIVE.has(c.state)) {
          poller = null;
          return 'stop';
        }
        return changed ? 'changed' : 'same';
      }, { min: 1000, max: 8000 });
    }
  };

  const control = async verb => {
    busy = true;
    version++;
    setButtons();
    say(message, '');
    status.textContent = '';
    try {
      const answer = await api('POST', `${base}/${verb}`);
      let full = null, tl = timeline;
      try {
        [full, tl] = await fetchBoth();
      } catch {
        full = Object.assign({}, campaign, answer, { targets: campaign && campaign.targets });
      }
      if (!ctx.alive) return;
      show(full, tl || timeline);
      status.textContent = { start: 'Campaign started.', pause: 'Campaign paused.', cancel: 'Campaign cancelled.' }[verb];
    } catch (e) {
      if (ctx.alive) say(message, `The server refused to ${verb} the campaign (${e.status || 'no answer'}): ${e.message}`);
    } finally {
      busy = false;
      version++;
      setButtons();
      follow();
    }
  };
  buttons.start.addEventListener('click', () => control('start'));
  buttons.pause.addEventListener('click', () => control('pause'));
  buttons.cancel.addEventListener('click', () => control('cancel'));

  let first;
  try {
    first = await fetchBoth();
  } catch (e) {
    if (ctx.alive) say(message, e.message);
    stateEl.textContent = 'unknown';
    return;
  }
  if (!ctx.alive) return;
  show(first[0], first[1]);
  follow();
}

