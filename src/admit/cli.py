"""The `admit` command line."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from pydantic_core import ErrorDetails
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from admit.clock import clock_for
from admit.db.engine import Timeouts, bounded_sessions, make_engine, make_session_factory
from admit.db.migrate import upgrade
from admit.domain.roles import Role
from admit.errors import DomainError
from admit.settings import Settings

if TYPE_CHECKING:
    from admit.services.sweeper import Retention

app = typer.Typer(
    help="Admit: timed-entry ticketing.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
orgs_app = typer.Typer(help="Organizations (tenants).", no_args_is_help=True)
operators_app = typer.Typer(help="Staff accounts.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(orgs_app, name="orgs")
app.add_typer(operators_app, name="operators")

SHUTDOWN_GRACE_SECONDS = 10  # a request's own database waits are shorter than this


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
    demo: Annotated[
        bool, typer.Option(help="Fill an empty database with demo data and print logins.")
    ] = False,
    mail: Annotated[bool, typer.Option(help="Also run the e-mail sender in this process.")] = True,
) -> None:
    """Apply migrations, then serve the API, expire what is due and (unless --no-mail) send the e-mails."""
    import uvicorn

    from admit.app import context_of, create_app
    from admit.demo import PRINTOUT, describe, seed_demo
    from admit.files import write_private

    settings = Settings()
    if "public_url" not in settings.model_fields_set:  # links in e-mails point at this server
        settings.public_url = f"http://{host}:{port}"
    _upgrade(settings)
    application = create_app(settings)
    if demo:
        seeded = seed_demo(context_of(application))
        printout = settings.data_dir / PRINTOUT
        if seeded is None:
            typer.echo(_demo_again(printout))
        else:
            text = describe(seeded, f"http://{host}:{port}")
            write_private(printout, text.encode())
            typer.echo(text)
    stop = threading.Event()
    if mail:
        from admit.mail.sender import run_sender

        worker = threading.Thread(target=run_sender, args=(context_of(application).mail(), stop), daemon=True)
        worker.start()
    if settings.expiry_interval_seconds:
        from admit.services.sweeper import run_sweeper

        context = context_of(application)
        sweeper = threading.Thread(
            target=run_sweeper,
            kwargs={
                "sessions": context.sessions,
                "clock": context.clock,
                "stop": stop,
                "interval": settings.expiry_interval_seconds,
                "counted": context.metrics.count_expiry,
                "answer_retention": timedelta(hours=settings.scan_answer_retention_hours),
                "history": _history(settings),
            },
            daemon=True,
        )
        sweeper.start()
    try:
        # Forwarded headers are believed only from ADMIT_TRUSTED_PROXIES, by the application itself.
        # On a stop, requests still running after the grace are cancelled: an open live dashboard's
        # stream would otherwise hold the process until its login ends (it reconnects to another node).
        config = uvicorn.Config(
            application,
            host=host,
            port=port,
            log_level="info",
            proxy_headers=False,
            timeout_graceful_shutdown=SHUTDOWN_GRACE_SECONDS,
        )
        listener = config.bind_socket()  # here rather than in uvicorn: the connections inherit its bound
        drop_stalled_clients(listener, settings.stalled_client_seconds)
        server = uvicorn.Server(config)
        with suppress(KeyboardInterrupt):  # a Ctrl-C, raised again once the server has stopped
            server.run(sockets=[listener])
        if not server.started:
            raise typer.Exit(1)
    finally:
        stop.set()


def drop_stalled_clients(listener: socket.socket, seconds: float) -> None:
    """Connections accepted on `listener` are dropped once their client has taken none of what was sent
    to it for `seconds`, however the server's side stands: writing, or closed with data still unsent.

    The kernel does it (TCP_USER_TIMEOUT, inherited by the accepted sockets; since Linux 5.1 it also ends
    a wait for a window that stays shut). Where the option does not exist, connections are kept as before.
    """
    option = getattr(socket, "TCP_USER_TIMEOUT", None)
    if option is not None:
        listener.setsockopt(socket.IPPROTO_TCP, option, round(seconds * 1000))


def _demo_again(printout: Path) -> str:
    lines = ["The database has data already, so no demo data was added."]
    if printout.exists():
        lines.append(f"The demo's logins, ticket codes and pages are in {printout} (readable by you alone).")
    lines.append(
        "To start afresh, stop Admit and give it an empty database: with the embedded default, delete "
        f"the data directory ({printout.parent})."
    )
    return "\n".join(lines)


def _history(settings: Settings) -> Retention | None:
    from admit.services.sweeper import Retention

    if not settings.scan_history_days:
        return None
    return Retention(timedelta(days=settings.scan_history_days), settings.scan_archive_dir)


@app.command("prune-scans")
def prune_scans_command(
    days: Annotated[int, typer.Option(min=2, help="Delete scans older than this many days.")],
    archive: Annotated[
        Path | None, typer.Option(help="Append the deleted scans here first (gzip, a JSON line each).")
    ] = None,
) -> None:
    """Delete old scans (their counts and history go with them), archiving them first if asked."""
    from admit.services import sweeper
    from admit.services.retention import prune_scans

    settings = Settings()
    _upgrade(settings)
    engine = make_engine(settings.database_url, timeouts=_timeouts(settings))
    try:
        before = clock_for(settings.frozen_now).now() - timedelta(days=days)
        sessions = bounded_sessions(make_session_factory(engine), sweeper.STATEMENT_TIMEOUT)
        pruned = prune_scans(sessions, before=before, archive=archive)
    finally:
        engine.dispose()
    where = f", archived in {archive}" if archive else ""
    typer.echo(f"{pruned} scans older than {days} days deleted{where}.")


@app.command()
def expire() -> None:
    """Write EXPIRED where a slot has ended or a validity passed (safe to run often, anywhere)."""
    from admit.services import sweeper
    from admit.services.expiry import expire_due

    with _session(statement_timeout=sweeper.STATEMENT_TIMEOUT) as (session, now):
        count = expire_due(session, now=now)
    typer.echo(f"{count} tickets expired.")


@app.command("mail")
def mail_worker(
    once: Annotated[bool, typer.Option(help="Send what is due now, then stop.")] = False,
    interval: Annotated[float, typer.Option(help="Seconds between passes.")] = 5.0,
) -> None:
    """Send the queued e-mails and reminders (safe to run on several machines at once)."""
    from admit.context import build_context
    from admit.mail.reminders import queue_reminders
    from admit.mail.sender import run_sender, send_due

    settings = Settings()
    _upgrade(settings)
    context = build_context(settings)
    mail = context.mail()
    try:
        if once:
            queued = queue_reminders(mail.sessions, now=mail.clock.now())
            report = send_due(mail)
            typer.echo(
                f"{queued} reminders queued; {report.sent} sent, {report.retrying} to retry, "
                f"{report.gave_up} given up, {report.skipped} skipped."
            )
            return
        run_sender(mail, threading.Event(), interval=interval)
    finally:
        context.engine.dispose()


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply all migrations."""
    settings = Settings()
    _upgrade(settings)
    typer.echo("Database is up to date.")


@orgs_app.command("create")
def orgs_create(
    name: Annotated[str, typer.Option(help="The organization's name.")],
    timezone: Annotated[str, typer.Option(help="IANA time zone, e.g. Europe/Amsterdam.")],
) -> None:
    """Create an organization and print its id (orq)."""
    from admit.services.organizations import create_organization

    with _session() as (session, now):
        org = create_organization(session, name=name, timezone=timezone, now=now)
    typer.echo(org.id)


@operators_app.command("create")
def operators_create(
    orq: Annotated[int, typer.Option(help="The organization's id.")],
    username: Annotated[str, typer.Option(help="Login name.")],
    role: Annotated[Role, typer.Option(help="operator, manager or admin.")],
    password: Annotated[str | None, typer.Option(help="Password (8+ characters).")] = None,
    pin: Annotated[str | None, typer.Option(help="PIN (6-8 digits).")] = None,
    name: Annotated[
        str | None, typer.Option(help="Name shown to colleagues; defaults to the username.")
    ] = None,
) -> None:
    """Create a staff account and print its id."""
    from admit.services.operators import create_operator

    with _session() as (session, now):
        operator = create_operator(
            session, orq=orq, username=username, name=name, role=role, password=password, pin=pin, now=now
        )
    typer.echo(operator.id)


@operators_app.command("disable")
def operators_disable(username: Annotated[str, typer.Option(help="The account's login name.")]) -> None:
    """Disable a staff account: no new logins, and its tokens are refused on every server within a second."""
    from admit.services.staff_access import set_enabled

    with _session() as (session, now):
        operator = set_enabled(session, enabled=False, username=username, now=now)
    typer.echo(f"{operator.username} is disabled.")


@operators_app.command("enable")
def operators_enable(username: Annotated[str, typer.Option(help="The account's login name.")]) -> None:
    """Enable a disabled staff account again (it logs in anew: its old tokens stay refused)."""
    from admit.services.staff_access import set_enabled

    with _session() as (session, now):
        operator = set_enabled(session, enabled=True, username=username, now=now)
    typer.echo(f"{operator.username} is enabled.")


@operators_app.command("list")
def operators_list(
    orq: Annotated[int | None, typer.Option(help="Only this organization's accounts.")] = None,
) -> None:
    """List staff accounts: id, organization, username, role, status, name."""
    from admit.services.staff_access import list_operators

    with _session() as (session, _now):
        found = list_operators(session, orq=orq)
    typer.echo(f"{'id':>6}  {'orq':>6}  {'username':<24} {'role':<9} {'status':<9} name")
    for operator in found:
        status = "disabled" if operator.disabled_at is not None else "active"
        typer.echo(
            f"{operator.id:>6}  {operator.orq:>6}  {operator.username:<24} {operator.role.value:<9} "
            f"{status:<9} {operator.name}"
        )


def _timeouts(settings: Settings) -> Timeouts:
    """A command's waits on PostgreSQL: those of a request, so that a database that does not answer is
    reported within seconds (main) rather than waited for without end, from cron as from a terminal."""
    from admit.context import timeouts_of

    return timeouts_of(settings)


def _upgrade(settings: Settings) -> None:
    upgrade(settings.database_url, timeouts=_timeouts(settings))


@contextmanager
def _session(*, statement_timeout: float | None = None) -> Iterator[tuple[Session, datetime]]:
    """A session on the migrated database, for one command; a domain error is a message and exit 1.

    Its statements may take `statement_timeout` seconds where given, else a request's.
    """
    settings = Settings()
    _upgrade(settings)
    engine = make_engine(settings.database_url, timeouts=_timeouts(settings))
    sessions = make_session_factory(engine)
    try:
        with (bounded_sessions(sessions, statement_timeout) if statement_timeout else sessions)() as session:
            yield session, clock_for(settings.frozen_now).now()
    except DomainError as exc:
        typer.echo(f"error: {exc.code}: {exc.message} {exc.details or ''}".rstrip(), err=True)
        raise typer.Exit(1) from exc
    finally:
        engine.dispose()


def _setting_error(error: ErrorDetails) -> str:
    """A setting's refusal, named as it is set (never with its value, which may be a secret)."""
    message = error["msg"].removeprefix("Value error, ")
    field = str(error["loc"][0]) if error["loc"] else ""
    # A field is named by its alias where it has one (DATABASE_URL), set as it is spelt.
    name = field if field.isupper() else f"ADMIT_{field.upper()}" if field else ""
    return f"{name}: {message}" if name and name not in message else message


def main() -> None:
    try:
        app()
    except ValidationError as exc:  # settings from the environment
        for error in exc.errors():
            typer.echo(f"setting error: {_setting_error(error)}", err=True)
        raise SystemExit(2) from exc
    except OperationalError as exc:
        where = make_url(Settings().database_url).render_as_string(hide_password=True)
        reason = " ".join(line.strip() for line in str(exc.orig).splitlines())  # one line, for logs
        typer.echo(f"error: cannot use the database at {where}: {reason}", err=True)
        raise SystemExit(2) from exc
