"""Headless Firefox driven over Marionette, its own remote protocol.

Firefox started with --marionette listens on a loopback port (set in the
throw-away profile's user.js) and speaks length-prefixed JSON: "LEN:" then a
JSON array, [0, id, command, params] from us and [1, id, error, result] back.
Python's standard library is enough; no geckodriver, nothing from npm. Every
call has a deadline, so a stuck browser fails the test instead of hanging it.
"""

import base64
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time


from page import BrowserError, Page


class MarionetteError(BrowserError):
    """Firefox answered with an error, died, or did not answer in time."""


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Firefox(Page):
    """One headless Firefox with one WebDriver session."""

    def __init__(self, binary="firefox-esr", width=1280, height=900, timeout=60):
        self.profile = tempfile.mkdtemp(prefix="seam-console-firefox-")
        port = _free_port()
        with open(os.path.join(self.profile, "user.js"), "w") as f:
            for name, value in (("marionette.port", port), ("browser.shell.checkDefaultBrowser", False),
                                ("datareporting.policy.dataSubmissionEnabled", False),
                                ("toolkit.telemetry.reportingpolicy.firstRun", False),
                                ("app.update.disabledForTesting", True),
                                ("browser.startup.homepage_override.mstone", "ignore"),
                                ("network.proxy.type", 0)):
                f.write("user_pref(%s, %s);\n" % (json.dumps(name), json.dumps(value)))
        env = dict(os.environ, MOZ_HEADLESS="1", MOZ_HEADLESS_WIDTH=str(width),
                   MOZ_HEADLESS_HEIGHT=str(height))
        self.log = open(os.path.join(self.profile, "firefox.log"), "w")
        self.proc = subprocess.Popen(
            [binary, "--headless", "--marionette", "-remote-allow-system-access", "--no-remote", "--profile", self.profile, "about:blank"],
            stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.sock, self.buf, self.next_id = None, b"", 1
        deadline = time.time() + timeout
        while self.sock is None:
            if self.proc.poll() is not None:
                raise MarionetteError("firefox exited with %d" % self.proc.returncode)
            try:
                self.sock = socket.create_connection(("127.0.0.1", port), timeout=2)
            except OSError:
                if time.time() > deadline:
                    self.close()
                    raise MarionetteError("firefox's Marionette did not listen within %d s" % timeout)
                time.sleep(0.2)
        self.sock.settimeout(timeout)
        hello = self._read()
        if hello.get("marionetteProtocol") != 3:
            raise MarionetteError("unexpected Marionette greeting %r" % hello)
        self.call("WebDriver:NewSession", {"capabilities": {"alwaysMatch": {"acceptInsecureCerts": False}}})

    def _read(self):
        while b":" not in self.buf:
            self._fill()
        head, _, rest = self.buf.partition(b":")
        n = int(head)
        self.buf = rest
        while len(self.buf) < n:
            self._fill()
        msg, self.buf = self.buf[:n], self.buf[n:]
        return json.loads(msg)

    def _fill(self):
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            raise MarionetteError("firefox did not answer in time")
        if not chunk:
            raise MarionetteError("firefox closed the connection")
        self.buf += chunk

    def call(self, command, params=None):
        """The result of one command; its error raised as MarionetteError."""
        mid = self.next_id
        self.next_id += 1
        data = json.dumps([0, mid, command, params or {}]).encode()
        self.sock.sendall(str(len(data)).encode() + b":" + data)
        while True:
            msg = self._read()
            if msg[0] == 1 and msg[1] == mid:
                if msg[2]:
                    raise MarionetteError("%s: %s" % (command, msg[2].get("message", msg[2])))
                return msg[3]

    def goto(self, url):
        """Loads url and waits until its document is complete."""
        self.call("WebDriver:Navigate", {"url": url})
        self.wait("document.readyState === 'complete'", what="the page to load")

    def eval(self, expression):
        """The value of a JavaScript expression in the page."""
        r = self.call("WebDriver:ExecuteScript", {"script": "return (%s);" % expression, "args": []})
        return r.get("value") if isinstance(r, dict) else r

    def close(self):
        try:
            if self.sock:
                try:
                    self.call("WebDriver:DeleteSession")
                except (MarionetteError, OSError):
                    pass
                self.sock.close()
        finally:
            if self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.log.close()
            shutil.rmtree(self.profile, ignore_errors=True)


ELEMENT = "element-6066-11e4-a52e-4f735466cecf"  # the WebDriver element reference key
KEYS = {"Tab": "\ue004", "Enter": "\ue007", "Delete": "\ue017"}


class Browser(Firefox):
    """The interface of cdp.Browser over Marionette, so console_test.py runs unchanged
    in Firefox: clicks, typing and keys go through WebDriver's input actions."""

    def _element(self, selector):
        r = self.call("WebDriver:FindElement", {"using": "css selector", "value": selector})
        return (r.get("value") or r)[ELEMENT]

    def click(self, selector):
        """WebDriver's element click: scrolled into view, a real pointer click at its middle."""
        self.call("WebDriver:ElementClick", {"id": self._element(selector)})

    def fill(self, selector, text):
        """Clears the field and types text; text longer than a line is set at once (with
        an input event), as a paste would, since typing 600 KiB key by key takes minutes."""
        el = self._element(selector)
        self.call("WebDriver:ElementClear", {"id": el})
        if len(text) <= 200:
            if text:
                self.call("WebDriver:ElementSendKeys", {"id": el, "text": text})
        else:
            self.eval("(e => { e.focus(); e.value = %s; e.dispatchEvent(new Event('input', {bubbles: true}));"
                      " return true; })(document.querySelector(%s))" % (json.dumps(text), json.dumps(selector)))

    def key(self, name, code=None, shift=False):
        """Presses and releases one key (Tab, Enter, Delete)."""
        del code, shift
        k = KEYS[name]
        self.call("WebDriver:PerformActions", {"actions": [
            {"type": "key", "id": "keyboard", "actions": [{"type": "keyDown", "value": k},
                                                          {"type": "keyUp", "value": k}]}]})
        self.call("WebDriver:ReleaseActions")

    def _zoom(self, zoom):
        """Firefox's own page zoom (View > Zoom) of the tab, as Ctrl + sets it."""
        self.call("Marionette:SetContext", {"value": "chrome"})
        try:
            self.call("WebDriver:ExecuteScript", {"script": "gBrowser.selectedBrowser.fullZoom = arguments[0];",
                                                  "args": [zoom]})
        finally:
            self.call("Marionette:SetContext", {"value": "content"})

    def viewport(self, width, height, scale=1, mobile=False):
        """A page width × height CSS pixels large. scale 2 is a 200% zoom (Firefox's page
        zoom on a window twice as large). Firefox's window is never narrower than 500
        pixels and it has no phone emulation outside its devtools, so a narrower page
        (a phone's 375) is the same page zoom to 200% on a window twice as wide."""
        del mobile
        zoom = scale if scale > 1 else (2 if width < 500 else 1)
        self._zoom(float(zoom))
        self.call("WebDriver:SetWindowRect", {"width": width * zoom, "height": height * zoom})
        self.wait("Math.abs(window.innerWidth - %d) <= 16" % width, what="a %d px wide page" % width)

    def reset_viewport(self):
        self._zoom(1.0)
        self.call("WebDriver:SetWindowRect", {"width": 1280, "height": 900})

    def screenshot(self, path, full_page=True):
        r = self.call("WebDriver:TakeScreenshot", {"full": full_page})
        with open(path, "wb") as f:
            f.write(base64.b64decode(r["value"] if isinstance(r, dict) else r))
