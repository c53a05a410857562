#!/usr/bin/env python3
"""The operator's console end to end (issue 16; docs/console.md).

scripts/console_stage.sh starts a real `seam server` and a `seam fleet` of
cards holding purse 1.0 whose handsets synchronized their card's database, so
the server proposes purse 2.0. Headless Debian chromium (tests/console/cdp.py)
then logs in to the console the server serves at /, accepts the proposal,
watches the update campaign complete while `seam fleet` runs the cards' admin
sessions (no reload: the page polls), and checks that every number shown is
the API's. It tries bad input in every form (the store's digest, read with
`seam server report --digest`, must not change), the keyboard, a phone-sized
window and a 200% zoom, and checks that no key, personalization data or the
token appear on any page. Screenshots of each view go to the artifacts folder.

usage: console_test.py SEAM APPS ARTIFACTS [chromium|firefox]
The same checks run in Debian's chromium (DevTools protocol, tests/console/cdp.py,
the default) or in firefox-esr (Marionette, tests/console/marionette.py).
"""

import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cdp  # noqa: E402
import marionette  # noqa: E402
from page import BrowserError  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CARDS = 6
FLEET_KEY = "404142434445464748494A4B4C4D4E4F"  # the fleet's card keys (src/cli/fleet_register.c)
VIEWS = ["#/cards", "#/packages", "#/campaigns", "#/proposals", "#/health"]

passed = 0


def ok(cond, what):
    """One check: prints it; a failure stops the test with what went wrong."""
    global passed
    if not cond:
        raise AssertionError(what)
    passed += 1
    print("ok %d - %s" % (passed, what), flush=True)


def number(text):
    """The integer in a displayed number (thousands separators and units dropped)."""
    digits = re.sub(r"[^0-9]", "", text)
    if not digits:
        raise AssertionError("no number in %r" % text)
    return int(digits)


class Api:
    def __init__(self, url, token):
        self.url, self.token = url, token

    def call(self, method, path, body=None, token=True):
        """(status, decoded JSON or None) of one admin API request."""
        headers = {}
        if token is True:
            headers["Authorization"] = "Bearer " + self.token
        elif token:
            headers["Authorization"] = "Bearer " + token
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, None

    def get(self, path):
        status, body = self.call("GET", path)
        if status != 200:
            raise AssertionError("GET %s answered %d" % (path, status))
        return body


def stage(seam, apps, out):
    """Runs scripts/console_stage.sh; its KEY=VALUE lines as a dict."""
    r = subprocess.run(
        [os.path.join(ROOT, "scripts", "console_stage.sh"), seam, apps, out, str(CARDS)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=300,
    )
    if r.returncode != 0:
        raise AssertionError("console_stage.sh failed:\n" + r.stderr)
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


def digest(seam, env):
    """The server store's digest of every row (seam server report --digest)."""
    r = subprocess.run(
        [seam, "server", "report", env["SERVER_DIR"], "--digest"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=60,
    )
    if r.returncode != 0 or not re.fullmatch(r"[0-9a-fA-F]{64}\n?", r.stdout):
        raise AssertionError("seam server report --digest: %s %s" % (r.stdout, r.stderr))
    return r.stdout.strip()


def page_html(b):
    return b.eval("document.documentElement.outerHTML")


def no_secrets(b, env, where):
    html = page_html(b).upper()
    ok(FLEET_KEY not in html, "%s: no card key on the page" % where)
    ok(env["PERSO"].upper() not in html, "%s: no personalization data on the page" % where)
    ok(env["TOKEN"].upper() not in html, "%s: the token is not on the page" % where)


def fits(b, where):
    """Nothing cut off: the document is no wider than the window (tables scroll inside)."""
    w = b.eval("[document.documentElement.scrollWidth, window.innerWidth]")
    ok(w[0] <= w[1] + 1, "%s: the page is %d px wide in a %d px window" % (where, w[0], w[1]))


def go(b, route, ready):
    """Follows the nav link (or sets the hash) and waits for selector ready."""
    if b.exists('nav a[href="%s"]' % route):
        b.click('nav a[href="%s"]' % route)
    else:
        b.eval("location.hash = %s" % json.dumps(route))
    b.wait("document.querySelector(%s) !== null" % json.dumps(ready), what=ready)


def login(b, env):
    b.goto(env["URL"] + "/")
    b.wait("document.querySelector('#login-token') !== null", what="the login form")


def test_login(b, api, env, art):
    login(b, env)
    b.screenshot(os.path.join(art, "01-login.png"))
    label = b.eval(
        "(e => e.labels && e.labels.length ? e.labels[0].innerText : '')"
        "(document.querySelector('#login-token'))"
    )
    ok(label.strip() != "", "the token field has a label (%r)" % label.strip())
    b.fill("#login-token", "0" * 64)
    b.click("#login-submit")
    b.wait(
        "(e => e && e.innerText.trim().length > 0)(document.querySelector('#login-error'))",
        what="the refusal of a wrong token",
    )
    ok(not b.exists('nav a[href="#/campaigns"]') or not b.eval(
        "document.querySelector('nav a[href=\"#/campaigns\"]').offsetParent !== null"
    ), "a wrong token does not open the console: %r" % b.text("#login-error"))
    # the right token, typed and sent with the keyboard
    b.fill("#login-token", env["TOKEN"])
    b.key("Enter", 13)
    b.wait(
        "(e => e && e.offsetParent !== null)(document.querySelector('nav a[href=\"#/campaigns\"]'))",
        what="the console after login",
    )
    ok(b.eval("localStorage.length === 0"), "the token is not kept in localStorage")
    ok(
        b.eval("Object.values(sessionStorage).includes(%s)" % json.dumps(env["TOKEN"])),
        "the token is kept for the session (sessionStorage)",
    )
    # the API itself refuses without the token, from the page and from outside
    status = b.eval("fetch('/api/cards').then(r => r.status)")
    ok(status == 401, "the API refuses the page's request without the token (%s)" % status)
    for token in (None, "0" * 64):
        s, body = api.call("GET", "/api/campaigns", token=token)
        ok(s == 401 and body["error"]["code"] == "unauthorized",
           "GET /api/campaigns with %s: 401 unauthorized" % ("no token" if token is None else "a wrong token"))


def test_keyboard(b):
    # Tab from the header's first item (the console's name, not focusable itself), as a user who
    # clicked the top of the page would; one pass, so tabbing into the browser's own UI and back
    # (where headless Firefox leaves the document without focus) is not part of it
    b.click("header > :first-child")
    reached, visible = set(), True
    for _ in range(40):
        if reached == set(VIEWS):
            break
        b.key("Tab", 9)
        info = b.eval(
            "(e => { const s = getComputedStyle(e);"
            " return [e.getAttribute('href') || e.id || e.tagName,"
            " s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 || s.boxShadow !== 'none']; })"
            "(document.activeElement)"
        )
        if info[0] in VIEWS:
            reached.add(info[0])
            visible = visible and info[1]
    ok(reached == set(VIEWS), "Tab reaches every view's link (%s)" % sorted(reached))
    ok(visible, "the focused link shows its focus (outline or ring)")
    b.eval("document.activeElement.blur()")


def test_proposal_campaign(b, api, env, seam, art):
    pid = env["PROPOSAL"]
    go(b, "#/proposals", 'tr[data-proposal="%s"]' % pid)
    row = b.text('tr[data-proposal="%s"]' % pid)
    proposal = [p for p in api.get("/api/proposals")["proposals"] if p["id"] == pid][0]
    ok(str(len(proposal["cins"])) in row and "2.0" in row and "1.0" in row,
       "the proposal row shows 1.0 → 2.0 and its %d cards: %r" % (len(proposal["cins"]), row))
    no_secrets(b, env, "proposals")
    b.screenshot(os.path.join(art, "02-proposals.png"))

    before = api.get("/api/campaigns")
    b.eval("window.__seamNoReload = 1")
    b.click('button[data-accept="%s"]' % pid)
    cid = b.wait(
        "(m => m ? m[1] : null)(location.hash.match(/^#\\/campaigns\\/(\\d+)$/))",
        what="the new campaign's view",
    )
    after = api.get("/api/campaigns")
    ok(len(after) == len(before) + 1, "accepting the proposal made one campaign (%s)" % cid)
    campaign = api.get("/api/campaigns/" + cid)
    ok(campaign["kind"] == "update" and campaign["version"] == "2.0",
       "campaign %s updates the purse to 2.0" % cid)
    b.wait("(e => e && /running/.test(e.innerText))(document.querySelector('#campaign-state'))",
           what="the campaign shown running")

    # the cards' terminals run their admin sessions; the page follows without a reload
    r = subprocess.run(
        [seam, "fleet", "--cards", str(CARDS), "--dir", env["FLEET_DIR"], "--server", env["URL"],
         "--threads", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
    )
    ok(r.returncode == 0 and ("%d done" % CARDS) in r.stdout,
       "seam fleet ran the update on %d cards" % CARDS)
    b.wait("(e => e && /done/.test(e.innerText))(document.querySelector('#campaign-state'))",
           timeout=60, what="the campaign shown done")
    ok(b.eval("window.__seamNoReload === 1"), "the page showed the progress without a reload")

    campaign = api.get("/api/campaigns/" + cid)
    for state in ("pending", "running", "done", "failed"):
        shown = number(b.text('[data-count="%s"]' % state))
        ok(shown == campaign["counts"][state], "%s: %d shown, the API says %d"
           % (state, shown, campaign["counts"][state]))
    for part in ("request", "response", "perso", "total"):
        shown = number(b.text('[data-total="%s"]' % part))
        ok(shown == campaign["bytes"][part], "bytes %s: %d shown, the API says %d"
           % (part, shown, campaign["bytes"][part]))
    ok(campaign["bytes"]["perso"] == 0, "the update sent no personalization data (P8)")
    for t in campaign["targets"]:
        sel = 'tr[data-cin="%s"] [data-field="%%s"]' % t["cin"]
        ok(b.text(sel % "state").strip() == t["state"], "card %s: state %s" % (t["cin"], t["state"]))
        for part in ("request", "response", "perso", "total"):
            shown = number(b.text(sel % part))
            ok(shown == t["bytes"][part], "card %s: %s bytes %d = the API's" % (t["cin"], part, shown))
    bars = b.eval("document.querySelectorAll('svg#chart-bytes rect, svg#chart-bytes path').length")
    ok(bars >= CARDS, "the bytes chart draws the %d cards (%d shapes)" % (CARDS, bars))
    marks = b.eval("document.querySelectorAll('svg#chart-progress path, svg#chart-progress "
                   "polyline, svg#chart-progress rect').length")
    ok(marks >= 1, "the progress chart draws the timeline (%d shapes)" % marks)
    for chart in ("chart-bytes", "chart-progress"):
        name = b.eval("(s => s.getAttribute('aria-label') || (s.querySelector('title') || {}).textContent"
                      " || '')(document.querySelector('svg#%s'))" % chart)
        ok(name.strip() != "", "the chart %s has a text alternative" % chart)
    for btn in ("#campaign-pause-btn", "#campaign-start-btn", "#campaign-cancel-btn"):
        ok(b.eval("document.querySelector('%s').disabled" % btn), "%s is disabled once done" % btn)
    no_secrets(b, env, "campaign %s" % cid)
    b.screenshot(os.path.join(art, "03-campaign.png"))
    return cid


def test_cards(b, api, env, art):
    go(b, "#/cards", "tr[data-cin]")
    b.wait("document.querySelectorAll('tr[data-cin]').length === %d" % CARDS, what="every card listed")
    ok(True, "the cards view lists the %d cards" % CARDS)
    b.screenshot(os.path.join(art, "04-cards.png"))

    def search(text):
        b.fill("#card-search", text)
        b.click("#card-search-submit")

    search(env["IMEI_3"])
    b.wait("(r => r.length === 1 && r[0].dataset.cin === %s)(document.querySelectorAll('tr[data-cin]'))"
           % json.dumps(env["CIN_3"]), what="the card of IMEI " + env["IMEI_3"])
    ok(True, "searching the IMEI finds its card only")
    search("A0000005505501")
    b.wait("document.querySelectorAll('tr[data-cin]').length === %d" % CARDS, what="the cards by AID")
    ok(True, "searching the purse's instance AID finds the %d cards" % CARDS)
    search(env["CIN_1"][:10].lower())
    b.wait("(r => r.length === 1 && r[0].dataset.cin === %s)(document.querySelectorAll('tr[data-cin]'))"
           % json.dumps(env["CIN_1"]), what="the card by part of its CIN")
    ok(True, "searching part of a CIN, in lower case, finds the card")

    cin = env["CIN_0"]
    b.eval("location.hash = '#/cards/%s'" % cin)
    b.wait("document.querySelector('[data-aid=\"A0000005505501\"]') !== null", what="the registry tree")
    card = api.get("/api/cards/" + cin)
    reg = card["registry"]
    aids = set()
    for d in reg["domains"]:
        aids.add(d["aid"])
        for p in d["packages"]:
            aids.add(p["aid"])
            aids.update(i["aid"] for i in p["instances"])
    shown = set(b.eval("[...document.querySelectorAll('[data-aid]')].map(e => e.dataset.aid)"))
    ok(aids and aids <= shown, "the registry tree shows every domain, package and instance (%d)" % len(aids))
    nested = b.eval(
        "(i => !!(i && i.closest('[data-aid=\"A00000055055\"]')))"
        "(document.querySelector('[data-aid=\"A0000005505501\"]'))"
    )
    ok(nested, "the purse instance sits under its package in the tree")
    owners = {r["owner"] for r in reg["restore"]}
    shown = set(b.eval("[...document.querySelectorAll('[data-restore-owner]')].map(e => e.dataset.restoreOwner)"))
    ok(owners == shown, "restore records by owner: %s" % sorted(owners))
    rows = b.eval("document.querySelectorAll('tr[data-session]').length")
    ok(rows == len(card["sessions"]), "the card's sessions: %d rows, the API has %d" % (rows, len(card["sessions"])))
    no_secrets(b, env, "card " + cin)
    b.screenshot(os.path.join(art, "05-card.png"))


def test_packages_health(b, api, env, art):
    go(b, "#/packages", 'tr[data-package="A00000055055-2.0"]')
    ok(b.exists('tr[data-package="A00000055055-1.0"]'), "the packages view lists purse 1.0 and 2.0")
    b.screenshot(os.path.join(art, "06-packages.png"))
    go(b, "#/health", '[data-health="backend"]')
    health = api.get("/api/health")
    ok(b.text('[data-health="backend"]').strip() == health["backend"],
       "health: backend %s" % health["backend"])
    for name in ("pending", "running", "paused"):
        ok(number(b.text('[data-health="%s"]' % name)) == health["queue"][name],
           "health: %s %d = the API's" % (name, health["queue"][name]))
    b.screenshot(os.path.join(art, "07-health.png"))


def form_refused(b, seam, env, api, what, fill):
    """Fills the campaign form with bad input: a message, and nothing stored."""
    go(b, "#/campaigns", "#campaign-create")
    before, count = digest(seam, env), len(api.get("/api/campaigns"))
    b.eval("(m => m && (m.textContent = ''))(document.querySelector('#campaign-message'))")
    fill()
    b.click("#campaign-create")
    msg = b.wait("(e => e && e.innerText.trim())(document.querySelector('#campaign-message'))",
                 what="a message for " + what)
    time.sleep(0.3)
    ok(digest(seam, env) == before and len(api.get("/api/campaigns")) == count,
       "campaign form, %s: %r, nothing stored" % (what, msg))


def test_bad_input(b, api, env, seam):
    def fields(kind="update", aid="A00000055055", version="2.0", targets=None):
        def f():
            b.select_option("#campaign-kind", kind) if kind else None
            b.fill("#campaign-aid", aid)
            b.fill("#campaign-version", version)
            b.fill("#campaign-targets", env["CIN_0"] if targets is None else targets)
        return f

    form_refused(b, seam, env, api, "empty", fields(kind=None, aid="", version="", targets=""))
    form_refused(b, seam, env, api, "no targets", fields(targets=""))
    form_refused(b, seam, env, api, "a version that is not M.m", fields(version="two"))
    form_refused(b, seam, env, api, "an AID that is not hex", fields(aid="purse"))
    form_refused(b, seam, env, api, "an unknown AID", fields(aid="A0000000009999"))
    form_refused(b, seam, env, api, "an unknown card", fields(targets="0011223344556677"))
    form_refused(b, seam, env, api, "a CIN that is not hex", fields(targets="NOT-A-CIN"))
    form_refused(b, seam, env, api, "too many targets (600 KiB)",
                 fields(targets=" ".join([env["CIN_0"]] * 40000)))
    # the search form
    go(b, "#/cards", "#card-search")
    b.fill("#card-search", "<script>")
    b.click("#card-search-submit")
    msg = b.wait("(a => a.map(e => e.innerText.trim()).filter(t => t).join(' '))"
                 "([...document.querySelectorAll('[role=alert]')])", what="the search refusal")
    ok(True, "card search with '<script>': %r" % msg)


def test_campaign_control(b, api, env, seam):
    """Create without starting, then start, pause and cancel from the campaign's view."""
    go(b, "#/campaigns", "#campaign-create")
    b.select_option("#campaign-kind", "update")
    b.fill("#campaign-aid", "A00000055055")
    b.fill("#campaign-version", "2.0")
    b.fill("#campaign-targets", env["CIN_2"] + ", " + env["CIN_4"])
    if b.eval("document.querySelector('#campaign-start').checked"):
        b.click("#campaign-start")
    b.click("#campaign-create")
    cid = b.wait("(m => m ? m[1] : null)(location.hash.match(/^#\\/campaigns\\/(\\d+)$/))",
                 what="the created campaign's view")
    ok(api.get("/api/campaigns/" + cid)["state"] == "created", "campaign %s created, not started" % cid)
    for btn, state in (("#campaign-start-btn", "running"), ("#campaign-pause-btn", "paused"),
                       ("#campaign-start-btn", "running"), ("#campaign-pause-btn", "paused"),
                       ("#campaign-cancel-btn", "cancelled")):
        b.wait("!document.querySelector('%s').disabled" % btn, what=btn + " enabled")
        b.click(btn)
        b.wait("(e => e && e.innerText.includes(%s))(document.querySelector('#campaign-state'))"
               % json.dumps(state), what="state " + state)
        ok(api.get("/api/campaigns/" + cid)["state"] == state, "%s: campaign %s is %s" % (btn, cid, state))
    c = api.get("/api/campaigns/" + cid)
    ok(all(t["state"] == "failed" and t["reason"] == "cancelled" for t in c["targets"]),
       "cancelling failed its pending cards with reason 'cancelled'")
    ok("cancelled" in b.text('tr[data-cin="%s"]' % env["CIN_2"]), "the page shows why")


def test_layouts(b, env, cid, art):
    routes = VIEWS + ["#/campaigns/" + cid, "#/cards/" + env["CIN_0"]]
    for name, (w, h, scale, mobile) in (("phone", (375, 800, 1, True)), ("zoom200", (640, 450, 2, False))):
        b.viewport(w, h, scale, mobile)
        for route in routes:
            b.eval("location.hash = %s" % json.dumps(route))
            b.wait("document.querySelector('main') && document.querySelector('main').innerText.length > 20",
                   what=route)
            time.sleep(0.3)
            fits(b, "%s %s" % (name, route))
            slug = route.strip("#/").replace("/", "-")
            b.screenshot(os.path.join(art, "%s-%s.png" % (name, slug)))
    b.reset_viewport()


def test_logout(b):
    b.click("#logout")
    b.wait("document.querySelector('#login-token') !== null && "
           "document.querySelector('#login-token').offsetParent !== null", what="the login form")
    ok(b.eval("sessionStorage.length === 0"), "logging out forgets the token")


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[4:] not in ([], ["chromium"], ["firefox"]):
        print(__doc__)
        return 2
    seam, apps, art = (os.path.abspath(a) for a in sys.argv[1:4])
    engine = sys.argv[4] if len(sys.argv) == 5 else "chromium"
    os.makedirs(art, exist_ok=True)
    for f in os.listdir(art):
        if f.endswith(".png"):
            os.remove(os.path.join(art, f))
    env = stage(seam, apps, os.path.join(art, "stage"))
    api = Api(env["URL"], env["TOKEN"])
    b = None
    try:
        b = marionette.Browser() if engine == "firefox" else cdp.Browser()
        test_login(b, api, env, art)
        test_keyboard(b)
        cid = test_proposal_campaign(b, api, env, seam, art)
        test_cards(b, api, env, art)
        test_packages_health(b, api, env, art)
        test_bad_input(b, api, env, seam)
        test_campaign_control(b, api, env, seam)
        test_layouts(b, env, cid, art)
        test_logout(b)
    except (AssertionError, BrowserError) as e:
        if b:
            try:
                b.screenshot(os.path.join(art, "failure.png"))
            except BrowserError:
                pass
        print("not ok %d - %s" % (passed + 1, e), flush=True)
        print("console test (%s): FAILED after %d checks; screenshots in %s" % (engine, passed, art))
        return 1
    finally:
        if b:
            b.close()
        subprocess.run(["kill", env["SERVER_PID"]], check=False)
    print("console test (%s): %d checks passed; screenshots in %s" % (engine, passed, art))
    return 0


if __name__ == "__main__":
    sys.exit(main())
