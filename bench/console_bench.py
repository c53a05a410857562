#!/usr/bin/env python3
"""What the operator's console costs the server (issue 16; docs/console.md).

scripts/console_stage.sh sets up a `seam server` with a `seam fleet` of CARDS
cards (default 200) whose handsets synchronized; the proposal becomes an
update campaign and `seam fleet` runs it to the end, so the campaign has CARDS
targets and a timeline. Then every request the console's views make is timed
over one kept-alive connection, each ROUNDS times (default 200), and printed
beside the reference measured in the same run: GET /console/index.html, the
embedded page, which goes through the same HTTP core, router and response path
but reads no store. The campaign view polls its campaign and its timeline once
a second while it runs: the last row is that cost as a share of one core.

usage: bench/console_bench.py SEAM APPS OUT [CARDS] [ROUNDS]
"""

import http.client
import json
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))


def stage(seam, apps, out, cards):
    r = subprocess.run([os.path.join(ROOT, "scripts", "console_stage.sh"), seam, apps, out, str(cards)],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=1800)
    if r.returncode != 0:
        sys.exit("console_bench: console_stage.sh failed:\n" + r.stderr[-2000:])
    return dict(line.split("=", 1) for line in r.stdout.splitlines() if "=" in line)


class Client:
    """One kept-alive connection to the server, with the token."""

    def __init__(self, url, token):
        host, port = url.split("//", 1)[1].split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.token = token

    def get(self, path, method="GET"):
        """(status, body bytes) of one request."""
        self.conn.request(method, path, headers={"Authorization": "Bearer " + self.token})
        r = self.conn.getresponse()
        return r.status, r.read()

    def json(self, path, method="GET"):
        status, body = self.get(path, method)
        if status not in (200, 201):
            sys.exit("console_bench: %s %s answered %d: %s" % (method, path, status, body[:200]))
        return json.loads(body)


def timed(client, path, rounds):
    """(median seconds, response bytes) of rounds GETs of path."""
    times, size = [], 0
    for _ in range(rounds):
        t0 = time.perf_counter()
        status, body = client.get(path)
        times.append(time.perf_counter() - t0)
        if status != 200:
            sys.exit("console_bench: GET %s answered %d" % (path, status))
        size = len(body)
    return statistics.median(times), size


def main():
    if len(sys.argv) < 4:
        print(__doc__)
        return 2
    seam, apps, out = (os.path.abspath(a) for a in sys.argv[1:4])
    cards = int(sys.argv[4]) if len(sys.argv) > 4 else 200
    rounds = int(sys.argv[5]) if len(sys.argv) > 5 else 200
    t0 = time.perf_counter()
    env = stage(seam, apps, out, cards)
    staged = time.perf_counter() - t0
    try:
        c = Client(env["URL"], env["TOKEN"])
        accepted = c.json("/api/proposals/%s/campaign" % env["PROPOSAL"], "POST")
        cid = accepted["id"]
        r = subprocess.run([seam, "fleet", "--cards", str(cards), "--dir", env["FLEET_DIR"],
                            "--server", env["URL"], "--threads", "2"],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=1800)
        if r.returncode != 0 or ("%d done" % cards) not in r.stdout:
            sys.exit("console_bench: seam fleet: " + r.stdout[-1000:])
        imei = env["IMEI_%d" % (cards // 2)]
        rows = [
            ("reference: GET /console/index.html", "/console/index.html"),
            ("GET /console/view_campaigns.js", "/console/view_campaigns.js"),
            ("GET /api/health", "/api/health"),
            ("GET /api/campaigns", "/api/campaigns"),
            ("GET /api/campaigns/{id} (%d targets)" % cards, "/api/campaigns/%d" % cid),
            ("GET /api/campaigns/{id}/timeline", "/api/campaigns/%d/timeline" % cid),
            ("GET /api/cards (%d cards)" % cards, "/api/cards"),
            ("GET /api/cards?q=IMEI (search)", "/api/cards?q=" + imei),
            ("GET /api/cards?q=A0000005505501 (every card)", "/api/cards?q=A0000005505501"),
            ("GET /api/cards/{cin}", "/api/cards/" + env["CIN_0"]),
            ("GET /api/packages", "/api/packages"),
            ("GET /api/proposals", "/api/proposals"),
        ]
        print("console bench: %d cards staged in %.1f s, update campaign %d run by seam fleet; "
              "median of %d requests on one connection" % (cards, staged, cid, rounds))
        print("%-48s %10s %10s %8s" % ("request", "bytes", "ms", "x ref"))
        ref = None
        measured = {}
        for name, path in rows:
            med, size = timed(c, path, rounds)
            ref = ref or med
            measured[path] = med
            print("%-48s %10d %10.3f %8.1f" % (name, size, med * 1000, med / ref))
        poll = measured["/api/campaigns/%d" % cid] + measured["/api/campaigns/%d/timeline" % cid]
        print("%-48s %10s %10.3f %8s" % ("a campaign view's poll (campaign + timeline)", "", poll * 1000, ""))
        print("ROW\tconsole: campaign view poll (%d targets)\t%.2f ms\t<= 10 ms (1%% of a core)\t"
              "index.html %.3f ms\t%.1f" % (cards, poll * 1000, ref * 1000, poll / ref))
        print("console bench: one operator watching a running %d-card campaign at the fastest "
              "interval (1 s) costs %.2f%% of one core" % (cards, poll * 100))
    finally:
        subprocess.run(["kill", env["SERVER_PID"]], check=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
