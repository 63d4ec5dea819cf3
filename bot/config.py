"""Settings, read from the environment and ``.env``, validated at start.

Tokens are ``SecretStr`` so they never show in a repr or a log line.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.domain.durations import parse_duration
from bot.domain.errors import ConfigurationError
from bot.domain.schedule import cron_fields

DEFAULT_SLACK_API_URL = "https://slack.com/api/"

# What to tell people when a setting is missing or wrong.
HINTS: dict[str, str] = {
    "SLACK_BOT_TOKEN": "set it to the app's Bot User OAuth Token (starts with xoxb-)",
    "SLACK_SIGNING_SECRET": "set it to the Signing Secret from the app's Basic Information page",
    "SLACK_APP_TOKEN": "set it to an app-level token with connections:write (xapp-...), or unset it for HTTP mode",
    "SLACK_API_URL": "set it to an http(s) URL such as https://slack.com/api/",
    "PORT": "set it to a TCP port between 1 and 65535",
    "HOST": "set it to the address to listen on, e.g. 0.0.0.0",
    "DATABASE_URL": "set it to sqlite:///path/to/signoff.db or postgresql://user@host:5432/signoff",
    "ROSTER_FILE": "set it to the path of the roster YAML file (see docs/configuration.md, 'The roster')",
    "SUMMARY_CHANNEL": "set it to the channel ID (C...) where summaries and unassigned requests go",
    "POLICY_START": "set it to a date (2026-01-31) or an ISO datetime within 10 years of today, or unset it",
    "POLICY_DAYS": "set it to a whole number of days between 1 and 3650",
    "TIMEZONE": "set it to an IANA time zone such as UTC or Europe/Berlin",
    "LOG_LEVEL": "set it to DEBUG, INFO, WARNING or ERROR",
    "LOG_FORMAT": "set it to text or json",
    "SUMMARY_CRON": "set it to five crontab fields, e.g. '0 9 * * 1-5' (minute hour day month weekday)",
    "REMINDER_AFTER": "set it to a duration such as 90s, 30m, 4h or 2d",
    "ESCALATE_AFTER": "set it to a duration such as 90s, 30m, 4h or 2d, longer than REMINDER_AFTER",
    "APPROVAL_VALID_FOR": "set it to how long an approval may be applied, e.g. 24h or 7d",
    "REQUEST_TTL": "set it to how long a request may wait for a decision before it expires, e.g. 7d",
    "BREAK_GLASS_LIMIT": "set it to how many times one person may break glass in 24 hours, 1 to 100",
    "SWEEP_EVERY": "set it to how often reminders, escalation and expiry are checked, from 1s to 10m, e.g. 30s",
    "DESTRUCTIVE_APPROVALS": "set it to how many seniors must approve an AI-assisted destructive change, 1 to 5",
    "API_TOKENS": "set it to comma-separated name:token pairs, each token at least 24 characters",
    "GITHUB_APP_ID": "set it to the GitHub App's numeric App ID (its General settings page), or unset every GITHUB_ "
    "setting",
    "GITHUB_APP_PRIVATE_KEY": "set it to the App's private key (a PEM starting -----BEGIN, or the path of the .pem "
    "file GitHub gave you)",
    "GITHUB_WEBHOOK_SECRET": "set it to the webhook secret entered in the GitHub App's settings",
    "GITHUB_API_URL": "set it to https://api.github.com, or your GitHub Enterprise Server's https://HOST/api/v3",
    "GITHUB_SWEEP_EVERY": "set it to how often waiting deployments are looked for, from 30s to 1h, e.g. 5m",
    "OIDC_ISSUERS": "set it to comma-separated issuer=audience pairs, e.g. "
    "https://token.actions.githubusercontent.com=signoff",
    "OIDC_ALLOW": "set it to comma-separated repository-glob=service pairs, e.g. acme/*=shop",
}


# The example values of .env.example: a copied file that was never filled in is "not set".
PLACEHOLDER = "placeholder"
PLACEHOLDERS: dict[str, str] = {
    "SLACK_BOT_TOKEN": "xoxb-your-bot-token",
    "SLACK_SIGNING_SECRET": "your-signing-secret",
    "SLACK_APP_TOKEN": "xapp-your-app-token",
    "SUMMARY_CHANNEL": "C0123456789",
}
POLICY_START_RANGE_YEARS = 10  # a start further from today than this is a typo, not a policy


def _not_placeholder(name: str, value: Any) -> None:
    raw = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(raw, str) and raw.strip() == PLACEHOLDERS[name]:
        raise PydanticCustomError(PLACEHOLDER, "still the example value from .env.example")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    slack_bot_token: SecretStr = Field(alias="SLACK_BOT_TOKEN")
    slack_signing_secret: SecretStr = Field(alias="SLACK_SIGNING_SECRET")
    slack_app_token: SecretStr | None = Field(default=None, alias="SLACK_APP_TOKEN")
    slack_api_url: str = Field(default=DEFAULT_SLACK_API_URL, alias="SLACK_API_URL")
    host: str = Field(default="0.0.0.0", alias="HOST")
    port: int = Field(default=3000, ge=0, le=65535, alias="PORT")
    # A secret: a PostgreSQL URL may carry a password.
    database_url: SecretStr = Field(default=SecretStr("sqlite:///signoff.db"), alias="DATABASE_URL")
    roster_file: Path = Field(alias="ROSTER_FILE")
    summary_channel: str = Field(alias="SUMMARY_CHANNEL")
    policy_start: datetime | None = Field(default=None, alias="POLICY_START")
    policy_days: int = Field(default=90, ge=1, le=3650, alias="POLICY_DAYS")
    timezone: str = Field(default="UTC", alias="TIMEZONE")
    log_level: str = Field(default="INFO", alias="LOG_LEVEL")
    log_format: str = Field(default="text", alias="LOG_FORMAT")
    api_tokens: SecretStr = Field(default=SecretStr(""), alias="API_TOKENS")
    summary_cron: str = Field(default="0 9 * * 1-5", alias="SUMMARY_CRON")
    reminder_after: timedelta = Field(default=timedelta(hours=4), alias="REMINDER_AFTER")
    escalate_after: timedelta = Field(default=timedelta(hours=24), alias="ESCALATE_AFTER")
    destructive_approvals: int = Field(default=2, ge=1, le=5, alias="DESTRUCTIVE_APPROVALS")
    sweep_every: timedelta = Field(default=timedelta(seconds=30), alias="SWEEP_EVERY")
    approval_valid_for: timedelta = Field(default=timedelta(hours=24), alias="APPROVAL_VALID_FOR")
    request_ttl: timedelta = Field(default=timedelta(days=7), alias="REQUEST_TTL")
    break_glass_limit: int = Field(default=3, ge=1, le=100, alias="BREAK_GLASS_LIMIT")
    # signoff as a GitHub App, the deployment protection rule of GitHub environments (docs/github.md)
    github_app_id: int | None = Field(default=None, ge=1, alias="GITHUB_APP_ID")
    github_app_private_key: SecretStr | None = Field(default=None, alias="GITHUB_APP_PRIVATE_KEY")
    github_webhook_secret: SecretStr | None = Field(default=None, alias="GITHUB_WEBHOOK_SECRET")
    github_api_url: str = Field(default="https://api.github.com", alias="GITHUB_API_URL")
    github_sweep_every: timedelta = Field(default=timedelta(minutes=5), alias="GITHUB_SWEEP_EVERY")
    # Pipelines that prove who they are with an OIDC ID token (docs/pipelines.md, "Verified identity: OIDC ID tokens")
    oidc_issuers: str = Field(default="", alias="OIDC_ISSUERS")
    oidc_allow: str = Field(default="", alias="OIDC_ALLOW")

    @field_validator("slack_bot_token", "slack_signing_secret", "slack_app_token", "summary_channel", mode="before")
    @classmethod
    def _filled_in(cls, v: Any, info: ValidationInfo) -> Any:
        _not_placeholder(str(info.field_name).upper(), v)
        return v

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, v: SecretStr) -> SecretStr:
        if not v.get_secret_value().startswith("xoxb-"):
            raise ValueError("must be a bot token starting with xoxb-")
        return v

    @field_validator("slack_signing_secret")
    @classmethod
    def _secret(cls, v: SecretStr) -> SecretStr:
        if not v.get_secret_value().strip():
            raise ValueError("must not be empty")
        return v

    @field_validator("slack_app_token", mode="before")
    @classmethod
    def _app_token(cls, v: Any) -> Any:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        if isinstance(v, str) and not v.startswith("xapp-"):
            raise ValueError("must be an app-level token starting with xapp-")
        return v

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v if v.endswith("/") else v + "/"

    @field_validator("database_url")
    @classmethod
    def _db_url(cls, v: SecretStr) -> SecretStr:
        from bot.store.urls import check_url

        check_url(v.get_secret_value())
        return v

    @field_validator("summary_channel")
    @classmethod
    def _channel(cls, v: str) -> str:
        v = v.strip().lstrip("#")
        if not v:
            raise ValueError("must not be empty")
        return v

    @field_validator("policy_start", mode="before")
    @classmethod
    def _policy_start(cls, v: Any) -> Any:
        if v is None or (isinstance(v, str) and not v.strip()):
            return None
        if isinstance(v, str) and len(v.strip()) == 10:
            return datetime.combine(date.fromisoformat(v.strip()), time(0, 0), tzinfo=UTC)
        return v

    @field_validator("policy_start")
    @classmethod
    def _policy_start_tz(cls, v: datetime | None) -> datetime | None:
        if v is None:
            return None
        v = v.replace(tzinfo=UTC) if v.tzinfo is None else v.astimezone(UTC)
        today = datetime.now(UTC)
        if abs(today.year - v.year) > POLICY_START_RANGE_YEARS:
            raise ValueError(f"{v.date().isoformat()} is more than {POLICY_START_RANGE_YEARS} years from today")
        return v

    @field_validator("timezone")
    @classmethod
    def _tz(cls, v: str) -> str:
        try:
            ZoneInfo(v)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {v!r}") from exc
        return v

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, v: str) -> str:
        if v.strip().lower() not in ("text", "json"):
            raise ValueError("must be text or json")
        return v.strip().lower()

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, v: str) -> str:
        up = v.upper()
        if up not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return up

    @field_validator(
        "reminder_after", "escalate_after", "sweep_every", "approval_valid_for", "request_ttl", mode="before"
    )
    @classmethod
    def _duration(cls, v: Any) -> Any:
        return parse_duration(v) if isinstance(v, str) else v

    @field_validator("github_app_id", "github_app_private_key", "github_webhook_secret", mode="before")
    @classmethod
    def _blank_is_unset(cls, v: Any) -> Any:
        return None if isinstance(v, str) and not v.strip() else v

    @field_validator("github_app_private_key")
    @classmethod
    def _github_key(cls, v: SecretStr | None) -> SecretStr | None:
        if v is None:
            return None
        from bot.github.app_auth import load_private_key

        return SecretStr(load_private_key(v.get_secret_value()))

    @field_validator("github_api_url")
    @classmethod
    def _github_api_url(cls, v: str) -> str:
        if not v.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return v.rstrip("/")

    @field_validator("github_sweep_every", mode="before")
    @classmethod
    def _github_sweep(cls, v: Any) -> Any:
        value = parse_duration(v) if isinstance(v, str) else v
        if isinstance(value, timedelta) and not timedelta(seconds=30) <= value <= timedelta(hours=1):
            raise ValueError("must be from 30s to 1h")
        return value

    @model_validator(mode="after")
    def _github_all_or_none(self) -> Settings:
        given = {
            "GITHUB_APP_ID": self.github_app_id is not None,
            "GITHUB_APP_PRIVATE_KEY": self.github_app_private_key is not None,
            "GITHUB_WEBHOOK_SECRET": self.github_webhook_secret is not None,
        }
        if any(given.values()) and not all(given.values()):
            missing = ", ".join(name for name, set_ in given.items() if not set_)
            raise ValueError(
                f"{missing} is not set: the GitHub App needs GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and "
                "GITHUB_WEBHOOK_SECRET together"
            )
        return self

    @field_validator("oidc_issuers")
    @classmethod
    def _oidc_issuers(cls, v: str) -> str:
        from bot.http.oidc import parse_issuers

        parse_issuers(v)
        return v

    @field_validator("oidc_allow")
    @classmethod
    def _oidc_allow(cls, v: str) -> str:
        from bot.http.oidc import parse_allow

        parse_allow(v)
        return v

    @model_validator(mode="after")
    def _oidc_needs_allow(self) -> Settings:
        if self.oidc_issuers.strip() and not self.oidc_allow.strip():
            raise ValueError("OIDC_ALLOW is not set: with OIDC_ISSUERS, name the repositories whose pipelines may ask")
        return self

    @property
    def github_enabled(self) -> bool:
        return self.github_app_id is not None

    @field_validator("sweep_every")
    @classmethod
    def _sweep_every(cls, v: timedelta) -> timedelta:
        if not timedelta(seconds=1) <= v <= timedelta(minutes=10):
            raise ValueError("must be from 1s to 10m")
        return v

    @field_validator("summary_cron")
    @classmethod
    def _cron(cls, v: str) -> str:
        cron_fields(v)
        return v

    @model_validator(mode="after")
    def _escalate_after_reminder(self) -> Settings:
        if self.escalate_after <= self.reminder_after:
            raise ValueError("ESCALATE_AFTER must be longer than REMINDER_AFTER")
        return self

    @field_validator("api_tokens")
    @classmethod
    def _api_tokens(cls, v: SecretStr) -> SecretStr:
        parse_api_tokens(v.get_secret_value())
        return v

    @property
    def api_token_map(self) -> dict[str, str]:
        """Pipeline name -> token."""
        return parse_api_tokens(self.api_tokens.get_secret_value())

    @property
    def socket_mode(self) -> bool:
        return self.slack_app_token is not None

    @property
    def database(self) -> str:
        """DATABASE_URL itself; never log it (a password may be in it)."""
        return self.database_url.get_secret_value()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


MIN_API_TOKEN_LENGTH = 24


def parse_api_tokens(raw: str) -> dict[str, str]:
    tokens: dict[str, str] = {}
    for i, pair in enumerate(p.strip() for p in raw.split(",")):
        if not pair:
            continue
        name, sep, token = pair.partition(":")
        name, token = name.strip(), token.strip()
        if not sep or not name or not token:
            raise ValueError(f"entry {i + 1} is not name:token")
        if len(token) < MIN_API_TOKEN_LENGTH:
            raise ValueError(f"the token for {name!r} is shorter than {MIN_API_TOKEN_LENGTH} characters")
        if name in tokens:
            raise ValueError(f"{name!r} is listed twice")
        if token in tokens.values():
            raise ValueError(f"the token for {name!r} is also used by another pipeline")
        tokens[name] = token
    return tokens


def _model_error_setting(message: str) -> str:
    """The setting a cross-field error names first."""
    found = [(message.find(name), name) for name in HINTS if name in message]
    return min(found)[1] if found else "settings"


def _in_words(error: Any) -> str:
    """One of pydantic's errors as a person reads it: not "Input should be a valid integer, unable
    to parse string as an integer" but "is not a whole number ('eighty')"."""
    kind, ctx, given = error.get("type", ""), error.get("ctx") or {}, error.get("input")
    shown = f" ({str(given)[:40]!r})" if isinstance(given, str | int | float) else ""
    if kind in ("int_parsing", "int_type", "int_from_float"):
        return f"is not a whole number{shown}"
    if kind in ("float_parsing", "float_type"):
        return f"is not a number{shown}"
    if kind in ("bool_parsing", "bool_type"):
        return f"is not true or false{shown}"
    bounds = {"greater_than_equal": "at least", "greater_than": "more than", "less_than_equal": "at most"}
    if kind in bounds or kind == "less_than":
        limit = next(iter(ctx.values()), "")
        return f"must be {bounds.get(kind, 'less than')} {limit}{shown}"
    message = str(error.get("msg", "bad value"))
    return f"is invalid: {message.removeprefix('Value error, ')}"


def load_settings(**overrides: Any) -> Settings:
    """Build Settings, turning pydantic's errors into one ConfigurationError naming every bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        found: list[tuple[str, str]] = []
        for error in exc.errors():
            loc = error.get("loc") or ()
            name = str(loc[0]).upper() if loc else _model_error_setting(str(error.get("msg", "")))
            if error.get("type") in ("missing", PLACEHOLDER):
                problem = "is not set" + (
                    " (it still has the example value)" if error.get("type") == PLACEHOLDER else ""
                )
            else:
                problem = _in_words(error)
            if name not in (n for n, _ in found):
                found.append((name, f"{problem}; {HINTS.get(name, 'see .env.example')}."))
        (first, first_problem), rest = found[0], found[1:]
        message = " ".join([first_problem, *(f"{name}: {problem}" for name, problem in rest)])
        env_file = overrides.get("_env_file", Settings.model_config.get("env_file"))
        missing = any(error.get("type") == "missing" for error in exc.errors())
        if missing and isinstance(env_file, str) and not Path(env_file).exists():
            message += (
                f" (There is no {env_file} file here: `cp .env.example {env_file}` and fill it in, or set these"
                " in the environment.)"
            )
        raise ConfigurationError(first, message, also=tuple(name for name, _ in rest)) from None
