"""The newcomer's crawl: log in as each role of the demo and visit what a person can click.

For each role: every sidebar link, then every same-site link found on those pages, one level below (GET only,
bounded: at most a few addresses of each shape, so 300 account pages count as a few). A page fails on a status of
400 or more (403 is expected where a role may not go), a console error (CSP violations included), a failed
request, a framework debug page, an HTMX request that errors, or — on the pages whose point is a figure — missing
main numbers. Prints pages visited per role and exits 1 listing every failure.

    python .ci/crawl.py http://127.0.0.1:8000 --login admin:PASSWORD --login csm.ana:PASSWORD …
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from urllib.parse import urljoin, urlsplit

from playwright.sync_api import Page, sync_playwright

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking"]
# Never followed: they change state, download files or leave the product.
SKIP = re.compile(r"/logout|/admin/.+|\.(csv|png|json|yaml|zip)$|/export|/download|/api/schema|/static/|/media/")
DEBUG_PAGE_MARKERS = ("Traceback (most recent call last)", "Using the URLconf", "You're seeing this error because")
# Pages whose point is their figures: a selector that must match elements showing a number.
MAIN_NUMBERS = {
    r"^/dashboard/$": ".kpi-value",
    r"^/accounts/\d+/$": ".header-facts dd",
}
PER_SHAPE = 2  # addresses of one shape (digits replaced) visited per role
MAX_PAGES = 80  # per role


def shape(path: str) -> str:
    return re.sub(r"\d+", "N", path)


class Crawler:
    def __init__(self, base: str, page: Page, role: str):
        self.base, self.page, self.role = base.rstrip("/"), page, role
        self.failures: list[str] = []
        self.visited: list[str] = []
        self.shapes: Counter[str] = Counter()
        self._current = ""
        page.on("console", self._on_console)
        page.on("requestfailed", self._on_request_failed)
        page.on("response", self._on_response)

    def _fail(self, message: str) -> None:
        self.failures.append(f"[{self.role}] {self._current}: {message}")

    def _on_console(self, message) -> None:
        if message.type == "error":
            self._fail(f"console error: {message.text[:300]}")

    def _on_request_failed(self, request) -> None:
        error = request.failure or ""
        if "ERR_ABORTED" in error:  # a navigation that replaced a pending request: not a fault
            return
        self._fail(f"request failed: {request.method} {request.url} ({error})")

    def _on_response(self, response) -> None:
        request = response.request
        if request.headers.get("hx-request") and response.status >= 400 and response.status != 403:
            self._fail(f"HTMX partial {request.url} answered {response.status}")
        elif request.resource_type in ("stylesheet", "script", "image", "font") and response.status >= 400:
            self._fail(f"{request.resource_type} {request.url} answered {response.status}")

    def login(self, username: str, password: str) -> None:
        self._current = "/login/"
        self.page.goto(f"{self.base}/login/")
        self.page.fill("input[name=username]", username)
        self.page.fill("input[name=password]", password)
        self.page.click("button[type=submit], input[type=submit]")
        self.page.wait_for_load_state("networkidle")
        if urlsplit(self.page.url).path.startswith("/login"):
            self._fail(f"could not log in as {username}")
            raise SystemExit(f"[{self.role}] login failed for {username}")

    def links(self) -> list[str]:
        hrefs = self.page.eval_on_selector_all("a[href]:not([download])", "els => els.map(e => e.getAttribute('href'))")
        found = []
        for href in hrefs:
            url = urljoin(self.page.url, href)
            parts = urlsplit(url)
            if parts.netloc != urlsplit(self.base).netloc or not parts.path.startswith("/"):
                continue
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if not SKIP.search(parts.path) and path not in found:
                found.append(path)
        return found

    def sidebar(self) -> list[str]:
        self.page.goto(f"{self.base}/")
        hrefs = self.page.eval_on_selector_all("nav.sidebar a[href]", "els => els.map(e => e.getAttribute('href'))")
        return [h for h in dict.fromkeys(hrefs) if h.startswith("/") and not SKIP.search(h)]

    def visit(self, path: str) -> list[str]:
        """Open one page; returns its same-site links (empty when the page failed)."""
        if path in self.visited or len(self.visited) >= MAX_PAGES:
            return []
        key = shape(urlsplit(path).path)
        if self.shapes[key] >= PER_SHAPE:
            return []
        self.shapes[key] += 1
        self.visited.append(path)
        self._current = path
        response = self.page.goto(f"{self.base}{path}")
        try:
            self.page.wait_for_load_state("networkidle", timeout=15000)
        except Exception:  # noqa: BLE001 — a page that keeps polling is still checked
            pass
        status = response.status if response else 0
        if status >= 400 and status != 403:
            self._fail(f"status {status}")
            return []
        html = self.page.content()
        for marker in DEBUG_PAGE_MARKERS:
            if marker in html:
                self._fail(f"debug page ({marker!r})")
        if status == 403:
            return []
        htmx_errors = self.page.evaluate("window.__htmxErrors || []")
        for error in htmx_errors:
            self._fail(f"HTMX error: {error}")
        for pattern, selector in MAIN_NUMBERS.items():
            if re.search(pattern, urlsplit(path).path):
                texts = self.page.eval_on_selector_all(selector, "els => els.map(e => e.innerText.trim())")
                if not texts or not any(re.search(r"\d", t) for t in texts):
                    self._fail(f"main numbers missing ({selector} shows {texts[:5]})")
        return self.links()


HTMX_ERRORS_SCRIPT = """
window.__htmxErrors = [];
for (const name of ["htmx:responseError", "htmx:sendError", "htmx:swapError", "htmx:targetError"]) {
  document.addEventListener(name, (e) => {
    const path = (e.detail && e.detail.pathInfo && e.detail.pathInfo.requestPath) || "";
    const status = (e.detail && e.detail.xhr && e.detail.xhr.status) || "";
    if (status !== 403) window.__htmxErrors.push(`${name} ${path} ${status}`);
  });
}
"""


def crawl_role(browser, base: str, role: str, username: str, password: str) -> Crawler:
    context = browser.new_context(viewport={"width": 1366, "height": 900})
    context.add_init_script(HTMX_ERRORS_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(30000)
    crawler = Crawler(base, page, role)
    crawler.login(username, password)
    first_level = crawler.sidebar()
    below: list[str] = []
    for path in first_level:
        for link in crawler.visit(path):
            if link not in first_level and link not in below:
                below.append(link)
    for path in below:
        crawler.visit(path)
    context.close()
    return crawler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base")
    parser.add_argument("--login", action="append", required=True, help="role=username:password")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    failures: list[str] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=args.chromium, args=CHROMIUM_ARGS)
        for spec in args.login:
            role, credentials = spec.split("=", 1)
            username, password = credentials.split(":", 1)
            started = time.monotonic()
            crawler = crawl_role(browser, args.base, role, username, password)
            print(
                f"{role:<8} {len(crawler.visited):>4} pages in {time.monotonic() - started:5.0f} s, "
                f"{len(crawler.failures)} failure(s)",
                flush=True,
            )
            failures += crawler.failures
        browser.close()
    for failure in failures:
        print(f"FAIL {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
