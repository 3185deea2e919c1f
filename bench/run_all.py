"""Run every benchmark and write the results table into bench/README.md.

    .venv/bin/python bench/run_all.py [--quick] [--only NAME ...] [--timeout SECONDS]
        [--no-write]

Runs each script of BENCHMARKS that exists, one after another, as
``<python> bench/<name>.py --json [--quick]`` in its own process (and process group) with a
timeout, reads the one JSON object it prints, and replaces the part of bench/README.md
between ``<!-- results:start -->`` and ``<!-- results:end -->`` with a Markdown table and
the machine it ran on. A script that fails, prints no JSON or runs out of time gets a row
saying so (with the last line of its stderr), and run_all exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
README = BENCH / "README.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
BENCHMARKS = [
    "snippet",
    "reanchor",
    "grouping",
    "ingest",
    "refusals",
    "queue",
    "digests",
    "mail",
    "signin_timing",
]
# Seconds per script: full runs of the digests (10,000 members) take several minutes.
TIMEOUTS = {"full": 2400, "quick": 240}
PG_DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


# --- the machine ------------------------------------------------------------------------------


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def machine() -> dict[str, str]:
    cpu = re.search(r"^model name\s*:\s*(.+)$", _read("/proc/cpuinfo"), re.MULTILINE)
    memory = re.search(r"^MemTotal:\s*(\d+) kB", _read("/proc/meminfo"), re.MULTILINE)
    os_name = re.search(r'^PRETTY_NAME="?([^"\n]+)"?', _read("/etc/os-release"), re.MULTILINE)
    info = {
        "CPU": cpu.group(1).strip() if cpu else platform.processor() or "unknown",
        "cores": str(os.cpu_count() or "unknown"),
        "RAM": f"{int(memory.group(1)) / 1024 / 1024:.1f} GiB" if memory else "unknown",
        "OS": f"{os_name.group(1) if os_name else platform.system()} (kernel {platform.release()})",
        "Python": platform.python_version(),
        "PostgreSQL": postgres_version(),
        "Chromium": chromium_version(),
    }
    return info


def postgres_version() -> str:
    try:
        import psycopg

        with psycopg.connect(PG_DSN, connect_timeout=5) as conn:
            return conn.execute("SELECT version()").fetchone()[0]
    except Exception as error:  # reported in the table instead
        return f"unavailable ({type(error).__name__})"


def chromium_version() -> str:
    for binary in ("/usr/bin/chromium", "/usr/bin/chromium-browser"):
        if Path(binary).exists():
            try:
                done = subprocess.run(
                    [binary, "--version"], capture_output=True, text=True, timeout=30
                )
                return done.stdout.strip() or done.stderr.strip().splitlines()[-1]
            except (OSError, subprocess.SubprocessError, IndexError):
                return f"{binary} (version unknown)"
    return "not installed"


# --- running one benchmark --------------------------------------------------------------------


def last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def parse_result(stdout: str) -> dict | None:
    """The JSON object on stdout (the last line that parses, if anything else slipped in)."""
    for line in reversed(stdout.strip().splitlines()):
        line = line.strip()
        if line.startswith("{"):
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(value, dict):
                return value
    return None


def run_one(name: str, quick: bool, timeout: float) -> dict:
    command = [sys.executable, str(BENCH / f"{name}.py"), "--json"]
    if quick:
        command.append("--quick")
    print(f"== {name}: {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        # Own process group, so a timeout stops the script and everything it started.
        proc = subprocess.Popen(
            command, cwd=BENCH.parent, stdout=out, stderr=err, start_new_session=True
        )
        timed_out = False
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            stop(proc)
        except BaseException:  # Ctrl+C, or SIGTERM turned into SystemExit below
            stop(proc)
            raise
        out.seek(0)
        err.seek(0)
        stdout = out.read().decode(errors="replace")
        stderr = err.read().decode(errors="replace")
    elapsed = time.monotonic() - started
    result = None if timed_out else parse_result(stdout)
    if timed_out:
        failure = f"timed out after {timeout:.0f} s; {last_line(stderr)}".rstrip("; ")
    elif result is None:
        failure = f"exit {proc.returncode}, no JSON; {last_line(stderr) or last_line(stdout)}"
    else:
        failure = None
    if failure:
        print(f"   FAILED: {failure}", flush=True)
        return {"name": name, "failed": failure, "seconds": elapsed}
    result.setdefault("name", name)
    result["seconds"] = elapsed
    result["exit_status"] = proc.returncode
    print(f"   {result.get('figure')} (met: {result.get('met')}, {elapsed:.0f} s)", flush=True)
    print(f"   details: {json.dumps(result.get('details'), default=str)}", flush=True)
    return result


def stop(proc: subprocess.Popen) -> None:
    """SIGTERM the script's process group (it cleans up), then SIGKILL if it lingers."""
    for sig, grace in ((signal.SIGTERM, 30), (signal.SIGKILL, 10)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


# --- the table --------------------------------------------------------------------------------


def cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "**no**"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def table(results: list[dict], info: dict[str, str], quick: bool, started: datetime) -> str:
    rows = [
        "| benchmark | figure | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|",
    ]
    for result in results:
        if "failed" in result:
            rows.append(
                f"| {cell(result['name'])} | **failed**: {cell(result['failed'])} "
                "| - | - | - | **no** |"
            )
            continue
        ratio = cell(result.get("ratio"))
        if result.get("ratio") is not None and result.get("ratio_meaning"):
            ratio += f" ({cell(result['ratio_meaning'])})"
        rows.append(
            "| "
            + " | ".join(
                [
                    cell(result.get("name")),
                    cell(result.get("figure")),
                    cell(result.get("baseline")),
                    ratio,
                    cell(result.get("target")),
                    cell(result.get("met")),
                ]
            )
            + " |"
        )
    kind = "quick runs (`--quick`, small sizes: smoke test only)" if quick else "full runs"
    lines = [
        START,
        "",
        f"Last run: {started:%Y-%m-%d %H:%M} UTC, {kind}, "
        f"`{' '.join(['.venv/bin/python', 'bench/run_all.py', *sys.argv[1:]])}`.",
        "",
        *rows,
        "",
        "Machine:",
        "",
        *[f"- {key}: {cell(value)}" for key, value in info.items()],
        "",
        END,
    ]
    return "\n".join(lines)


def write_readme(section: str) -> None:
    empty = f"# Benchmarks\n\n## Results\n\n{START}\n{END}\n"
    text = README.read_text() if README.exists() else empty
    if START in text and END in text and text.index(START) < text.index(END):
        before = text[: text.index(START)]
        after = text[text.index(END) + len(END) :]
        text = before + section + after
    else:
        text = text.rstrip("\n") + "\n\n## Results\n\n" + section + "\n"
    README.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="pass --quick to every script")
    parser.add_argument("--only", nargs="+", metavar="NAME", help="run only these")
    parser.add_argument("--timeout", type=float, help="seconds per script (full 2400, quick 240)")
    parser.add_argument("--no-write", action="store_true", help="do not touch bench/README.md")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda signum, _frame: sys.exit(128 + signum))
    timeout = args.timeout or TIMEOUTS["quick" if args.quick else "full"]
    names = [name for name in BENCHMARKS if not args.only or name in args.only]
    unknown = set(args.only or []) - set(BENCHMARKS)
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(sorted(unknown))}")
    started = datetime.now(UTC)
    results = []
    for name in names:
        if not (BENCH / f"{name}.py").exists():
            print(f"== {name}: bench/{name}.py does not exist yet, skipped", flush=True)
            continue
        results.append(run_one(name, args.quick, timeout))
    info = machine()
    section = table(results, info, args.quick, started)
    if args.no_write:
        print(section)
    else:
        write_readme(section)
        print(f"wrote {README.relative_to(BENCH.parent)}")
    failed = [r["name"] for r in results if "failed" in r]
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
