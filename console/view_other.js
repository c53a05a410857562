// view_other.js — the packages view (every uploaded version, grouped by AID),
// the proposals view (upgrade proposals, each turned into a running update
// campaign with one button, and the devices' application inventory) and the
// health view (backend, queue, campaigns and sessions, refreshed while shown).

import { api } from './api.js';
import { alertBox, facts, fmtBytes, fmtDuration, fmtInt, h, hex, replace, say, table, td, timeEl } from './dom.js';

function versionKey(v) {
  const [major, minor] = String(v).split('.').map(Number);
  return (major || 0) * 1000 + (minor || 0);
}

// Renders the packages (GET /api/packages) into ctx.root, one group per AID.
export async function packagesView(ctx) {
  ctx.title('Packages');
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  ctx.root.append(h('h1', null, 'Packages'),
    h('p', { class: 'help' }, 'Every package uploaded to the server (POST /api/packages), by AID and version.'), body);
  const list = await api('GET', '/api/packages');
  if (!ctx.alive) return;
  const all = Array.isArray(list) ? list : [];
  if (!all.length) {
    replace(body, h('p', { class: 'muted' }, 'No package has been uploaded yet.'));
    return;
  }
  const groups = new Map();
  for (const p of all) {
    if (!groups.has(p.aid)) groups.set(p.aid, []);
    groups.get(p.aid).push(p);
  }
  const bodies = [...groups.keys()].sort().map(aid => {
    const versions = groups.get(aid).sort((a, b) => versionKey(a.version) - versionKey(b.version));
    return h('tbody', null,
      h('tr', { class: 'group' }, h('th', { scope: 'rowgroup', colspan: 4 },
        'Package ', hex(aid), ` · ${versions.length} ${versions.length === 1 ? 'version' : 'versions'}: `,
        versions.map(p => p.version).join(', '))),
      versions.map(p => h('tr', { 'data-package': `${p.aid}-${p.version}` },
        td(hex(p.aid)), td(p.version), td(fmtBytes(p.size), { class: 'num' }), td(timeEl(p.uploaded)))));
  });
  replace(body, table(`${all.length} ${all.length === 1 ? 'package version' : 'package versions'} of ` +
    `${groups.size} ${groups.size === 1 ? 'package' : 'packages'}`, ['AID', 'Version', '#Size', 'Uploaded'], bodies));
}

function skippedText(skipped) {
  if (!Array.isArray(skipped) || !skipped.length) return h('span', { class: 'muted' }, 'none');
  const why = { no_cin: 'no CIN reported', unknown_card: 'card unknown to the server' };
  return h('ul', { class: 'plain' }, skipped.map(s => h('li', null, hex(s.device), ': ', why[s.reason] || s.reason)));
}

function proposalRow(p, accept) {
  const cins = Array.isArray(p.cins) ? p.cins : [];
  const button = h('button', { type: 'button', 'data-accept': p.id, disabled: cins.length ? null : true },
    'Update ', `${cins.length} ${cins.length === 1 ? 'card' : 'cards'}`);
  button.addEventListener('click', () => accept(p, button));
  return h('tr', { 'data-proposal': p.id },
    td(p.name && p.name !== p.package ? [p.name, ' (', hex(p.package), ')'] : hex(p.package)),
    td(p.from, { 'data-field': 'from' }), td(p.to, { 'data-field': 'to' }),
    td(p.devices, { 'data-field': 'devices' }), td(cins.length, { 'data-field': 'cards' }),
    td(skippedText(p.skipped)), td(button));
}

// Renders the proposals and the application inventory (GET /api/proposals)
// into ctx.root; accepting one POSTs /api/proposals/{id}/campaign and shows the campaign.
export async function proposalsView(ctx) {
  ctx.title('Proposals');
  const message = alertBox('proposal-message');
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  ctx.root.append(h('h1', null, 'Upgrade proposals'),
    h('p', { class: 'help' }, 'Devices run an older version of a package the server holds a newer version of. ' +
      'Accepting a proposal starts an update campaign on its known cards; an update sends no personalization data.'),
    message, body);
  const data = await api('GET', '/api/proposals');
  if (!ctx.alive) return;
  const proposals = data && Array.isArray(data.proposals) ? data.proposals : [];
  const apps = data && Array.isArray(data.applications) ? data.applications : [];

  let accepting = false;
  const accept = async (p, button) => {
    if (accepting) return;
    accepting = true;
    button.disabled = true;
    say(message, '');
    try {
      const c = await api('POST', '/api/proposals/' + encodeURIComponent(p.id) + '/campaign');
      if (ctx.alive) location.hash = '#/campaigns/' + c.id;
    } catch (e) {
      if (ctx.alive) say(message, `The server did not accept the proposal (${e.status || 'no answer'}): ${e.message}`);
      button.disabled = false;
    } finally {
      accepting = false;
    }
  };

  replace(body,
    h('section', { 'aria-labelledby': 'proposals-head' },
      h('h2', { id: 'proposals-head' }, 'Proposals'),
      proposals.length
        ? table(`${proposals.length} ${proposals.length === 1 ? 'proposal' : 'proposals'}`,
          ['Package', 'From version', 'To version', '#Devices', '#Cards', 'Devices skipped', 'Action'],
          proposals.map(p => proposalRow(p, accept)))
        : h('p', { class: 'muted' }, 'Nothing to propose: every device runs the newest version the server holds.')),
    h('section', { 'aria-labelledby': 'inventory-head' },
      h('h2', { id: 'inventory-head' }, 'Application inventory'),
      apps.length
        ? table('Devices by application and version', ['Kind', 'Application', 'Version', '#Devices'],
          apps.map(a => h('tr', { 'data-application': `${a.kind}:${a.id}:${a.version}` },
            td(a.kind === 'card' ? 'card applet' : 'terminal application'),
            td(a.name && a.name !== a.id ? [a.name, ' (', hex(a.id), ')'] : hex(a.id)),
            td(a.version), td(a.devices))))
        : h('p', { class: 'muted' }, 'No device has reported its applications yet.')));
}

function num(name, value) {
  return h('span', { 'data-health': name }, fmtInt(value));
}

function renderHealth(x) {
  const q = x.queue || {}, c = x.campaigns || {}, s = x.sessions || {};
  const perSecond = Number.isFinite(s.per_second) ? s.per_second.toFixed(2) : '—';
  return [
    h('section', { 'aria-labelledby': 'health-server' }, h('h2', { id: 'health-server' }, 'Server'),
      facts([
        ['Storage backend', h('span', { 'data-health': 'backend' }, String(x.backend))],
        ['Up for', h('span', { 'data-health': 'uptime' }, fmtDuration(x.uptime))],
        ['HTTP worker threads', num('threads', x.threads)],
        ['Requests answered', num('requests', x.requests)],
      ])),
    h('section', { 'aria-labelledby': 'health-queue' }, h('h2', { id: 'health-queue' }, 'Queue of target cards'),
      facts([
        ['Pending (running campaigns)', num('pending', q.pending)],
        ['Running (running campaigns)', num('running', q.running)],
        ['Pending (paused campaigns)', num('paused', q.paused)],
      ], 'facts counts')),
    h('section', { 'aria-labelledby': 'health-campaigns' }, h('h2', { id: 'health-campaigns' }, 'Campaigns by state'),
      facts(['created', 'running', 'paused', 'done', 'cancelled'].map(k =>
        [k[0].toUpperCase() + k.slice(1), num('campaigns-' + k, c[k])]), 'facts counts')),
    h('section', { 'aria-labelledby': 'health-sessions' }, h('h2', { id: 'health-sessions' }, 'Sessions'),
      facts([
        ['Admin steps live in this process', num('sessions-live', s.live)],
        ['OMA DS sessions live', num('sessions-omads', s.omads)],
        ['Admin sessions in the last minute', num('sessions-last-minute', s.last_minute)],
        ['Admin sessions per second', h('span', { 'data-health': 'sessions-per-second' }, perSecond)],
      ], 'facts counts')),
  ];
}

// Renders the server's health (GET /api/health) into ctx.root, refreshed every 3 s while shown.
export async function healthView(ctx) {
  ctx.title('Health');
  const body = h('div', null, h('p', { class: 'muted' }, 'Loading…'));
  const message = alertBox('health-message');
  const stamp = h('p', { class: 'help' });
  ctx.root.append(h('h1', null, 'Health'), stamp, message, body);
  let last = '';
  const refresh = async () => {
    let x;
    try {
      x = await api('GET', '/api/health');
    } catch (e) {
      if (ctx.alive) say(message, e.message);
      throw e;
    }
    if (!ctx.alive) return 'stop';
    say(message, '');
    stamp.textContent = 'Read at ' + new Date().toLocaleTimeString('en-GB') + '; refreshed every few seconds.';
    const text = JSON.stringify(x);
    if (text === last) return 'same';
    last = text;
    replace(body, renderHealth(x));
    return 'changed';
  };
  try {
    await refresh();
  } catch {
    // the message says why; the poll tries again
  }
  if (ctx.alive) ctx.poll(refresh, { min: 3000, max: 3000 });
}
