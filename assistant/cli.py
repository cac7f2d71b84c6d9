"""The `assistant` command: a thin layer over the library (serve, ask, passages, index, eval;
staff accounts and tokens; purge and backup of the database)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from .config import Settings, SettingsError
from .corpus import CorpusError


def _load(settings: Settings, build_in_child: bool = False):
    from .bot import Assistant

    return Assistant.load(
        settings.corpus,
        index_dir=settings.index_dir,
        extra_questions=_taught(settings),
        build_in_child=build_in_child,
    )


def _taught(settings: Settings) -> list[tuple[str, str]]:
    """The taught phrasings in the database, if there is one: the CLI answers as the server."""
    if not settings.database_url and not settings.db_path.exists():
        return []
    from .store import StorageError, Store

    try:
        store = Store.from_settings(settings)
        try:
            return [(row["passage_id"], row["question"]) for row in store.taught()]
        finally:
            store.close()
    except StorageError as exc:
        print(f"assistant: warning: taught phrasings not loaded: {exc}", file=sys.stderr)
        return []


def cmd_index(args: argparse.Namespace, settings: Settings) -> int:
    """Build the corpus's index snapshot now (serve then starts from it)."""
    import shutil
    import time

    from . import snapshot
    from .bot import Assistant

    folder = snapshot.folder_for(settings.index_dir, settings.corpus)
    if args.force:
        shutil.rmtree(folder, ignore_errors=True)
    t0 = time.perf_counter()
    bot = Assistant.load(settings.corpus, index_dir=settings.index_dir)
    print(
        f"{len(bot.passages)} passages from {len(bot.documents)} documents, "
        f"ready in {time.perf_counter() - t0:.1f} s: {folder}"
    )
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    """Serve the web app with uvicorn (JSON logs; several workers share metrics)."""
    import gc
    import os

    import uvicorn

    from . import metrics
    from .logs import configure_logging, uvicorn_log_config
    from .reload import SUPERVISOR_ENV

    configure_logging("INFO")
    bot = _load(settings, build_in_child=True)  # fail fast, naming the file, on a broken corpus
    common = {
        "host": args.host,
        "port": args.port,
        "log_config": uvicorn_log_config("info"),
        "access_log": False,  # our own access line has the request id and no query string
        "forwarded_allow_ips": list(settings.trusted_proxies) or None,
        "timeout_graceful_shutdown": 30,
    }
    if args.workers > 1:
        # the workers load the snapshot just built themselves: the supervisor keeps no index
        del bot
        gc.collect()
        folder, made = metrics.prepare_multiprocess()
        os.environ[SUPERVISOR_ENV] = str(os.getpid())
        try:
            uvicorn.run(
                "assistant.app:create_app_from_env", factory=True, workers=args.workers, **common
            )
        finally:
            if made:
                metrics.cleanup_multiprocess(folder)
    else:
        import signal

        from .app import create_app

        # uvicorn re-raises SIGTERM after its graceful shutdown; a finished shutdown is exit 0
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        uvicorn.run(create_app(settings, bot), **common)
    return 0


def cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    """Answer one question in the terminal."""
    reply = _load(settings).ask(args.question, args.history or [], args.top_k)
    if args.json:
        print(json.dumps(reply, ensure_ascii=False))
        return 0
    if reply["answered"]:
        best = reply["answers"][0]
        print(best["text"])
        print(f"\n— {best['document']} ({best['url']}), confidence {reply['confidence']:.0%}")
        for other in reply["answers"][1:]:
            print(
                f"\nAlso: {other['text'][:160]}…"
                if len(other["text"]) > 160
                else f"\nAlso: {other['text']}"
            )
    else:
        print(reply["message"])
        for s in reply["suggestions"]:
            print(f"  • {s}")
    return 0


def cmd_passages(args: argparse.Namespace, settings: Settings) -> int:
    """List the passages the corpus was split into."""
    bot = _load(settings)
    rows = [
        {
            "id": p.id,
            "document": p.document,
            "position": p.position,
            "section": p.section,
            "url": p.url,
            "text": p.text,
        }
        for p in bot.passages
    ]
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
    else:
        for r in rows:
            print(f"{r['id']}\t{r['text'][:100]}")
        print(f"{len(rows)} passages", file=sys.stderr)
    return 0


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    """Score a question file in-process, judged as ../shared/eval/evaluate.py judges."""
    from .evaluation import article_lines, evaluate, format_report, load_questions

    bot = _load(settings)
    article = args.article or next(
        (d.path for d in bot.documents if d.path.suffix == ".txt"), bot.documents[0].path
    )
    report = evaluate(
        lambda q, h: bot.ask(q, h, 3), load_questions(args.file), article_lines(article)
    )
    print(json.dumps(report, indent=2) if args.json else format_report(report))
    return 0


def _with_store(settings: Settings, work: Callable[[Any], int]) -> int:
    """Run work(store) on the opened store; a storage or account error is a message, status 1."""
    from .store import StorageError, Store

    try:
        store = Store.from_settings(settings)
        try:
            return work(store)
        finally:
            store.close()
    except (StorageError, ValueError) as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return 1


def _read_password() -> str:
    """The new password: typed twice at a terminal, else the first line of stdin."""
    import getpass

    if sys.stdin.isatty():
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise ValueError("the two passwords differ")
        return password
    return sys.stdin.readline().rstrip("\r\n")


def cmd_staff(args: argparse.Namespace, settings: Settings) -> int:
    """Manage staff accounts and their API tokens."""
    from . import auth

    name = args.name

    def work(store) -> int:
        if args.action in ("add", "password"):
            password_hash = auth.hash_password(auth.check_password(_read_password()))
            if args.action == "add":
                store.add_staff(name, password_hash)
                print(f"staff account {name!r} created")
            else:
                store.set_password_hash(name, password_hash)
                print(f"password of {name!r} changed")
        elif args.action == "remove":
            if not store.remove_staff(name):
                raise ValueError(f"no staff account named {name!r}")
            print(f"staff account {name!r} removed, with its tokens and sessions")
        elif args.action == "token":
            token = auth.new_secret()
            store.add_token(name, auth.digest(token))
            print(f"New API token for {name!r} (shown once; only its hash is kept):")
            print(token)
        elif args.action == "revoke":
            if store.get_staff(name) is None:
                raise ValueError(f"no staff account named {name!r}")
            print(f"{store.revoke_tokens(name)} token(s) of {name!r} revoked")
        return 0

    return _with_store(settings, work)


def cmd_purge(args: argparse.Namespace, settings: Settings) -> int:
    """Delete logged questions and feedback older than the retention period."""
    days = args.days or settings.retention_days

    def work(store) -> int:
        print(f"{store.purge(days)} rows older than {days} days deleted")
        return 0

    return _with_store(settings, work)


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Copy the SQLite database, while it is in use, to a file."""
    if args.path.exists():
        print(f"assistant: error: {args.path} exists already", file=sys.stderr)
        return 1

    def work(store) -> int:
        store.backup(args.path)
        print(f"backed up {settings.db_path} to {args.path}")
        return 0

    return _with_store(settings, work)


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `assistant` command."""
    p = argparse.ArgumentParser(
        prog="assistant",
        description="Answers questions about an article with the passage that answers them.",
        epilog="Set ASSISTANT_CORPUS to a file or folder to use other documents.",
    )
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    s = sub.add_parser(
        "serve",
        help="serve the web app",
        description="Serve the chat page and the API.",
        epilog="example: assistant serve --port 8000",
    )
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=8000)
    s.add_argument("--workers", type=int, default=1)
    s.set_defaults(func=cmd_serve)

    a = sub.add_parser(
        "ask",
        help="answer one question in the terminal",
        description="Answer one question in the terminal.",
        epilog='example: assistant ask "Is Django secure?" --json',
    )
    a.add_argument("question")
    a.add_argument("--top-k", type=int, default=3, choices=range(1, 11), metavar="{1..10}")
    a.add_argument(
        "--history",
        action="append",
        metavar="QUESTION",
        help="an earlier question of the conversation (repeatable, oldest first)",
    )
    a.add_argument("--json", action="store_true", help="print the JSON body of POST /api/ask")
    a.set_defaults(func=cmd_ask)

    ps = sub.add_parser(
        "passages",
        help="list the passages of the corpus",
        description="List the passages the corpus was split into.",
        epilog="example: assistant passages --json",
    )
    ps.add_argument("--json", action="store_true", help="print a JSON array")
    ps.set_defaults(func=cmd_passages)

    ix = sub.add_parser(
        "index",
        help="build the index snapshot of the corpus",
        description="Read and index the corpus and save the snapshot that serve, ask and "
        "passages start from while the corpus is unchanged.",
        epilog="example: ASSISTANT_CORPUS=docs/ assistant index",
    )
    ix.add_argument("--force", action="store_true", help="rebuild even when the snapshot is fresh")
    ix.set_defaults(func=cmd_index)

    e = sub.add_parser(
        "eval",
        help="score a question file in-process",
        description="Score a question file (JSON lines) in-process: hit@1, "
        "MRR@3, out-of-scope precision/recall, per-kind scores, misses.",
        epilog="example: assistant eval ../shared/eval/dev.jsonl",
    )
    e.add_argument("file", type=Path)
    e.add_argument(
        "--article",
        type=Path,
        default=None,
        help="the file whose line numbers expect_lines refer to "
        "(default: the corpus's first .txt document)",
    )
    e.add_argument("--json", action="store_true", help="print the whole report as JSON")
    e.set_defaults(func=cmd_eval)

    st = sub.add_parser(
        "staff",
        help="manage staff accounts and API tokens",
        description="Manage the accounts that sign in to /staff and their API tokens. "
        "add and password read the password from stdin (at least 10 characters).",
        epilog="example: printf '%s\\n' \"$PASSWORD\" | assistant staff add alice",
    )
    actions = st.add_subparsers(dest="action", required=True, metavar="ACTION")
    for action, text in (
        ("add", "create an account; the password is read from stdin"),
        ("remove", "delete an account with its tokens and sessions"),
        ("token", "print a new API token (alone on the last line; only its hash is kept)"),
        ("revoke", "revoke every API token of an account"),
        ("password", "set a new password, read from stdin"),
    ):
        one = actions.add_parser(action, help=text, description=text[0].upper() + text[1:] + ".")
        one.add_argument("name", metavar="NAME")
    st.set_defaults(func=cmd_staff)

    pu = sub.add_parser(
        "purge",
        help="delete logged questions and feedback past the retention period",
        description="Delete logged questions and feedback older than ASSISTANT_RETENTION_DAYS "
        "(default 90) days. The server also does this when it starts.",
        epilog="example: assistant purge --days 30",
    )
    pu.add_argument("--days", type=int, choices=range(1, 36_501), metavar="{1..36500}")
    pu.set_defaults(func=cmd_purge)

    b = sub.add_parser(
        "backup",
        help="copy the SQLite database to a file",
        description="Copy the SQLite database (ASSISTANT_DB) to PATH with SQLite's online "
        "backup API; the server may keep running. To restore, stop the server and put the "
        "copy in place of ASSISTANT_DB. (For PostgreSQL use pg_dump.)",
        epilog="example: assistant backup /var/backups/assistant-$(date +%F).db",
    )
    b.add_argument("path", type=Path, metavar="PATH")
    b.set_defaults(func=cmd_backup)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `assistant` command; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        if getattr(args, "question", None) is not None and not args.question.strip():
            print("assistant: error: the question is empty", file=sys.stderr)
            return 2
        return args.func(args, settings)
    except (CorpusError, SettingsError) as exc:
        print(f"assistant: error: {exc}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # `assistant passages | head`: the reader is gone, and that is fine
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
