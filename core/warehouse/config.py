"""Decide which warehouse to talk to and with which credential, the way Databricks users expect.

Settings are resolved like the Databricks SDK resolves them, so a workspace that works with the
`databricks` CLI works here unchanged:

1. explicit arguments (`--profile`, `--warehouse-id`) win;
2. then the environment: `DATABRICKS_HOST`, `DATABRICKS_TOKEN`, `DATABRICKS_CLIENT_ID`,
   `DATABRICKS_CLIENT_SECRET`, `DATABRICKS_SQL_WAREHOUSE_ID` (or `DATABRICKS_WAREHOUSE_ID`),
   `DATABRICKS_AUTH_TYPE`, `DATABRICKS_CONFIG_PROFILE`, `DATABRICKS_CONFIG_FILE`;
3. then one profile of the config file (`~/.databrickscfg` unless `DATABRICKS_CONFIG_FILE`),
   filling only what is still unset.

Two SDK rules people trip over are kept on purpose: when no profile is requested and a host or
any credential is already in the environment, the config file is not read at all; and a profile
that was asked for (explicitly, through `DATABRICKS_CONFIG_PROFILE`, or through
`[__settings__] default_profile`) but is missing is an error, while a missing or empty
`[DEFAULT]` just means "no file settings". A token together with an OAuth client id/secret is
"more than one authorization method" unless `DATABRICKS_AUTH_TYPE` picks one.

With no Databricks settings at all the embedded warehouse (DuckDB, in-process) is used, so the
demo needs no credentials; `warehouse="local"` forces it and `warehouse="databricks"` refuses to
fall back. Partial Databricks settings are an error rather than a silent fall back to the
embedded warehouse: a reviewer who believes they wrote to production must not have written to a
local file.

`http://` hosts are refused unless they are loopback, because the credential would cross the
network in clear text. Credentials are `Secret`s from the moment they are read.

Beyond the brief's contract: `resolve_connection` also takes `warehouse_id` (an explicit
`--warehouse-id`), and `Connection` carries `config_file` for messages.
"""

from __future__ import annotations

import configparser
import ipaddress
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal
from urllib.parse import urlsplit

from core.warehouse.errors import ConfigError
from core.warehouse.secret import Secret

Kind = Literal["local", "databricks"]
WarehouseChoice = Literal["auto", "local", "databricks"]

DEFAULT_CONFIG_FILE: Final = "~/.databrickscfg"
SETTINGS_SECTION: Final = "__settings__"
DEFAULT_SECTION: Final = "DEFAULT"
OAUTH_SCOPE: Final = "all-apis"

WAREHOUSE_ID_PATTERN: Final = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
"""Warehouse ids go into URL paths, so anything beyond id characters is refused."""

SUPPORTED_AUTH_TYPES: Final = {"pat": "pat", "oauth-m2m": "oauth"}
"""`DATABRICKS_AUTH_TYPE` values we implement, mapped to the method they select."""

AUTH_FIELDS: Final = {
    "token": "pat",
    "client_id": "oauth",
    "client_secret": "oauth",
    "username": "basic",
    "password": "basic",
    "google_service_account": "google",
    "google_credentials": "google",
    "azure_workspace_resource_id": "azure",
    "azure_use_msi": "azure",
    "azure_client_secret": "azure",
    "azure_client_id": "azure",
    "azure_tenant_id": "azure",
    "oidc_token_env": "env-oidc",
    "oidc_token_filepath": "file-oidc",
}
"""Every credential field the SDK knows, with the method it belongs to. Only `pat` and `oauth`
are supported, but all of them count for the SDK's "skip the file" and "two methods" rules."""

ENV_FIELDS: Final = {
    "DATABRICKS_HOST": "host",
    "DATABRICKS_TOKEN": "token",
    "DATABRICKS_CLIENT_ID": "client_id",
    "DATABRICKS_CLIENT_SECRET": "client_secret",
    "DATABRICKS_AUTH_TYPE": "auth_type",
    "DATABRICKS_USERNAME": "username",
    "DATABRICKS_PASSWORD": "password",
    "DATABRICKS_GOOGLE_SERVICE_ACCOUNT": "google_service_account",
    "GOOGLE_CREDENTIALS": "google_credentials",
    "DATABRICKS_AZURE_RESOURCE_ID": "azure_workspace_resource_id",
    "ARM_USE_MSI": "azure_use_msi",
    "ARM_CLIENT_SECRET": "azure_client_secret",
    "ARM_CLIENT_ID": "azure_client_id",
    "ARM_TENANT_ID": "azure_tenant_id",
    "DATABRICKS_OIDC_TOKEN_ENV": "oidc_token_env",
    "DATABRICKS_OIDC_TOKEN_FILEPATH": "oidc_token_filepath",
}
"""Environment variables read into settings fields (warehouse id is handled separately)."""

WAREHOUSE_ID_ENV: Final = ("DATABRICKS_SQL_WAREHOUSE_ID", "DATABRICKS_WAREHOUSE_ID")

FILE_FIELDS: Final = frozenset({"host", "warehouse_id", "auth_type", *AUTH_FIELDS})
"""Profile keys we read; other keys (cluster_id, jobs settings, ...) belong to other tools."""


@dataclass(frozen=True)
class TokenAuth:
    """A personal access token (or any bearer token) sent as `Authorization: Bearer`."""

    token: Secret

    def describe(self) -> str:
        """Human wording, no secret."""
        return "access token"


@dataclass(frozen=True)
class OAuthM2MAuth:
    """OAuth machine-to-machine: a service principal's id and secret, exchanged for tokens."""

    client_id: str
    client_secret: Secret
    scope: str = OAUTH_SCOPE

    def describe(self) -> str:
        """Human wording, no secret (a client id is an identifier, not a credential)."""
        return f"OAuth M2M as {self.client_id}"


@dataclass(frozen=True)
class EmbeddedAuth:
    """Credentials the embedded warehouse issues itself when a session opens it."""

    def describe(self) -> str:
        """Human wording."""
        return "embedded credentials"


Auth = TokenAuth | OAuthM2MAuth | EmbeddedAuth


@dataclass(frozen=True)
class Connection:
    """Where statements go and how requests authenticate; safe to print (secrets are redacted)."""

    kind: Kind
    host: str
    """Base URL: `https://workspace` for Databricks, the in-process URL for the embedded one."""
    warehouse_id: str
    auth: Auth
    profile: str | None = None
    """Config-file profile the settings came from, if one was read."""
    config_file: Path | None = None
    """The config file that profile was read from."""

    def describe(self) -> str:
        """One line for status bars and confirmations, e.g. `https://dbc-1.cloud.databricks.com
        (warehouse abc)`; never a secret."""
        if self.kind == "local":
            return "embedded warehouse (DuckDB)"
        extras = [f"warehouse {self.warehouse_id}"]
        if self.profile is not None:
            extras.append(f"profile {self.profile}")
        return f"{self.host} ({', '.join(extras)})"


def is_loopback_host(host: str) -> bool:
    """Whether `host` names this machine: `localhost`, 127.0.0.0/8 or ::1."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped.is_loopback
    return address.is_loopback


def normalize_host(raw: str) -> str:
    """`scheme://host[:port]` from what users paste (bare names get https, paths are dropped).

    Refuses `http://` unless the host is loopback, and URLs carrying user:password.
    """
    text = raw.strip()
    if not text:
        raise ConfigError("the Databricks host is empty")
    if "://" not in text:
        text = f"https://{text}"
    try:
        parts = urlsplit(text)
        hostname = parts.hostname
        parts.port  # noqa: B018 - parsing the port is what validates it
    except ValueError as error:
        raise ConfigError(f"the Databricks host is not a valid URL: {error}") from None
    scheme = parts.scheme.lower()
    if scheme not in ("https", "http") or not hostname:
        raise ConfigError(
            f"the Databricks host must look like https://<workspace>.cloud.databricks.com, "
            f"got scheme {scheme!r}"
        )
    if parts.username is not None or parts.password is not None:
        raise ConfigError(
            "the Databricks host must not contain a user name or password; "
            "put the credential in DATABRICKS_TOKEN or a profile"
        )
    if scheme == "http" and not is_loopback_host(hostname):
        raise ConfigError(
            f"refusing http://{hostname}: the credential would cross the network unencrypted; "
            "use https:// (plain http is allowed only for localhost/127.0.0.1/::1)"
        )
    netloc = parts.netloc.rsplit("@", 1)[-1].lower()
    return f"{scheme}://{netloc}"


@dataclass
class _Settings:
    """Raw values gathered so far, with where each came from (for error messages)."""

    values: dict[str, str]
    origin: dict[str, str]

    def set_if_unset(self, field: str, value: str, origin: str) -> None:
        value = value.strip()
        if value and field not in self.values:
            self.values[field] = value
            self.origin[field] = origin

    def auth_methods(self) -> set[str]:
        return {method for field, method in AUTH_FIELDS.items() if field in self.values}


def _warehouse_id_from_env(env: Mapping[str, str]) -> tuple[str, str] | None:
    found = [(name, env[name].strip()) for name in WAREHOUSE_ID_ENV if env.get(name, "").strip()]
    if not found:
        return None
    values = {value for _, value in found}
    if len(values) > 1:
        raise ConfigError(
            "DATABRICKS_SQL_WAREHOUSE_ID and DATABRICKS_WAREHOUSE_ID are both set and differ; "
            "unset one of them"
        )
    name, value = found[0]
    return value, name


def _default_config_path(env: Mapping[str, str]) -> Path:
    home = env.get("HOME")
    if home:
        return Path(home) / DEFAULT_CONFIG_FILE.removeprefix("~/")
    return Path(DEFAULT_CONFIG_FILE).expanduser()


def _read_config_file(path: Path) -> configparser.ConfigParser:
    # DEFAULT must be an ordinary section: configparser would otherwise copy its keys into every
    # profile, and the SDK deliberately does not. Interpolation is off because secrets contain %.
    parser = configparser.ConfigParser(default_section="\x00no-default", interpolation=None)
    try:
        with path.open(encoding="utf-8") as handle:
            parser.read_file(handle)
    except configparser.ParsingError as error:
        # The offending line may hold a secret, so name line numbers only.
        lines = ", ".join(str(number) for number, _ in error.errors)
        raise ConfigError(f"{path}: cannot parse line(s) {lines}") from None
    except configparser.DuplicateSectionError as error:
        raise ConfigError(
            f"{path}: profile [{error.section}] appears twice (line {error.lineno})"
        ) from None
    except configparser.DuplicateOptionError as error:
        raise ConfigError(
            f"{path}: key {error.option!r} appears twice in [{error.section}] (line {error.lineno})"
        ) from None
    except configparser.Error as error:
        raise ConfigError(f"{path}: not a valid config file ({type(error).__name__})") from None
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read ({error.__class__.__name__})") from None
    return parser


def _choose_profile(
    parser: configparser.ConfigParser, requested: str | None, path: Path
) -> tuple[str | None, bool]:
    """The profile to load and whether it was asked for (a missing fallback is no error)."""
    if requested is not None:
        if requested == SETTINGS_SECTION:
            raise ConfigError(f"{SETTINGS_SECTION} is reserved in {path} and is not a profile")
        return requested, True
    if parser.has_section(SETTINGS_SECTION):
        default_profile = parser.get(SETTINGS_SECTION, "default_profile", fallback="").strip()
        if default_profile:
            if default_profile == SETTINGS_SECTION:
                raise ConfigError(
                    f"{path}: [{SETTINGS_SECTION}] default_profile names the reserved section"
                )
            return default_profile, True
    if parser.has_section(DEFAULT_SECTION) and parser.items(DEFAULT_SECTION):
        return DEFAULT_SECTION, False
    return None, False


def _load_profile(settings: _Settings, requested: str | None, path: Path) -> str | None:
    """Fill unset settings from one profile; returns the profile name that was loaded."""
    if not path.exists():
        # Like the SDK: no file is simply no file settings, unless a profile was asked for.
        if requested is not None:
            raise ConfigError(
                f"profile {requested!r} was requested but the config file {path} does not exist"
            )
        return None
    parser = _read_config_file(path)
    profile, asked_for = _choose_profile(parser, requested, path)
    if profile is None:
        return None
    if not parser.has_section(profile) or profile == SETTINGS_SECTION:
        if not asked_for:
            return None
        available = [name for name in parser.sections() if name != SETTINGS_SECTION]
        listing = ", ".join(available) if available else "none"
        raise ConfigError(f"{path} has no [{profile}] profile (profiles there: {listing})")
    for key, value in parser.items(profile):
        if key in FILE_FIELDS:
            settings.set_if_unset(key, value, f"profile [{profile}] in {path}")
    return profile


def local_connection() -> Connection:
    """The embedded warehouse; its token is issued when a session opens it."""
    from core.embedded import DEFAULT_WAREHOUSE_ID, IN_PROCESS_BASE_URL

    return Connection(
        kind="local",
        host=IN_PROCESS_BASE_URL,
        warehouse_id=DEFAULT_WAREHOUSE_ID,
        auth=EmbeddedAuth(),
    )


_HOW_TO_CONFIGURE: Final = (
    "set DATABRICKS_HOST, DATABRICKS_TOKEN (or DATABRICKS_CLIENT_ID and DATABRICKS_CLIENT_SECRET) "
    "and DATABRICKS_SQL_WAREHOUSE_ID, or use a profile in ~/.databrickscfg (--profile)"
)


def resolve_connection(
    *,
    warehouse: WarehouseChoice = "auto",
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    config_file: Path | None = None,
    warehouse_id: str | None = None,
) -> Connection:
    """Resolve the connection from arguments, environment and config file (see module doc).

    `env` defaults to `os.environ`; `config_file` overrides `DATABRICKS_CONFIG_FILE`. Raises
    `ConfigError` with a message that tells the user what to change.
    """
    if warehouse == "local":
        return local_connection()
    if warehouse not in ("auto", "databricks"):
        raise ConfigError(f"--warehouse must be auto, local or databricks, not {warehouse!r}")
    environment: Mapping[str, str] = os.environ if env is None else env

    settings = _Settings(values={}, origin={})
    if warehouse_id is not None:
        settings.set_if_unset("warehouse_id", warehouse_id, "--warehouse-id")
    for name, field in ENV_FIELDS.items():
        settings.set_if_unset(field, environment.get(name, ""), name)
    from_env = _warehouse_id_from_env(environment)
    if from_env is not None:
        settings.set_if_unset("warehouse_id", *from_env)

    requested_profile = profile.strip() if profile is not None and profile.strip() else None
    if requested_profile is None:
        requested_profile = environment.get("DATABRICKS_CONFIG_PROFILE", "").strip() or None
    configured_path = environment.get("DATABRICKS_CONFIG_FILE", "").strip()
    if config_file is not None:
        path = config_file
    elif configured_path:
        path = Path(configured_path).expanduser()
    else:
        path = _default_config_path(environment)

    loaded_profile: str | None = None
    if requested_profile is not None or not ("host" in settings.values or settings.auth_methods()):
        loaded_profile = _load_profile(settings, requested_profile, path)

    values = settings.values
    methods = settings.auth_methods()
    configured = bool(methods) or "host" in values or "warehouse_id" in values
    if not configured and requested_profile is None:
        if warehouse == "auto":
            return local_connection()
        raise ConfigError(f"--warehouse databricks needs Databricks settings: {_HOW_TO_CONFIGURE}")

    auth = _build_auth(settings, methods)
    if "host" not in values:
        raise ConfigError(f"no Databricks host configured: {_HOW_TO_CONFIGURE}")
    host = normalize_host(values["host"])
    chosen_warehouse = values.get("warehouse_id")
    if chosen_warehouse is None:
        raise ConfigError(
            "no SQL warehouse id configured: set DATABRICKS_SQL_WAREHOUSE_ID (or "
            "DATABRICKS_WAREHOUSE_ID), warehouse_id in the profile, or pass --warehouse-id; "
            "or use --warehouse local for the embedded warehouse"
        )
    if not WAREHOUSE_ID_PATTERN.match(chosen_warehouse):
        raise ConfigError(
            f"the SQL warehouse id from {settings.origin['warehouse_id']} is not a valid id "
            "(letters, digits, '-' and '_' only)"
        )
    return Connection(
        kind="databricks",
        host=host,
        warehouse_id=chosen_warehouse,
        auth=auth,
        profile=loaded_profile,
        config_file=path if loaded_profile is not None else None,
    )


def _build_auth(settings: _Settings, methods: set[str]) -> Auth:
    values = settings.values
    auth_type = values.get("auth_type")
    if auth_type is not None:
        if auth_type not in SUPPORTED_AUTH_TYPES:
            raise ConfigError(
                f"auth type {auth_type!r} (from {settings.origin['auth_type']}) is not supported "
                "by impact-review; use pat or oauth-m2m"
            )
        method = SUPPORTED_AUTH_TYPES[auth_type]
    elif len(methods) > 1:
        # Mirrors the SDK's refusal, with a hint about where each credential came from.
        sources = sorted(
            f"{field} from {settings.origin[field]}" for field in AUTH_FIELDS if field in values
        )
        raise ConfigError(
            f"more than one authorization method configured: {' and '.join(sorted(methods))} "
            f"({'; '.join(sources)}); remove one, or set DATABRICKS_AUTH_TYPE"
        )
    elif methods:
        (method,) = methods
    else:
        raise ConfigError(f"no Databricks credential configured: {_HOW_TO_CONFIGURE}")

    if method == "pat":
        if "token" not in values:
            raise ConfigError(
                "auth type pat needs a token (DATABRICKS_TOKEN or token in the profile)"
            )
        return TokenAuth(Secret(values["token"]))
    if method == "oauth":
        missing = [field for field in ("client_id", "client_secret") if field not in values]
        if missing:
            names = " and ".join(f"DATABRICKS_{field.upper()}" for field in missing)
            raise ConfigError(
                f"OAuth M2M needs {names} (or {' and '.join(missing)} in the profile)"
            )
        return OAuthM2MAuth(values["client_id"], Secret(values["client_secret"]))
    raise ConfigError(
        f"the configured authorization method ({method}) is not supported by impact-review; "
        "use a personal access token or OAuth M2M (client id and secret)"
    )
