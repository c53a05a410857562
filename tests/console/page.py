"""What the console test asks of a page, in terms of one eval (a JavaScript
expression's value in the page): shared by the Chromium driver (cdp.py) and the
Firefox one (marionette.py), which differ only in how they reach the browser.
"""

import json
import time


class BrowserError(Exception):
    """The browser answered with an error, died, or did not answer in time."""


class Page:
    """Page-level helpers over self.eval(expression)."""

    def eval(self, expression):  # pragma: no cover - each driver has its own
        raise NotImplementedError

    def wait(self, expression, timeout=20, what=None):
        """Polls expression until it is truthy; its value, or BrowserError after timeout s."""
        deadline = time.monotonic() + timeout
        while True:
            value = self.eval(expression)
            if value:
                return value
            if time.monotonic() > deadline:
                raise BrowserError("waited %d s for %s" % (timeout, what or expression))
            time.sleep(0.1)

    def exists(self, selector):
        return self.eval("document.querySelector(%s) !== null" % json.dumps(selector))

    def text(self, selector):
        """The visible text of the first element matching selector (BrowserError if none)."""
        value = self.eval("(e => e ? e.innerText : null)(document.querySelector(%s))" % json.dumps(selector))
        if value is None:
            raise BrowserError("no element %s" % selector)
        return value

    def select_option(self, selector, value):
        """Chooses the option of a select by value, as a user would (change event)."""
        if not self.eval(
            "(e => { if (!e) return false; e.focus(); e.value = %s;"
            " e.dispatchEvent(new Event('change', {bubbles: true})); return e.value === %s; })"
            "(document.querySelector(%s))" % (json.dumps(value), json.dumps(value), json.dumps(selector))
        ):
            raise BrowserError("no option %s in %s" % (value, selector))
