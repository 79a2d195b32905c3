"""``python -m devhost``: the local stack and host. See ``--help``."""

import argparse
import asyncio
import contextlib
import logging
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.settings import Settings
    from devhost.host import FunctionHost

PROJECT_DIR = Path(__file__).resolve().parent.parent
LOG_DIR = PROJECT_DIR / ".devhost" / "logs"
PROVISION_TIMEOUT = 30.0


def _configure_logging(level: str) -> None:
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    handlers: list[logging.Handler] = [
        logging.StreamHandler(sys.stderr),
        logging.FileHandler(LOG_DIR / "host.log"),
    ]
    logging.basicConfig(
        level=level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        handlers=handlers,
    )
    # Every SDK request at INFO drowns the app's own log lines.
    logging.getLogger("azure").setLevel(logging.WARNING)


def _settings() -> "Settings":
    from adapters.settings import SettingsError, load_settings

    try:
        return load_settings()
    except SettingsError as error:
        sys.exit(f"devhost: {error}")


async def _start(host: "FunctionHost", address: str, port: int) -> None:
    from devhost.provision import provision, queue_names

    try:
        await asyncio.wait_for(provision(_settings(), queue_names(host.specs)), PROVISION_TIMEOUT)
    except Exception as error:  # serve anyway, as the Functions host would: /api/health tells
        logging.getLogger("devhost").error("could not create databases and queues: %r", error)
    print(
        host.describe(
            f"http://{'localhost' if address in ('127.0.0.1', '0.0.0.0') else address}:{port}"
        ),
        flush=True,
    )
    used, skipped = _settings().llm_chain()
    notes = "".join(f"; {name} skipped ({why})" for name, why in skipped.items())
    print(f"LLM providers, in order: {', '.join(used)}{notes}", flush=True)
    sources, skipped = _settings().research_plan()
    notes = "".join(f"; {name} skipped ({why})" for name, why in skipped.items())
    print(f"Research sources: {', '.join(sources) or 'none'}{notes}", flush=True)
    await host.serve(address, port)


def cmd_run(args: argparse.Namespace) -> None:
    """Start the emulators, provision them, and serve the app until Ctrl-C."""
    from devhost import localsettings
    from devhost.emulators import EmulatorError, Emulators, Ports
    from devhost.host import FunctionHost

    localsettings.apply(PROJECT_DIR)
    settings = _settings()
    _configure_logging(settings.log_level)
    try:
        with Emulators(Ports(), LOG_DIR):
            host = FunctionHost(PROJECT_DIR)
            asyncio.run(_start(host, args.host, args.port))
    except EmulatorError as error:
        sys.exit(f"devhost: {error}")


def cmd_serve(args: argparse.Namespace) -> None:
    """Serve the app against services that are already running (settings from the environment)."""
    from devhost import localsettings
    from devhost.host import FunctionHost

    if not args.env_only:
        localsettings.apply(PROJECT_DIR)
    settings = _settings()
    _configure_logging(settings.log_level)
    host = FunctionHost(
        PROJECT_DIR, http=not args.no_http, queues=not args.no_queues, timers=not args.no_timers
    )
    asyncio.run(_start(host, args.host, args.port))


def cmd_stack(_: argparse.Namespace) -> None:
    """Only the emulators (for `func start`), provisioned, until Ctrl-C."""
    from devhost import localsettings
    from devhost.emulators import EmulatorError, Emulators, Ports
    from devhost.functions import discover, load_app
    from devhost.provision import provision, queue_names

    localsettings.apply(PROJECT_DIR)
    settings = _settings()
    try:
        with Emulators(Ports(), LOG_DIR):
            asyncio.run(provision(settings, queue_names(discover(load_app(PROJECT_DIR)))))
            print(
                "devhost: Azurite and cosmosdb-server are running; Ctrl-C stops them.", flush=True
            )
            with contextlib.suppress(KeyboardInterrupt):
                asyncio.run(asyncio.Event().wait())
    except EmulatorError as error:
        sys.exit(f"devhost: {error}")


def cmd_token(args: argparse.Namespace) -> None:
    """Print a development token whose subject is USER_ID."""
    from adapters.auth import DevTokensDisabled, TokenVerifier, dev_secret
    from devhost import localsettings

    localsettings.apply(PROJECT_DIR)
    # Issuing needs only the development secret, never the identity provider's key set.
    try:
        token = TokenVerifier(dev_secret(_settings())).issue(
            args.user_id, lifetime=timedelta(hours=args.hours)
        )
    except DevTokensDisabled as error:
        sys.exit(f"devhost: {error}")
    print(token)


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run one command."""
    parser = argparse.ArgumentParser(prog="python -m devhost", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help=cmd_run.__doc__)
    serve = commands.add_parser("serve", help=cmd_serve.__doc__)
    for sub in (run, serve):
        sub.add_argument("--host", default="127.0.0.1")
        sub.add_argument("--port", type=int, default=7071)
    serve.add_argument("--no-http", action="store_true", help="a worker: queues and timers only")
    serve.add_argument("--no-queues", action="store_true")
    serve.add_argument("--no-timers", action="store_true")
    serve.add_argument(
        "--env-only",
        action="store_true",
        help="read settings from the environment only, not local.settings.json",
    )
    commands.add_parser("stack", help=cmd_stack.__doc__)
    token = commands.add_parser("token", help=cmd_token.__doc__)
    token.add_argument("user_id")
    token.add_argument("--hours", type=float, default=12.0)

    args = parser.parse_args(argv)
    sys.path.insert(0, str(PROJECT_DIR))
    handlers = {"run": cmd_run, "serve": cmd_serve, "stack": cmd_stack, "token": cmd_token}
    handlers[args.command](args)


if __name__ == "__main__":
    main()
