"""Headless Chromium driven over the DevTools protocol on a pipe.

Chromium started with --remote-debugging-pipe reads protocol commands on its
file descriptor 3 and writes answers and events on 4, each a JSON text ended
by a NUL byte. That needs no WebSocket client, no port and nothing from the
npm registry: Debian's chromium and Python's standard library are enough.
One page, one session (flat mode); every call waits for its own answer with a
deadline, so a stuck browser fails the test instead of hanging it.
"""

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


from page import BrowserError, Page  # noqa: F401 (BrowserError: what callers catch)


class Browser(Page):
    """One headless Chromium with one page attached."""

    def __init__(self, binary="chromium", width=1280, height=900):
        self.profile = tempfile.mkdtemp(prefix="seam-console-chromium-")
        to_child_r, self._to_child = os.pipe()
        self._from_child, from_child_w = os.pipe()

        def wire():  # in the child, before exec: its fds 3 and 4 are the pipes
            a, b = os.dup(to_child_r), os.dup(from_child_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        args = [
            binary,
            "--headless=new",
            "--no-sandbox",  # tests run as root in CI containers
            "--remote-debugging-pipe",
            "--user-data-dir=" + self.profile,
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-gpu",
            "--disable-dev-shm-usage",  # containers give /dev/shm 64 MiB
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
            "--window-size=%d,%d" % (width, height),
            "about:blank",
        ]
        self.proc = subprocess.Popen(
            args,
            preexec_fn=wire,
            close_fds=False,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=open(os.path.join(self.profile, "chromium.log"), "wb"),
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._buf = b""
        self._next = 0
        self.events = []
        self.session = None
        targets = self.call("Target.getTargets")["targetInfos"]
        page = [t for t in targets if t["type"] == "page"]
        if not page:
            raise BrowserError("chromium opened no page")
        self.session = self.call(
            "Target.attachToTarget", {"targetId": page[0]["targetId"], "flatten": True}
        )["sessionId"]
        self.call("Page.enable")
        self.call("Runtime.enable")

    # ---- the protocol ----

    def call(self, method, params=None, timeout=30, browser_level=False):
        """Sends one command and returns its result; raises BrowserError on error."""
        self._next += 1
        msg = {"id": self._next, "method": method, "params": params or {}}
        if self.session and not browser_level and not method.startswith(("Target.", "Browser.")):
            msg["sessionId"] = self.session
        try:
            os.write(self._to_child, json.dumps(msg).encode() + b"\0")
        except BrokenPipeError:
            raise BrowserError("chromium is gone (%s)" % method)
        deadline = time.monotonic() + timeout
        while True:
            while b"\0" in self._buf:
                raw, self._buf = self._buf.split(b"\0", 1)
                answer = json.loads(raw)
                if answer.get("id") == self._next:
                    if "error" in answer:
                        raise BrowserError("%s: %s" % (method, answer["error"]))
                    return answer.get("result", {})
                if "method" in answer:
                    self.events.append(answer)
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("no answer to %s in %d s" % (method, timeout))
            ready, _, _ = select.select([self._from_child], [], [], left)
            if ready:
                chunk = os.read(self._from_child, 1 << 16)
                if not chunk:
                    raise BrowserError("chromium closed its pipe (%s)" % method)
                self._buf += chunk

    # ---- the page ----

    def goto(self, url):
        """Loads url and waits until its document is complete."""
        self.call("Page.navigate", {"url": url})
        self.wait("document.readyState === 'complete'", what="the page to load")

    def eval(self, expression, timeout=30):
        """The value of a JavaScript expression in the page (promises awaited)."""
        r = self.call(
            "Runtime.evaluate",
            {"expression": expression, "returnByValue": True, "awaitPromise": True},
            timeout=timeout,
        )
        if "exceptionDetails" in r:
            d = r["exceptionDetails"]
            text = d.get("exception", {}).get("description") or d.get("text")
            raise BrowserError("page script failed: %s\n  in: %s" % (text, expression))
        return r["result"].get("value")

    def click(self, selector):
        """A real mouse click (pressed and released) at the middle of the element."""
        box = self.eval(
            "(e => { if (!e) return null; e.scrollIntoView({block: 'center'});"
            " const r = e.getBoundingClientRect();"
            " return [r.x + r.width / 2, r.y + r.height / 2, r.width * r.height]; })"
            "(document.querySelector(%s))" % json.dumps(selector)
        )
        if not box:
            raise BrowserError("nothing to click: %s" % selector)
        if box[2] <= 0:
            raise BrowserError("%s is not displayed" % selector)
        for kind in ("mouseMoved", "mousePressed", "mouseReleased"):
            self.call(
                "Input.dispatchMouseEvent",
                {"type": kind, "x": box[0], "y": box[1], "button": "left", "clickCount": 1},
            )

    def fill(self, selector, text):
        """Focuses the field, selects what it holds and types text over it."""
        if not self.eval(
            "(e => { if (!e) return false; e.focus(); if (e.select) e.select(); return true; })"
            "(document.querySelector(%s))" % json.dumps(selector)
        ):
            raise BrowserError("no field %s" % selector)
        if text:
            self.call("Input.insertText", {"text": text})
        else:
            self.key("Delete", 46)

    def key(self, name, code, shift=False):
        """Presses and releases one key (Tab 9, Enter 13, ...)."""
        mods = 8 if shift else 0
        base = {"key": name, "code": name, "windowsVirtualKeyCode": code, "modifiers": mods}
        down = dict(base, type="keyDown")
        if name == "Enter":
            down["text"] = "\r"
        self.call("Input.dispatchKeyEvent", down)
        self.call("Input.dispatchKeyEvent", dict(base, type="keyUp"))

    def viewport(self, width, height, scale=1, mobile=False):
        """The page's CSS viewport; scale 2 at half the width is a 200% zoom."""
        self.call(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": scale, "mobile": mobile},
        )

    def reset_viewport(self):
        """Back to the window's own size and scale."""
        self.call("Emulation.clearDeviceMetricsOverride")

    def screenshot(self, path, full_page=True):
        """Saves a PNG of the page (the whole document when full_page)."""
        params = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            m = self.call("Page.getLayoutMetrics")["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": m["width"], "height": m["height"], "scale": 1}
        data = self.call("Page.captureScreenshot", params)["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.call("Browser.close", timeout=5)
        except BrowserError:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        os.close(self._to_child)
        os.close(self._from_child)
        shutil.rmtree(self.profile, ignore_errors=True)
