// app.js — the console's entry point: sign-in and sign-out, the nav, hash
// routing of the views into the one <main>, and the polling helper the live
// views use. Navigation never reloads the page: views are swapped in place.

import { ApiError, checkToken, forgetToken, keepToken, onUnauthorized, token } from './api.js';
import { h } from './dom.js';
import { cardView, cardsView } from './view_cards.js';
import { campaignView, campaignsView } from './view_campaigns.js';
import { healthView, packagesView, proposalsView } from './view_other.js';

const ROUTES = [
  { re: /^#\/cards$/, nav: '#/cards', view: cardsView },
  { re: /^#\/cards\/([0-9A-Fa-f]{2,32})$/, nav: '#/cards', view: cardView },
  { re: /^#\/packages$/, nav: '#/packages', view: packagesView },
  { re: /^#\/campaigns$/, nav: '#/campaigns', view: campaignsView },
  { re: /^#\/campaigns\/([1-9][0-9]{0,17})$/, nav: '#/campaigns', view: campaignView },
  { re: /^#\/proposals$/, nav: '#/proposals', view: proposalsView },
  { re: /^#\/health$/, nav: '#/health', view: healthView },
];
const HOME = '#/cards';

const $ = id => document.getElementById(id);
let current = null; // the shown view's context

// Runs step() again and again while ctx lives: first after min ms; step
// resolves 'changed' (wait goes back to min), 'same' (wait doubles up to max)
// or 'stop'; a failure counts as 'same'. Returns {now(), stop()}: now() polls
// at once with the wait reset to min.
export function poll(ctx, step, { min = 1000, max = 8000 } = {}) {
  let wait = min, timer = 0, busy = false, again = false, stopped = false;
  const schedule = ms => {
    clearTimeout(timer);
    timer = setTimeout(tick, ms);
  };
  async function tick() {
    timer = 0;
    if (stopped || !ctx.alive) return;
    if (busy) {
      again = true;
      return;
    }
    if (document.hidden) { // a hidden tab asks the server nothing; look again later
      schedule(max);
      return;
    }
    busy = true;
    let result = 'same';
    try {
      result = await step();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) result = 'stop';
    }
    busy = false;
    if (result === 'stop') stopped = true;
    if (stopped || !ctx.alive) return;
    wait = result === 'changed' || again ? min : Math.min(max, wait * 2);
    again = false;
    schedule(wait);
  }
  const handle = {
    now() {
      if (stopped || !ctx.alive) return;
      wait = min;
      if (busy) again = true;
      else schedule(0);
    },
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
  };
  ctx.onLeave(handle.stop);
  schedule(min);
  return handle;
}

// A fresh view context: root element, alive flag, leave hooks, title and poll.
function makeContext(root) {
  const hooks = [];
  const ctx = {
    root,
    alive: true,
    onLeave(fn) {
      hooks.push(fn);
    },
    leave() {
      ctx.alive = false;
      for (const fn of hooks.splice(0)) {
        try {
          fn();
        } catch (e) {
          console.error(e);
        }
      }
    },
    title(text) {
      if (ctx.alive) document.title = text + ' — seam console';
    },
    poll(step, opts) {
      return poll(ctx, step, opts);
    },
  };
  return ctx;
}

function leaveView() {
  if (current) current.leave();
  current = null;
}

// Marks the nav link of the shown view with aria-current.
function markNav(href) {
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.getAttribute('href') === href) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

// Shows the view the address names (or signs in first); stops the previous one.
function route() {
  if (!token()) {
    showLogin('');
    return;
  }
  if ($('view').hidden) showShell();
  let hash = location.hash;
  if (!hash || hash === '#' || hash === '#/') {
    history.replaceState(null, '', HOME);
    hash = HOME;
  }
  leaveView();
  const root = $('view');
  root.replaceChildren();
  let found = null, args = [];
  for (const r of ROUTES) {
    const m = hash.match(r.re);
    if (m) {
      found = r;
      args = m.slice(1);
      break;
    }
  }
  markNav(found ? found.nav : null);
  const ctx = makeContext(root);
  current = ctx;
  if (!found) {
    ctx.title('Not found');
    root.append(h('h1', null, 'Not found'),
      h('p', null, 'No view has this address. Choose one of the views above, or go to ',
        h('a', { href: HOME }, 'the cards'), '.'));
    return;
  }
  Promise.resolve()
    .then(() => found.view(ctx, ...args))
    .catch(e => {
      if (!ctx.alive) return;
      if (!(e instanceof ApiError)) console.error(e);
      root.append(h('p', { class: 'message error', role: 'alert' },
        e instanceof ApiError ? e.message : 'This view failed: ' + (e && e.message)));
    });
}

// Shows the sign-in form (message in #login-error, status in #login-status) and hides the console.
function showLogin(error, status = '') {
  leaveView();
  const view = $('view');
  view.replaceChildren();
  view.hidden = true;
  $('nav').hidden = true;
  $('logout').hidden = true;
  $('login').hidden = false;
  $('login-error').textContent = error || '';
  $('login-status').textContent = status || '';
  $('login-token').value = '';
  document.title = 'Sign in — seam console';
}

// Hides the sign-in form and shows the nav, the sign-out button and the view.
function showShell() {
  $('login').hidden = true;
  $('login-error').textContent = '';
  $('login-status').textContent = '';
  $('nav').hidden = false;
  $('logout').hidden = false;
  $('view').hidden = false;
}

async function signIn(ev) {
  ev.preventDefault();
  const input = $('login-token'), button = $('login-submit'), error = $('login-error');
  const t = input.value.trim();
  $('login-status').textContent = '';
  if (!t) {
    error.textContent = 'Enter the admin token.';
    input.focus();
    return;
  }
  if (!/^[\x21-\x7e]{1,512}$/.test(t)) {
    error.textContent = 'That is not a token: a token is letters and digits, without spaces.';
    input.focus();
    return;
  }
  error.textContent = '';
  button.disabled = true;
  let good = false;
  try {
    good = await checkToken(t);
  } catch (e) {
    error.textContent = e.message;
    return;
  } finally {
    button.disabled = false;
  }
  if (!good) {
    error.textContent = 'The server refused this token (401). Check it and try again.';
    input.select();
    return;
  }
  keepToken(t);
  input.value = '';
  route();
}

function signOut() {
  forgetToken();
  showLogin('', 'You have signed out; the token is forgotten.');
  $('login-token').focus();
}

function start() {
  $('login-form').addEventListener('submit', signIn);
  $('logout').addEventListener('click', signOut);
  window.addEventListener('hashchange', () => {
    if (token()) route();
  });
  onUnauthorized(() => {
    if (!token()) return;
    forgetToken();
    showLogin('The server refused the token (401): it changed, or the server was set up again. Sign in again.');
    $('login-token').focus();
  });
  route();
}

start();
