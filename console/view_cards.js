// view_cards.js — the cards view (every card, or those a search finds by CIN,
// IMEI or AID) and one card's view: its devices, its registry as a tree
// (domain > package > instance), its restore records by size only, and the
// byte accounting of its sessions. Keys and personalization data are never
// sent by the API and never shown.

import { api } from './api.js';
import { alertBox, facts, fmtBytes, h, hex, replace, say, shorten, table, td, timeEl } from './dom.js';

const QUERY = /^[0-9A-Za-z]{1,64}$/;

// GlobalPlatform life cycle bytes as words (GET STATUS coding).
const LIFECYCLE = {
  '01': 'loaded', '03': 'installed', '07': 'selectable', '0F': 'personalized',
  '83': 'locked', '87': 'locked', '8F': 'locked', 'FF': 'terminated',
};

function lifecycle(code) {
  if (code === null || code === undefined || code === '') return 'life cycle unknown';
  const word = LIFECYCLE[String(code).toUpperCase()];
  return 'life cycle ' + code + (word ? ' (' + word + ')' : '');
}

function cardRow(card) {
  return h('tr', { 'data-cin': card.cin },
    td(h('a', { href: '#/cards/' + card.cin }, hex(card.cin))),
    td(hex(card.iin)),
    td(timeEl(card.created)));
}

function cardsTable(cards, q) {
  const list = Array.isArray(cards) ? cards : [];
  const caption = q
    ? `${list.length} ${list.length === 1 ? 'card matches' : 'cards match'} “${q}”`
    : `${list.length} ${list.length === 1 ? 'card' : 'cards'}`;
  if (!list.length) return h('p', { class: 'muted' }, q ? `No card matches “${q}”.` : 'The server has no card yet.');
  return table(caption, ['CIN', 'IIN', 'Created'], list.map(cardRow));
}

// Renders the card list with its search form into ctx.root; the search runs
// GET /api/cards?q= after checking the text (1..64 letters and digits).
export async function cardsView(ctx) {
  ctx.title('Cards');
  const input = h('input', {
    id: 'card-search', name: 'q', type: 'search', autocomplete: 'off', spellcheck: 'false',
    maxlength: 64, 'aria-describedby': 'card-search-help card-search-message',
  });
  const message = alertBox('card-search-message');
  const results = h('div', { class: 'results', 'aria-live': 'polite' });
  const form = h('form', { class: 'search', role: 'search', novalidate: true },
    h('label', { for: 'card-search' }, 'Search cards'),
    h('div', { class: 'row' }, input, h('button', { id: 'card-search-submit', type: 'submit' }, 'Search')),
    h('p', { id: 'card-search-help', class: 'help' },
      'Part of a CIN, an IMEI, or an AID on the card: letters and digits only. Empty shows every card.'),
    message);
  ctx.root.append(h('h1', null, 'Cards'), form, results);

  let seq = 0;
  async function load(q) {
    const mine = ++seq;
    replace(results, h('p', { class: 'muted' }, 'Loading…'));
    try {
      const cards = await api('GET', '/api/cards' + (q ? '?q=' + encodeURIComponent(q) : ''));
      if (!ctx.alive || mine !== seq) return;
      replace(results, cardsTable(cards, q));
    } catch (e) {
      if (!ctx.alive || mine !== seq) return;
      say(message, e.message);
      replace(results);
    }
  }
  form.addEventListener('submit', ev => {
    ev.preventDefault();
    const q = input.value.trim();
    if (q && !QUERY.test(q)) {
      say(message, `“${shorten(q)}” cannot be searched: use 1 to 64 letters and digits, ` +
        'without spaces or other signs.');
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return;
    }
    input.removeAttribute('aria-invalid');
    say(message, '');
    load(q);
  });
  await load('');
}

function devicesSection(devices) {
  const list = Array.isArray(devices) ? devices : [];
  return h('section', { 'aria-labelledby': 'card-devices' },
    h('h2', { id: 'card-devices' }, 'Devices'),
    list.length
      ? table(`${list.length} bound ${list.length === 1 ? 'device' : 'devices'}`, ['Device', 'IMEI', 'Updated'],
        list.map(d => h('tr', { 'data-device': d.id },
          td(hex(d.id)), td(d.imei === null || d.imei === undefined ? '—' : hex(d.imei)), td(timeEl(d.updated)))))
      : h('p', { class: 'muted' }, 'No device is bound to this card.'));
}

function instanceItem(inst) {
  return h('li', { 'data-aid': inst.aid, class: 'tree-instance' },
    h('span', { class: 'tree-kind' }, 'Instance '), hex(inst.aid),
    h('span', { class: 'tree-meta' }, ` · ${lifecycle(inst.lifecycle)} · version ${inst.version || 'unknown'}`));
}

function packageItem(pkg) {
  const instances = Array.isArray(pkg.instances) ? pkg.instances : [];
  return h('li', { 'data-aid': pkg.aid || null, class: 'tree-package' },
    h('span', { class: 'tree-kind' }, 'Package '), pkg.aid ? hex(pkg.aid) : h('span', { class: 'muted' }, '(not reported)'),
    h('span', { class: 'tree-meta' }, ` · version ${pkg.version || 'unknown'}`),
    instances.length ? h('ul', null, instances.map(instanceItem)) : h('span', { class: 'tree-meta' }, ' · no instance'));
}

function domainItem(d) {
  const packages = Array.isArray(d.packages) ? d.packages : [];
  return h('li', { 'data-aid': d.aid, class: 'tree-domain' },
    h('span', { class: 'tree-kind' }, 'Security domain '), hex(d.aid),
    h('span', { class: 'tree-meta' }, ` · ${lifecycle(d.lifecycle)}`),
    d.sd ? h('span', { class: 'tree-meta' }, ' · associated with ', hex(d.sd)) : null,
    packages.length ? h('ul', null, packages.map(packageItem)) : h('span', { class: 'tree-meta' }, ' · no package'));
}

function restoreTable(restore) {
  const rows = [];
  for (const group of restore) {
    for (const r of Array.isArray(group.records) ? group.records : []) {
      rows.push(h('tr', { 'data-restore-owner': group.owner },
        td(hex(r.instance)), td(hex(group.owner)), td(r.package ? hex(r.package) : '—'),
        td(Number.isFinite(r.bytes) ? fmtBytes(r.bytes) : '—', { class: 'num' })));
    }
  }
  if (!rows.length) return h('p', { class: 'muted' }, 'The card keeps no restore record.');
  return table(`${rows.length} restore ${rows.length === 1 ? 'record' : 'records'} (sizes only, never contents)`,
    ['Instance', 'Owner', 'Package', '#Size'], rows);
}

function registrySection(reg) {
  const head = h('h2', { id: 'card-registry' }, 'Registry');
  if (!reg) {
    return h('section', { 'aria-labelledby': 'card-registry' }, head,
      h('p', { class: 'muted' }, 'No device has reported this card’s registry yet.'));
  }
  const domains = Array.isArray(reg.domains) ? reg.domains : [];
  const loose = reg.unassociated && Array.isArray(reg.unassociated.packages) ? reg.unassociated.packages : [];
  const items = domains.map(domainItem);
  if (loose.length) {
    items.push(h('li', { class: 'tree-domain' }, h('span', { class: 'tree-kind' }, 'Not under a reported domain'),
      h('ul', null, loose.map(packageItem))));
  }
  return h('section', { 'aria-labelledby': 'card-registry' }, head,
    h('p', null, 'Reported by device ', hex(reg.device), ' at ', timeEl(reg.reported), '.'),
    items.length ? h('ul', { class: 'tree', 'aria-label': 'Registry tree' }, items) : h('p', { class: 'muted' }, 'The report names no domain.'),
    h('h3', null, 'Restore records'),
    restoreTable(Array.isArray(reg.restore) ? reg.restore : []));
}

function sessionsSection(sessions) {
  const list = Array.isArray(sessions) ? sessions : [];
  return h('section', { 'aria-labelledby': 'card-sessions' },
    h('h2', { id: 'card-sessions' }, 'Sessions'),
    list.length
      ? table(`Bytes of ${list.length} campaign ${list.length === 1 ? 'step' : 'steps'}`,
        ['Campaign', 'Step', '#Request', '#Response', '#Personalization', '#Total'],
        list.map((x, i) => h('tr', { 'data-session': i },
          td(x.campaign ? h('a', { href: '#/campaigns/' + x.campaign }, 'Campaign ' + x.campaign) : 'none (poll)'),
          td(x.step),
          td(fmtBytes(x.request), { class: 'num' }), td(fmtBytes(x.response), { class: 'num' }),
          td(fmtBytes(x.perso), { class: 'num' }), td(fmtBytes(x.total), { class: 'num' }))))
      : h('p', { class: 'muted' }, 'No session has been counted for this card.'));
}

// Renders one card (GET /api/cards/{cin}) into ctx.root.
export async function cardView(ctx, cin) {
  ctx.title('Card ' + cin);
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  ctx.root.append(h('p', { class: 'crumbs' }, h('a', { href: '#/cards' }, 'All cards')),
    h('h1', null, 'Card ', hex(cin)), body);
  let card;
  try {
    card = await api('GET', '/api/cards/' + encodeURIComponent(cin));
  } catch (e) {
    if (ctx.alive) replace(body, h('p', { class: 'message error', role: 'alert' }, e.message));
    return;
  }
  if (!ctx.alive) return;
  const ks = card.isd_keyset;
  replace(body,
    facts([
      ['CIN', hex(card.cin)],
      ['IIN', hex(card.iin)],
      ['Created', timeEl(card.created)],
      ['ISD key set', ks ? `version ${ks.kvn}, ${ks.key_length}-byte keys (never shown)` : '—'],
    ]),
    devicesSection(card.devices),
    registrySection(card.registry),
    sessionsSection(card.sessions));
}
