"""How big the reader snippet is, and what it costs a page, in Debian's Chromium.

    python bench/snippet.py [--runs 20] [--chromium /usr/bin/chromium] [--quick] [--json]

Prints the gzipped sizes of the loader (static/js/feedback.js), of the dialog chunk and of
its language chunks against their budgets, then, over loopback only (a throwaway static
server on 127.0.0.1), medians and 90th percentiles of:

- evaluating the loader at load: a synchronous tag between two performance marks, from the
  HTTP cache, less the same measure for an empty script;
- the page's load event with the real async tag, against the same page without it, and
  the longest task during load with and without it;
- Ctrl+Enter, pressed on the keyboard right after selecting a word of a ~1 MB news page, to
  the first frame showing the dialog: a fresh page view each run, so each is a first open
  (the dialog chunk comes from the HTTP cache, as on a reader's second article).

Exits 1 when a file is over budget or the median open takes 100 ms or more.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import statistics
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

JS = Path(__file__).resolve().parent.parent / "static" / "js"
LOADER = JS / "feedback.js"
# Budgets, gzip -9 (also checked on the committed files by tests/js/build.test.mjs).
LOADER_BUDGET = 2560
DIALOG_BUDGET = 12288
OPEN_TARGET_MS = 100.0
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

PARAGRAPH = (
    "<p>The harbour board said the repairs had cost £184,000, well above the £120,000 set "
    "aside in the autumn. Most of the difference went on a replacement shaft made to order "
    "in Rotterdam, after the original supplier had closed its workshop.</p>\n"
)
TEASER = (
    "<article class='teaser'><a href='/news/{i}'><img alt='' src='data:,'>"
    "<h3>Council weighs new bus lanes on the ring road, part {i}</h3></a>"
    "<p>Residents asked for more crossings near the schools.</p></article>\n"
)


def dialog_chunk() -> Path:
    [chunk] = JS.glob("feedback-dialog.*[0-9a-f].js")
    return chunk


def page(tag: str, paragraphs: int = 8) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Bench</title>"
        f"{tag}</head><body><main><article><h1>Ferry returns</h1>"
        f"{PARAGRAPH * paragraphs}</article></main></body></html>"
    )


def news_page(tag: str) -> str:
    """About 1 MB, shaped like a big news site's article page: a menu of teaser articles,
    a large inline data script, the story, then related links and a long footer."""
    state = json.dumps({"items": [{"id": i, "headline": "Bus lanes " * 8} for i in range(6000)]})
    menu = "".join(TEASER.format(i=i) for i in range(800))
    related = "".join(
        f"<li><a href='/r/{i}'>Related story number {i}</a></li>" for i in range(2000)
    )
    story = "".join(PARAGRAPH for _ in range(200))
    html = (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Ferry returns</title>"
        f"<meta name='viewport' content='width=device-width, initial-scale=1'>{tag}</head>"
        f"<body><header><nav>{menu}</nav></header>"
        f"<script>window.__STATE__ = {state};</script>"
        f"<main><article id='story'><h1>Ferry returns</h1>{story}</article>"
        f"<aside><ul>{related}</ul></aside></main>"
        f"<footer>{'<p>Contact us · Advertise · Privacy · Terms</p>' * 300}</footer></body></html>"
    )
    return html


def sync_tag(src: str) -> str:
    """A blocking tag between two marks: the gap is fetching (from cache) and running it."""
    return (
        "<script>performance.mark('before')</script>"
        f"<script src='{src}' data-site='bench'></script>"
        "<script>performance.mark('after')</script>"
    )


# Long tasks during load, seen from the page's first script on.
WATCH_LONG_TASKS = (
    "<script>window.__long = [];"
    "new PerformanceObserver((list) => window.__long.push(...list.getEntries().map("
    "(e) => e.duration))).observe({type: 'longtask', buffered: true});</script>"
)
ASYNC_TAG = "<script src='/feedback.js' data-site='bench' async></script>"
PAGES = {
    "/sync-snippet": page(sync_tag("/feedback.js")),
    "/sync-empty": page(sync_tag("/empty.js")),
    "/async-snippet": page(WATCH_LONG_TASKS + ASYNC_TAG),
    "/without": page(WATCH_LONG_TASKS),
    "/news": news_page(ASYNC_TAG),
}


def gzipped_size(path: Path) -> int:
    """The size as the budget defines it: gzip level 9."""
    return len(gzip.compress(path.read_bytes(), 9, mtime=0))


@contextmanager
def static_server():
    """Serve the bench pages and the snippet on 127.0.0.1; yields the base URL."""
    scripts = {f"/{path.name}": path.read_bytes() for path in JS.glob("feedback*.js")}

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # the name http.server calls
            path = self.path.split("?")[0]
            if path in PAGES:
                self.answer(PAGES[path].encode(), "text/html; charset=utf-8", cache=False)
            elif path in scripts:
                self.answer(scripts[path], "text/javascript; charset=utf-8", cache=True)
            elif path == "/empty.js":
                self.answer(b"", "text/javascript", cache=True)
            else:
                self.send_error(404)

        def answer(self, body: bytes, content_type: str, *, cache: bool) -> None:
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "max-age=3600" if cache else "no-store")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def summary(samples: list[float]) -> str:
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered):7.2f} ms (p90 {p90:.2f})"


# From the keydown (its timestamp) to the first frame in which the dialog is open.
TIME_THE_OPEN = """() => {
    window.__opened = null;
    addEventListener('keydown', (event) => {
        const start = event.timeStamp;
        const look = () => {
            const host = [...document.documentElement.children].find((e) => e.shadowRoot);
            if (host && host.shadowRoot.querySelector('dialog[open]')) {
                window.__opened = performance.now() - start;
            } else requestAnimationFrame(look);
        };
        requestAnimationFrame(look);
    }, {capture: true, once: true});
}"""
SELECT_A_WORD = """() => {
    const p = document.querySelectorAll('#story p')[60].firstChild;
    p.parentElement.scrollIntoView({block: 'center'});
    getSelection().setBaseAndExtent(p, 4, p, 11);
}"""


def measure(base: str, chromium: str, runs: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    names = ("sync-snippet", "sync-empty", "async-snippet", "without", "long-with", "long-without")
    results: dict[str, list[float]] = {name: [] for name in (*names, "open")}
    marks = "performance.measure('gap', 'before', 'after').duration"
    load_time = "performance.getEntriesByType('navigation')[0].loadEventEnd"
    longest = "Math.max(0, ...window.__long)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        print(f"Chromium {browser.version}, {runs} runs, loopback only")
        context = browser.new_context()
        tab = context.new_page()
        for path in ("/sync-snippet", "/sync-empty"):  # warm the HTTP cache
            tab.goto(base + path)
        for _ in range(runs):
            for name in ("sync-snippet", "sync-empty"):
                tab.goto(f"{base}/{name}")
                results[name].append(tab.evaluate(marks))
            for name, long_name in (("async-snippet", "long-with"), ("without", "long-without")):
                tab.goto(f"{base}/{name}")
                tab.wait_for_load_state("load")
                tab.wait_for_timeout(50)  # let the observer report
                results[name].append(tab.evaluate(load_time))
                results[long_name].append(tab.evaluate(longest))
            tab.goto(f"{base}/news")
            tab.wait_for_function("window.ReaderFeedback")
            tab.evaluate(TIME_THE_OPEN)
            tab.evaluate(SELECT_A_WORD)
            tab.keyboard.press("Control+Enter")
            results["open"].append(tab.wait_for_function("window.__opened").json_value())
        browser.close()
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=20, help="page loads per measure (20)")
    parser.add_argument("--chromium", default="/usr/bin/chromium", help="Chromium binary")
    parser.add_argument("--quick", action="store_true", help="5 runs unless --runs is given")
    parser.add_argument("--json", action="store_true", help="print only one JSON object")
    args = parser.parse_args()
    if args.quick and "--runs" not in sys.argv[1:]:
        args.runs = 5
    if not args.json:
        return report(args)[0]
    # The human report goes to stderr; stdout gets only the JSON object (see bench/README.md).
    with contextlib.redirect_stdout(sys.stderr):
        status, result = report(args)
    print(json.dumps(result))
    return status


def report(args) -> tuple[int, dict]:
    """Measure and print; returns the exit status and the run_all.py result object."""
    runs = max(1, min(args.runs, 500))
    chunk = dialog_chunk()
    loader_size, dialog_size = gzipped_size(LOADER), gzipped_size(chunk)
    for path, size, budget in (
        (LOADER, loader_size, LOADER_BUDGET),
        (chunk, dialog_size, DIALOG_BUDGET),
    ):
        print(
            f"{path.name}: {path.stat().st_size:,} bytes, {size:,} gzipped (gzip -9): "
            f"{size / budget:.1%} of {budget:,}, {budget - size:,} to spare"
        )
    # Each language but English is a chunk fetched with the dialog: the two share its budget.
    languages = {
        path.name.split(".")[0][len("feedback-lang-") :]: gzipped_size(path)
        for path in sorted(JS.glob("feedback-lang-*.js"))
    }
    largest = max(languages.values(), default=0)
    if languages:
        print(
            f"language chunks ({len(languages)}): "
            + ", ".join(f"{lang} {size:,}" for lang, size in languages.items())
            + f" gzipped; with the dialog at most {dialog_size + largest:,}: "
            f"{(dialog_size + largest) / DIALOG_BUDGET:.1%} of {DIALOG_BUDGET:,}"
        )
    sizes_met = loader_size <= LOADER_BUDGET and dialog_size + largest <= DIALOG_BUDGET
    result = {
        "name": "snippet",
        "figure": f"loader {loader_size:,} B, dialog {dialog_size:,} B gzipped",
        "baseline": None,
        "ratio": None,
        "ratio_meaning": "load event with the async tag / without it (medians)",
        "target": (
            f"loader <= {LOADER_BUDGET:,} B, dialog <= {DIALOG_BUDGET:,} B gzipped; "
            f"Ctrl+Enter to dialog < {OPEN_TARGET_MS:.0f} ms median on a ~1 MB page"
        ),
        "met": sizes_met,
        "details": {
            "loader_gzipped": loader_size,
            "dialog_gzipped": dialog_size,
            "language_gzipped": languages,
            "runs": runs,
        },
    }
    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}: load and open times skipped")
        result["details"]["chromium"] = None
        return (0 if sizes_met else 1), result
    with static_server() as base:
        results = measure(base, args.chromium, runs)
    median = statistics.median
    evaluation = [
        a - b for a, b in zip(results["sync-snippet"], results["sync-empty"], strict=True)
    ]
    # Load times vary more from run to run than the snippet adds: compare the medians.
    added = median(results["async-snippet"]) - median(results["without"])
    news = len(PAGES["/news"].encode())
    print(f"  evaluating the loader at load    {summary(evaluation)}")
    print(f"  load event, with the async tag   {summary(results['async-snippet'])}")
    print(f"  load event, without it           {summary(results['without'])}")
    print(f"  difference of the medians        {added:7.2f} ms")
    print(f"  longest task at load, with tag   {summary(results['long-with'])}")
    print(f"  longest task at load, without    {summary(results['long-without'])}")
    print(f"  Ctrl+Enter to dialog, {news / 1e6:.2f} MB page {summary(results['open'])}")
    opened = median(results["open"])
    met = sizes_met and opened < OPEN_TARGET_MS
    print(f"target: < {OPEN_TARGET_MS:.0f} ms median: {'met' if met else 'NOT met'}")
    without = median(results["without"])
    result["met"] = met
    result["figure"] += (
        f"; evaluation {median(evaluation):.2f} ms; load event {added:+.2f} ms; "
        f"Ctrl+Enter to dialog {opened:.1f} ms on a {news / 1e6:.1f} MB page"
    )
    result["baseline"] = f"same page without the tag: load event {without:.1f} ms"
    result["ratio"] = round(median(results["async-snippet"]) / without, 3) if without else None
    result["details"].update(
        {
            "chromium": args.chromium,
            "evaluation_ms_median": round(median(evaluation), 3),
            "load_with_ms_median": round(median(results["async-snippet"]), 3),
            "load_without_ms_median": round(without, 3),
            "load_added_ms": round(added, 3),
            "longest_task_with_ms_median": round(median(results["long-with"]), 3),
            "longest_task_without_ms_median": round(median(results["long-without"]), 3),
            "open_ms_median": round(opened, 3),
            "news_page_bytes": news,
        }
    )
    return (0 if met else 1), result


if __name__ == "__main__":
    sys.exit(main())
