"""Settings: the only reader of the environment. Strict casts; errors name the variable."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent


class SettingsError(ValueError):
    """An environment variable with a value the assistant cannot use."""


def bundled(name: str) -> Path:
    """A folder shipped with the package (corpus, web): inside the wheel, or the checkout's."""
    inside = PACKAGE / "_bundled" / name
    return inside if inside.is_dir() else PACKAGE.parent / name


def default_data_dir(env: Mapping[str, str]) -> Path:
    """$XDG_DATA_HOME/assistant, i.e. ~/.local/share/assistant by default."""
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "assistant"


def _int(env: Mapping[str, str], name: str, default: int | None, lo: int, hi: int) -> int | None:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, not {raw!r}") from None
    if not lo <= value <= hi:
        raise SettingsError(f"{name} must be between {lo} and {hi}, not {value}")
    return value


def _bool(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise SettingsError(f"{name} must be 1 or 0, not {raw!r}")


def _list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(v.strip().rstrip("/") for v in env.get(name, "").split(",") if v.strip())


def _proxies(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    import ipaddress

    values = _list(env, name)
    for v in values:
        try:
            ipaddress.ip_network(v, strict=False)
        except ValueError:
            raise SettingsError(f"{name}: {v!r} is not an IP address or network") from None
    return values


def _frame_ancestors(env: Mapping[str, str], name: str) -> str:
    raw = env.get(name, "").strip()
    if not raw:
        return "'none'"
    sources = raw.replace(",", " ").split()
    for src in sources:
        if src not in ("'self'", "'none'") and not src.startswith(("https://", "http://")):
            raise SettingsError(f"{name}: {src!r} must be 'self', 'none' or an http(s) origin")
    return " ".join(sources)


@dataclass(frozen=True)
class Settings:
    """Everything configurable, with the defaults documented in the README."""

    corpus: Path = field(default_factory=lambda: bundled("corpus"))
    web: Path = field(default_factory=lambda: bundled("web"))
    db_path: Path = field(default_factory=lambda: default_data_dir(os.environ) / "assistant.db")
    index_dir: Path = field(default_factory=lambda: default_data_dir(os.environ) / "index")
    database_url: str = ""
    allowed_origins: tuple[str, ...] = ()
    rate_limit: int | None = None
    retention_days: int = 90
    trusted_proxies: tuple[str, ...] = ()
    frame_ancestors: str = "'none'"
    session_hours: int = 8
    login_rate: int = 5
    answer_cache: int = 1024
    dev: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read ASSISTANT_* variables (os.environ unless a mapping is given)."""
        env = os.environ if env is None else env
        corpus = env.get("ASSISTANT_CORPUS", "").strip()
        db = env.get("ASSISTANT_DB", "").strip()
        index_dir = env.get("ASSISTANT_INDEX_DIR", "").strip()
        url = env.get("ASSISTANT_DATABASE_URL", "").strip()
        if url and not url.startswith(("postgresql://", "postgresql+psycopg://")):
            raise SettingsError("ASSISTANT_DATABASE_URL must be a postgresql:// URL")
        return cls(
            corpus=Path(corpus).expanduser() if corpus else bundled("corpus"),
            web=bundled("web"),
            db_path=Path(db).expanduser() if db else default_data_dir(env) / "assistant.db",
            index_dir=Path(index_dir).expanduser()
            if index_dir
            else default_data_dir(env) / "index",
            database_url=url,
            allowed_origins=_list(env, "ASSISTANT_ALLOWED_ORIGINS"),
            rate_limit=_int(env, "ASSISTANT_RATE_LIMIT", None, 1, 1_000_000),
            retention_days=_int(env, "ASSISTANT_RETENTION_DAYS", 90, 1, 36_500) or 90,
            trusted_proxies=_proxies(env, "ASSISTANT_TRUSTED_PROXIES"),
            frame_ancestors=_frame_ancestors(env, "ASSISTANT_FRAME_ANCESTORS"),
            session_hours=_int(env, "ASSISTANT_SESSION_HOURS", 8, 1, 720) or 8,
            login_rate=_int(env, "ASSISTANT_LOGIN_RATE", 5, 1, 1000) or 5,
            answer_cache=_int(env, "ASSISTANT_ANSWER_CACHE", 1024, 0, 1_000_000) or 0,
            dev=_bool(env, "ASSISTANT_DEV"),
        )
