"""The `journey-atlas` command: schema, demo data, import/export and the dashboard server."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from sqlalchemy import Engine

from dashboard.settings import DATABASE_URL_SETTING, Settings, get_settings, is_local_host
from data_access.db import make_engine, upgrade_schema
from data_access.faults import describe_fault, shown_url
from data_access.writers import CLI_WRITER

APP = Path(__file__).with_name("app.py")

Command = Callable[[argparse.Namespace, Settings], int]


def _engine(settings: Settings) -> Engine:
    engine = make_engine(settings.database_url)
    upgrade_schema(engine)
    return engine


def cmd_init(_args: argparse.Namespace, settings: Settings) -> int:
    _engine(settings)
    print(f"Schema is current in {shown_url(settings.database_url)}")
    return 0


def cmd_demo(args: argparse.Namespace, settings: Settings) -> int:
    from data_access.demo import load_demo

    summary = load_demo(_engine(settings), events=args.events, seed=args.seed)
    print(summary)
    return 0


STOP_SECONDS = 10


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def server_command(host: str, port: int) -> list[str]:
    """Streamlit as a service: headless (no e-mail prompt, no browser), no usage statistics, no file watcher,
    and a server address set so that it prints one URL instead of looking up the machine's external IP.

    `dashboard.server` is `streamlit run` plus a warm-up of the default views once the server is up."""
    shown = "localhost" if host in ("0.0.0.0", "::", "") else host
    return [
        sys.executable, "-m", "dashboard.server", str(APP),
        "--server.address", host,
        "--server.port", str(port),
        "--server.headless", "true",
        "--server.showEmailPrompt", "false",
        "--server.fileWatcherType", "none",
        "--server.runOnSave", "false",
        "--browser.gatherUsageStats", "false",
        "--browser.serverAddress", shown,
        "--browser.serverPort", str(port),
        "--global.developmentMode", "false",
    ]  # fmt: skip


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """On Linux, the server gets SIGTERM if `journey-atlas serve` itself is killed (even with SIGKILL)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def run_server(command: list[str], *, env: dict[str, str], cwd: Path | None) -> int:
    """Run the server until it ends; SIGTERM and SIGINT are passed on to it, and it gets STOP_SECONDS to stop.

    The server runs in its own session, so Ctrl-C in a terminal reaches it once (through here), not twice.
    Stopped by a signal, the command ends with status 0: that is how a service is meant to stop.
    """
    child = subprocess.Popen(
        command,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    stopping: list[int] = []

    def forward(signum: int, _frame: object) -> None:
        if not stopping:
            _say(f"journey-atlas: stopping the dashboard ({signal.Signals(signum).name})…")
        stopping.append(signum)
        with contextlib.suppress(ProcessLookupError):
            child.send_signal(signal.SIGTERM if len(stopping) == 1 else signal.SIGKILL)

    previous = {signum: signal.signal(signum, forward) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        while True:
            try:
                status = child.wait(timeout=STOP_SECONDS if stopping else None)
                break
            except subprocess.TimeoutExpired:
                child.kill()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if stopping:
        _say("journey-atlas: the dashboard has stopped.")
        return 0
    return status


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Bring the schema up to date and fill an empty database with the demo, then start Streamlit.

    Both happen here, before the server starts, so that no visitor's first request waits for them.
    """
    from data_access.demo import ensure_demo
    from data_access.experience_map.queries import journeys
    from data_access.importing.workdir import remove_abandoned_folders

    host = args.host or settings.host
    port = args.port or settings.port
    removed, freed = remove_abandoned_folders()
    if removed:
        _say(f"journey-atlas: removed {removed} temporary folder(s) of interrupted imports ({freed / 2**20:,.0f} MB).")
    engine = make_engine(settings.database_url)
    _say(f"journey-atlas: bringing the schema up to date in {engine.url.render_as_string(hide_password=True)}…")
    upgrade_schema(engine)
    with engine.connect() as connection:
        empty = journeys(connection).is_empty()
    if empty:
        _say(
            f"journey-atlas: the database is empty: generating the demo company ({settings.demo_events:,} events) "
            "before the dashboard starts…"
        )
        ensure_demo(engine, events=settings.demo_events, seed=settings.demo_seed)
        _say("journey-atlas: the demo company is ready.")
    if not is_local_host(host):
        writers = (
            "editors who enter ATLAS_EDITOR_PASSPHRASE"
            if settings.editor_passphrase is not None
            else "editors named in ATLAS_EDITOR_EMAILS when a login is configured ([auth] in "
            ".streamlit/secrets.toml); without one the dashboard is read-only"
        )
        _say(
            f"journey-atlas: warning: listening on {host}, not only on this machine: anyone who can reach it can "
            f"view the dashboard; only {writers}. Put it behind TLS and a login (see SECURITY.md)."
        )
    _say(f"journey-atlas: starting the dashboard on http://{host}:{port} (health: /_stcore/health)…")
    # The server runs from the project folder so it finds .streamlit/config.toml (the theme); the database
    # URL is handed over resolved, so a relative SQLite path still means the file just filled.
    # ATLAS_HOST tells the app where it listens: with no login or passphrase, writes need this machine only
    env = os.environ | {"ATLAS_DATABASE_URL": engine.url.render_as_string(hide_password=False), "ATLAS_HOST": host}
    cwd = APP.parent.parent if (APP.parent.parent / ".streamlit").is_dir() else None
    return run_server(server_command(host, port), env=env, cwd=cwd)


def cmd_export_map(args: argparse.Namespace, settings: Settings) -> int:
    from data_access.db import session_scope
    from data_access.mapfile import export_map

    with session_scope(_engine(settings)) as session:
        text = export_map(session)
    if args.output is None:
        sys.stdout.write(text)
        return 0
    try:
        Path(args.output).write_text(text, encoding="utf-8")
    except OSError as exc:
        reason = exc.strerror or str(exc)
        error_line(f"cannot write the map to {args.output}: {reason}")
        return 2
    print(f"Map written to {args.output}", file=sys.stderr)
    return 0


def cmd_import_map(args: argparse.Namespace, settings: Settings) -> int:
    from data_access.db import session_scope
    from data_access.mapfile import MapFileError, import_map

    try:
        text = Path(args.file).read_text(encoding="utf-8")
        with session_scope(_engine(settings)) as session:
            summary = import_map(session, text, source=args.file, written_by=CLI_WRITER)
    except (MapFileError, OSError, UnicodeDecodeError) as exc:
        error_line(str(exc))
        return 2
    print(summary)
    return 0


def _facts_importer(kind: str) -> Command:
    """`import events|feedback FILE --mapping M`: problems go to stderr with exit status 2, progress too."""

    def run(args: argparse.Namespace, settings: Settings) -> int:
        from data_access.importing import ImportValidationError, Progress, import_events, import_feedback
        from data_access.importing.mapping import MappingError

        def show(progress: Progress) -> None:
            share = f" ({progress.fraction:.0%})" if progress.fraction is not None else ""
            print(f"\r{kind}: {progress.rows_done:,} rows{share}", end="", file=sys.stderr, flush=True)

        if args.mapping is None:
            print(f"journey-atlas: error: import {kind} needs --mapping MAPPING.yaml", file=sys.stderr)
            return 2
        importer = import_events if kind == "events" else import_feedback
        try:
            report = importer(
                _engine(settings), path=args.file, mapping=args.mapping, progress=show, written_by=CLI_WRITER
            )
        except ImportValidationError as error:
            print(f"\njourney-atlas: error: {len(error.problems)} problem(s), nothing imported:", file=sys.stderr)
            for problem in error.problems:
                print(f"  {one_line(problem.describe(), limit=1_000)}", file=sys.stderr)
            return 2
        except MappingError as error:
            if len(error.messages) == 1:
                print(file=sys.stderr)
                error_line(f"mapping {error.source}: {error.messages[0]}")
                return 2
            print(f"\njourney-atlas: error: mapping {error.source}:", file=sys.stderr)
            for message in error.messages:
                print(f"  {one_line(message, limit=1_000)}", file=sys.stderr)
            return 2
        print(file=sys.stderr)
        print(report.describe())
        return 0

    return run


def cmd_refresh(_args: argparse.Namespace, settings: Settings) -> int:
    from data_access.importing import refresh

    refresh(_engine(settings))
    print("Rollups rebuilt from events and feedback")
    return 0


def cmd_review_create(args: argparse.Namespace, settings: Settings) -> int:
    import datetime as dt

    from data_access.db import session_scope
    from data_access.reviews import ReviewError, create_review

    try:
        reviewed_on = dt.date.fromisoformat(args.date) if args.date else dt.date.today()
        with session_scope(_engine(settings)) as session:
            review = create_review(
                session, journey_slug=args.journey, label=args.label, reviewed_on=reviewed_on, written_by=CLI_WRITER
            )
            slug = review.slug
    except (ReviewError, ValueError) as exc:
        error_line(str(exc))
        return 2
    print(f"Review '{slug}' of {args.journey} on {reviewed_on.isoformat()}: the map as it stands is kept.")
    return 0


def cmd_review_list(args: argparse.Namespace, settings: Settings) -> int:
    from data_access.reviews import list_reviews

    with _engine(settings).connect() as connection:
        found = list_reviews(connection, journey_slug=args.journey)
    for slug, label, reviewed_on, writer in found.select("slug", "label", "reviewed_on", "written_by").iter_rows():
        print(f"{reviewed_on.isoformat()}  {slug}  {one_line(label)}  (by {one_line(writer)})")  # anyone's text
    if found.is_empty():
        print(f"No review of {args.journey} yet.", file=sys.stderr)
    return 0


def cmd_bench(args: argparse.Namespace, _settings: Settings) -> int:
    """`journey-atlas bench …`: the benchmark in benchmarks/run.py, from a source checkout of the project."""
    root = APP.parent.parent
    if not (root / "benchmarks" / "run.py").is_file():
        error_line(f"the benchmark runs from a source checkout: no benchmarks/run.py under {root}")
        return 2
    if str(root) not in sys.path:
        sys.path.insert(0, str(root))
    from benchmarks.run import main as run_benchmark

    return run_benchmark(args.arguments)


# `journey-atlas import KIND FILE`: one handler per kind of file
IMPORTERS: dict[str, Command] = {
    "map": cmd_import_map,
    "events": _facts_importer("events"),
    "feedback": _facts_importer("feedback"),
}


def cmd_import(args: argparse.Namespace, settings: Settings) -> int:
    return IMPORTERS[args.kind](args, settings)


class Parser(argparse.ArgumentParser):
    """Usage mistakes in one line, with exit status 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(text: str, limit: int = 300) -> str:
    """Text on one line, shortened: control characters shown as spaces."""
    flat = " ".join("".join(c if c.isprintable() else " " for c in text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def error_line(message: str) -> None:
    """One line on standard error: `journey-atlas: error: …`, with control characters (from files, URLs,
    arguments) shown as spaces, so nothing can break the line or send escape sequences to the terminal."""
    print(f"journey-atlas: error: {one_line(message)}", file=sys.stderr)


def _bounded_int(low: int, high: int) -> Callable[[str], int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"'{raw}' is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is outside {low:,}..{high:,}")
        return value

    return parse


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="journey-atlas", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("init", help="create the schema or upgrade it to this release").set_defaults(run=cmd_init)

    demo = sub.add_parser("demo", help="replace the database's content with the demo company")
    demo.add_argument(
        "--events", type=_bounded_int(1_000, 10_000_000), default=200_000, help="number of events (1k..10M)"
    )
    demo.add_argument("--seed", type=int, default=7, help="same seed, same data")
    demo.set_defaults(run=cmd_demo)

    serve = sub.add_parser("serve", help="start the dashboard (fills an empty database with the demo)")
    serve.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=_bounded_int(1, 65_535), default=None, help="port (default 8501)")
    serve.add_argument("--headless", action="store_true", help=argparse.SUPPRESS)  # always headless now
    serve.set_defaults(run=cmd_serve)

    export = sub.add_parser("export", help="write the map to a file").add_subparsers(dest="kind", required=True)
    export_map = export.add_parser("map", help="the map as YAML: journeys, stages, steps, lanes, channels, personas")
    export_map.add_argument("--output", "-o", default=None, help="file to write (default: standard output)")
    export_map.set_defaults(run=cmd_export_map)

    import_ = sub.add_parser("import", help="import a file into the database (all or nothing)")
    import_.add_argument("kind", choices=list(IMPORTERS), help="what the file holds")
    import_.add_argument("file", help="the file to import")
    import_.add_argument("--mapping", "-m", default=None, help="events and feedback: the mapping file (YAML)")
    import_.set_defaults(run=cmd_import)

    refresh = sub.add_parser("refresh", help="rebuild rollups after facts were loaded by other means")
    refresh.set_defaults(run=cmd_refresh)

    review = sub.add_parser("review", help="label the map as a review meeting's version, and list them")
    review_sub = review.add_subparsers(dest="action", required=True)
    review_create = review_sub.add_parser("create", help="keep the map as it stands under a label and a date")
    review_create.add_argument("--journey", required=True, help="the journey's slug")
    review_create.add_argument("--label", required=True, help='e.g. "Q3 review"; the slug is made from it')
    review_create.add_argument("--date", default=None, help="day of the review, YYYY-MM-DD (default: today)")
    review_create.set_defaults(run=cmd_review_create)
    review_list = review_sub.add_parser("list", help="the journey's reviews, latest first")
    review_list.add_argument("--journey", required=True, help="the journey's slug")
    review_list.set_defaults(run=cmd_review_list)

    # the benchmark's own options (see `journey-atlas bench --help`) are passed on untouched
    bench = sub.add_parser(
        "bench", help="time imports, page data and pages in Chromium; write benchmarks/RESULTS.md", add_help=False,
        prefix_chars="\0",
    )  # fmt: skip
    bench.add_argument("arguments", nargs=argparse.REMAINDER)
    bench.set_defaults(run=cmd_bench)

    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; any failure is one line on standard error with exit status 2, never a traceback.

    A fault of the database or the disk is said as what is wrong and which setting to check (`data_access.faults`).
    """
    args = build_parser().parse_args(argv)
    run: Command = args.run
    settings = get_settings()
    try:
        return run(args, settings)
    except KeyboardInterrupt:
        print("\njourney-atlas: interrupted; nothing more was done.", file=sys.stderr)
        return 130
    except Exception as exc:
        fault = describe_fault(exc, url=settings.database_url, setting=DATABASE_URL_SETTING)
        reason = fault or (str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        if args.command == "import":
            print(file=sys.stderr)  # ends the progress line
        error_line(reason)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
