"""How big the reader snippet is, and what it costs a page, in Debian's Chromium.

    python bench/snippet.py [--runs 20] [--chromium /usr/bin/chromium] [--quick] [--json]

Prints the gzipped size against the 6 KB budget, then, over loopback only (a throwaway
static server on 127.0.0.1), medians and 90th percentiles of:

- evaluating the script at load: a synchronous tag between two performance marks, from the
  HTTP cache, less the same measure for an empty script;
- the page's load event with the real async tag, against the same page without it;
- the first open of the dialog, which builds it, and the reading of a long article's text.

Exits 1 when the snippet is over budget.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import shutil
import statistics
import subprocess
import sys
import threading
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SNIPPET = Path(__file__).resolve().parent.parent / "static" / "js" / "feedback.js"
BUDGET = 6144
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]

PARAGRAPH = (
    "<p>The harbour board said the repairs had cost £184,000, well above the £120,000 set "
    "aside in the autumn. Most of the difference went on a replacement shaft made to order "
    "in Rotterdam, after the original supplier had closed its workshop.</p>\n"
)


def page(tag: str, paragraphs: int = 8) -> str:
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Bench</title>"
        f"{tag}</head><body><main><article><h1>Ferry returns</h1>"
        f"{PARAGRAPH * paragraphs}</article></main></body></html>"
    )


def sync_tag(src: str) -> str:
    """A blocking tag between two marks: the gap is fetching (from cache) and running it."""
    return (
        "<script>performance.mark('before')</script>"
        f"<script src='{src}' data-site='bench'></script>"
        "<script>performance.mark('after')</script>"
    )


PAGES = {
    "/sync-snippet": page(sync_tag("/feedback.js")),
    "/sync-empty": page(sync_tag("/empty.js")),
    "/async-snippet": page("<script src='/feedback.js' data-site='bench' async></script>"),
    "/without": page(""),
    "/long": page("<script src='/feedback.js' data-site='bench' async></script>", 400),
}


def gzipped_size() -> tuple[int, str]:
    """The size as the budget defines it (gzip -9), or zlib's when gzip is missing."""
    if shutil.which("gzip"):
        output = subprocess.run(
            ["gzip", "-9", "-c", str(SNIPPET)], check=True, capture_output=True
        ).stdout
        return len(output), "gzip -9"
    return len(gzip.compress(SNIPPET.read_bytes(), 9)), "Python zlib level 9"


@contextmanager
def static_server():
    """Serve the bench pages and the snippet on 127.0.0.1; yields the base URL."""
    script = SNIPPET.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):  # the name http.server calls
            path = self.path.split("?")[0]
            if path in PAGES:
                self.answer(PAGES[path].encode(), "text/html; charset=utf-8", cache=False)
            elif path == "/feedback.js":
                self.answer(script, "text/javascript", cache=True)
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


def measure(base: str, chromium: str, runs: int) -> dict[str, list[float]]:
    from playwright.sync_api import sync_playwright

    results: dict[str, list[float]] = {
        name: []
        for name in (
            "sync-snippet",
            "sync-empty",
            "async-snippet",
            "without",
            "first-open",
            "long-text",
        )
    }
    marks = "performance.measure('gap', 'before', 'after').duration"
    load_time = "performance.getEntriesByType('navigation')[0].loadEventEnd"
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
            for name in ("async-snippet", "without"):
                tab.goto(f"{base}/{name}")
                tab.wait_for_load_state("load")
                results[name].append(tab.evaluate(load_time))
            tab.goto(f"{base}/async-snippet")
            tab.wait_for_function("window.ReaderFeedback")
            results["first-open"].append(
                tab.evaluate(
                    "() => { const t = performance.now(); ReaderFeedback.open();"
                    " return performance.now() - t; }"
                )
            )
            tab.goto(f"{base}/long")
            tab.wait_for_function("window.ReaderFeedback")
            results["long-text"].append(
                tab.evaluate(
                    """() => {
                        const p = document.querySelectorAll('article p')[390].firstChild;
                        getSelection().setBaseAndExtent(p, 4, p, 11);
                        const t = performance.now();
                        ReaderFeedback.open();
                        return performance.now() - t;
                    }"""
                )
            )
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

    size, how = gzipped_size()
    raw = SNIPPET.stat().st_size
    print(f"{SNIPPET.name}: {raw:,} bytes, {size:,} gzipped ({how})")
    print(f"budget: {size / BUDGET:.1%} of {BUDGET:,} bytes, {BUDGET - size:,} to spare")
    result = {
        "name": "snippet",
        "figure": f"{size:,} bytes gzipped",
        "baseline": None,
        "ratio": None,
        "ratio_meaning": "load event with the async tag / without it (medians)",
        "target": f"< {BUDGET:,} bytes gzipped (docs/snippet.md)",
        "met": size < BUDGET,
        "details": {"raw_bytes": raw, "gzipped_bytes": size, "gzip": how, "runs": runs},
    }

    if not Path(args.chromium).exists():
        print(f"no Chromium at {args.chromium}: load times skipped")
        result["details"]["chromium"] = None
        return (0 if size < BUDGET else 1), result
    with static_server() as base:
        results = measure(base, args.chromium, runs)
    evaluation = [
        a - b for a, b in zip(results["sync-snippet"], results["sync-empty"], strict=True)
    ]
    # Load times vary more from run to run than the snippet adds: compare the medians.
    added = statistics.median(results["async-snippet"]) - statistics.median(results["without"])
    article = f"{len(PARAGRAPH) * 400:,}-character article"
    print(f"  evaluating the script at load    {summary(evaluation)}")
    print(f"  load event, with the async tag   {summary(results['async-snippet'])}")
    print(f"  load event, without it           {summary(results['without'])}")
    print(f"  difference of the medians        {added:7.2f} ms")
    print(f"  first open (builds the dialog)   {summary(results['first-open'])}")
    print(f"  open on a {article} {summary(results['long-text'])}")
    median = statistics.median
    result["figure"] = (
        f"{size:,} B gzipped; evaluation {median(evaluation):.2f} ms; "
        f"load event {added:+.2f} ms; first open {median(results['first-open']):.1f} ms"
    )
    without = median(results["without"])
    result["baseline"] = f"same page without the tag: load event {without:.1f} ms"
    result["ratio"] = round(median(results["async-snippet"]) / without, 3) if without else None
    result["details"].update(
        {
            "chromium": args.chromium,
            "evaluation_ms_median": round(median(evaluation), 3),
            "load_with_ms_median": round(median(results["async-snippet"]), 3),
            "load_without_ms_median": round(without, 3),
            "load_added_ms": round(added, 3),
            "first_open_ms_median": round(median(results["first-open"]), 3),
            "long_text_open_ms_median": round(median(results["long-text"]), 3),
        }
    )
    return (0 if size < BUDGET else 1), result


if __name__ == "__main__":
    sys.exit(main())
