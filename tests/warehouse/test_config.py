"""Connection resolution follows the Databricks SDK's rules: arguments, then env, then a profile."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from core.warehouse.config import (
    Connection,
    EmbeddedAuth,
    OAuthM2MAuth,
    TokenAuth,
    is_loopback_host,
    normalize_host,
    resolve_connection,
)
from core.warehouse.errors import ConfigError
from core.warehouse.secret import Secret

TOKEN = "dapi-very-secret-0123456789"
CLIENT_SECRET = "dose-client-secret-9876"
HOST = "https://dbc-123.cloud.databricks.com"


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    return tmp_path / "databrickscfg"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def env_pat(**extra: str) -> dict[str, str]:
    return {
        "DATABRICKS_HOST": HOST,
        "DATABRICKS_TOKEN": TOKEN,
        "DATABRICKS_SQL_WAREHOUSE_ID": "abc123",
        **extra,
    }


def token_of(connection: Connection) -> str:
    assert isinstance(connection.auth, TokenAuth)
    return connection.auth.token.reveal()


class TestEnvironment:
    """Environment variables alone configure a workspace."""

    def test_host_token_and_warehouse_from_env(self, cfg: Path) -> None:
        connection = resolve_connection(env=env_pat(), config_file=cfg)
        assert connection.kind == "databricks"
        assert connection.host == HOST
        assert connection.warehouse_id == "abc123"
        assert token_of(connection) == TOKEN
        assert connection.profile is None
        assert connection.describe() == f"{HOST} (warehouse abc123)"

    def test_databricks_warehouse_id_is_accepted_too(self, cfg: Path) -> None:
        env = env_pat()
        del env["DATABRICKS_SQL_WAREHOUSE_ID"]
        env["DATABRICKS_WAREHOUSE_ID"] = "w-2"
        assert resolve_connection(env=env, config_file=cfg).warehouse_id == "w-2"

    def test_both_warehouse_variables_must_agree(self, cfg: Path) -> None:
        same = env_pat(DATABRICKS_WAREHOUSE_ID="abc123")
        assert resolve_connection(env=same, config_file=cfg).warehouse_id == "abc123"
        with pytest.raises(ConfigError, match="both set and differ"):
            resolve_connection(env=env_pat(DATABRICKS_WAREHOUSE_ID="other"), config_file=cfg)

    def test_explicit_warehouse_id_beats_env(self, cfg: Path) -> None:
        connection = resolve_connection(env=env_pat(), config_file=cfg, warehouse_id="cli-1")
        assert connection.warehouse_id == "cli-1"

    def test_bare_host_gets_https_and_browser_paths_are_dropped(self, cfg: Path) -> None:
        env = env_pat(DATABRICKS_HOST="DBC-123.cloud.databricks.com/?o=42#job/1")
        assert resolve_connection(env=env, config_file=cfg).host == HOST

    def test_missing_warehouse_id_is_an_error_that_mentions_local(self, cfg: Path) -> None:
        env = env_pat()
        del env["DATABRICKS_SQL_WAREHOUSE_ID"]
        with pytest.raises(ConfigError, match="no SQL warehouse id") as caught:
            resolve_connection(env=env, config_file=cfg)
        assert "--warehouse local" in caught.value.message

    def test_bad_warehouse_id_is_refused(self, cfg: Path) -> None:
        with pytest.raises(ConfigError, match="not a valid id"):
            resolve_connection(env=env_pat(DATABRICKS_SQL_WAREHOUSE_ID="../x"), config_file=cfg)

    def test_partial_settings_never_fall_back_to_embedded(self, cfg: Path) -> None:
        with pytest.raises(ConfigError, match="no Databricks credential"):
            resolve_connection(env={"DATABRICKS_HOST": HOST}, config_file=cfg)
        with pytest.raises(ConfigError, match="no Databricks host"):
            resolve_connection(env={"DATABRICKS_TOKEN": TOKEN}, config_file=cfg)


class TestWarehouseChoice:
    """`--warehouse auto|local|databricks`."""

    def test_nothing_configured_means_embedded(self, cfg: Path) -> None:
        connection = resolve_connection(env={}, config_file=cfg)
        assert connection.kind == "local"
        assert isinstance(connection.auth, EmbeddedAuth)
        assert connection.describe() == "embedded warehouse (DuckDB)"

    def test_local_wins_over_any_configuration(self, cfg: Path) -> None:
        write(cfg, "[broken\n")
        connection = resolve_connection(warehouse="local", env=env_pat(), config_file=cfg)
        assert connection.kind == "local"

    def test_databricks_without_settings_is_a_clear_error(self, cfg: Path) -> None:
        with pytest.raises(ConfigError, match="--warehouse databricks needs Databricks settings"):
            resolve_connection(warehouse="databricks", env={}, config_file=cfg)

    def test_databricks_with_settings(self, cfg: Path) -> None:
        connection = resolve_connection(warehouse="databricks", env=env_pat(), config_file=cfg)
        assert connection.kind == "databricks"


class TestConfigFile:
    """Profiles in ~/.databrickscfg and the SDK's rules about when it is read."""

    def test_default_profile_is_used_when_env_has_nothing(self, cfg: Path) -> None:
        write(cfg, f"[DEFAULT]\nhost = {HOST}\ntoken = {TOKEN}\nwarehouse_id = wh1\n")
        connection = resolve_connection(env={}, config_file=cfg)
        assert (connection.host, connection.warehouse_id, token_of(connection)) == (
            HOST,
            "wh1",
            TOKEN,
        )
        assert connection.profile == "DEFAULT"
        assert connection.describe() == f"{HOST} (warehouse wh1, profile DEFAULT)"

    def test_config_file_env_variable_is_honoured(self, cfg: Path) -> None:
        write(cfg, f"[DEFAULT]\nhost = {HOST}\ntoken = {TOKEN}\nwarehouse_id = wh1\n")
        connection = resolve_connection(env={"DATABRICKS_CONFIG_FILE": str(cfg)})
        assert connection.warehouse_id == "wh1"

    def test_config_file_argument_beats_the_env_variable(self, cfg: Path, tmp_path: Path) -> None:
        write(cfg, f"[DEFAULT]\nhost = {HOST}\ntoken = {TOKEN}\nwarehouse_id = wh1\n")
        other = write(tmp_path / "other", "[DEFAULT]\nhost = h\ntoken = t\nwarehouse_id = wh2\n")
        connection = resolve_connection(env={"DATABRICKS_CONFIG_FILE": str(cfg)}, config_file=other)
        assert connection.warehouse_id == "wh2"

    def test_missing_file_is_no_settings_unless_a_profile_is_requested(
        self, tmp_path: Path
    ) -> None:
        env = {"DATABRICKS_CONFIG_FILE": str(tmp_path / "nope")}
        assert resolve_connection(env=env).kind == "local"
        with pytest.raises(ConfigError, match="does not exist"):
            resolve_connection(env={**env, "DATABRICKS_CONFIG_PROFILE": "p"})

    def test_file_is_not_read_when_env_has_a_host_and_no_profile_is_requested(
        self, cfg: Path
    ) -> None:
        write(cfg, "[DEFAULT]\nhost = https://file-host.example.com\ntoken = from-file\n")
        connection = resolve_connection(env=env_pat(), config_file=cfg)
        assert connection.host == HOST
        assert connection.profile is None
        # The gotcha: a token only in the file does not complete an env host.
        with pytest.raises(ConfigError, match="no Databricks credential"):
            resolve_connection(env={"DATABRICKS_HOST": HOST}, config_file=cfg)

    def test_file_is_not_read_when_env_has_any_credential(self, cfg: Path) -> None:
        write(cfg, f"[DEFAULT]\nhost = {HOST}\nwarehouse_id = wh1\n")
        with pytest.raises(ConfigError, match="no Databricks host"):
            resolve_connection(env={"DATABRICKS_TOKEN": TOKEN}, config_file=cfg)

    def test_warehouse_id_alone_in_env_still_reads_the_file(self, cfg: Path) -> None:
        write(cfg, f"[DEFAULT]\nhost = {HOST}\ntoken = {TOKEN}\nwarehouse_id = file-wh\n")
        env = {"DATABRICKS_SQL_WAREHOUSE_ID": "env-wh"}
        connection = resolve_connection(env=env, config_file=cfg)
        assert (connection.host, connection.warehouse_id) == (HOST, "env-wh")

    def test_requested_profile_fills_only_what_env_left_unset(self, cfg: Path) -> None:
        write(
            cfg,
            "[prod]\nhost = https://file-host.example.com\ntoken = file-token\nwarehouse_id = w9\n",
        )
        env = {"DATABRICKS_HOST": HOST}
        connection = resolve_connection(profile="prod", env=env, config_file=cfg)
        assert connection.host == HOST  # env beats file
        assert token_of(connection) == "file-token"
        assert connection.warehouse_id == "w9"
        assert connection.profile == "prod"
        assert connection.config_file == cfg

    def test_profile_from_env_counts_as_requested(self, cfg: Path) -> None:
        write(cfg, "[staging]\nhost = https://s.example.com\ntoken = t\nwarehouse_id = w\n")
        env = {"DATABRICKS_CONFIG_PROFILE": "staging", "DATABRICKS_TOKEN": TOKEN}
        connection = resolve_connection(env=env, config_file=cfg)
        assert connection.host == "https://s.example.com"
        assert token_of(connection) == TOKEN

    def test_profile_argument_beats_profile_env(self, cfg: Path) -> None:
        write(
            cfg,
            "[a]\nhost = https://a.example.com\ntoken = t\nwarehouse_id = w\n"
            "[b]\nhost = https://b.example.com\ntoken = t\nwarehouse_id = w\n",
        )
        env = {"DATABRICKS_CONFIG_PROFILE": "a"}
        assert resolve_connection(profile="b", env=env, config_file=cfg).host == (
            "https://b.example.com"
        )

    def test_requested_missing_profile_is_an_error_listing_profiles(self, cfg: Path) -> None:
        write(cfg, "[DEFAULT]\nhost = h\n[dev]\nhost = h\n[__settings__]\n")
        with pytest.raises(ConfigError, match=r"has no \[prod\] profile") as caught:
            resolve_connection(profile="prod", env={}, config_file=cfg)
        assert "profiles there: DEFAULT, dev" in caught.value.message

    def test_requested_profile_without_a_file_is_an_error(self, cfg: Path) -> None:
        with pytest.raises(ConfigError, match="'prod' was requested"):
            resolve_connection(profile="prod", env={}, config_file=cfg)

    def test_settings_default_profile_is_used(self, cfg: Path) -> None:
        write(
            cfg,
            "[__settings__]\ndefault_profile = work\n"
            "[DEFAULT]\nhost = https://default.example.com\ntoken = t\nwarehouse_id = w\n"
            "[work]\nhost = https://work.example.com\ntoken = t\nwarehouse_id = w\n",
        )
        connection = resolve_connection(env={}, config_file=cfg)
        assert connection.host == "https://work.example.com"
        assert connection.profile == "work"

    def test_settings_default_profile_that_is_missing_is_an_error(self, cfg: Path) -> None:
        write(cfg, "[__settings__]\ndefault_profile = gone\n[DEFAULT]\nhost = h\ntoken = t\n")
        with pytest.raises(ConfigError, match=r"no \[gone\] profile"):
            resolve_connection(env={}, config_file=cfg)

    def test_settings_section_is_not_a_profile(self, cfg: Path) -> None:
        write(cfg, "[__settings__]\ndefault_profile = x\n")
        with pytest.raises(ConfigError, match="reserved"):
            resolve_connection(profile="__settings__", env={}, config_file=cfg)

    def test_empty_or_absent_default_means_no_file_settings(self, cfg: Path) -> None:
        write(cfg, "[DEFAULT]\n[other]\nhost = https://o.example.com\ntoken = t\n")
        assert resolve_connection(env={}, config_file=cfg).kind == "local"

    def test_default_keys_do_not_leak_into_other_profiles(self, cfg: Path) -> None:
        write(
            cfg,
            f"[DEFAULT]\ntoken = {TOKEN}\nwarehouse_id = w\n[p]\nhost = https://p.example.com\n",
        )
        with pytest.raises(ConfigError, match="no Databricks credential"):
            resolve_connection(profile="p", env={}, config_file=cfg)

    def test_percent_signs_in_secrets_are_kept(self, cfg: Path) -> None:
        write(cfg, "[DEFAULT]\nhost = https://h.example.com\ntoken = a%b%%c\nwarehouse_id = w\n")
        assert token_of(resolve_connection(env={}, config_file=cfg)) == "a%b%%c"

    def test_unparseable_file_error_names_lines_not_content(self, cfg: Path) -> None:
        write(cfg, f"[DEFAULT]\nhost = {HOST}\n{TOKEN}\n")
        with pytest.raises(ConfigError, match=r"line\(s\) 3") as caught:
            resolve_connection(env={}, config_file=cfg)
        assert TOKEN not in str(caught.value)

    def test_file_values_for_other_tools_are_ignored(self, cfg: Path) -> None:
        write(
            cfg,
            f"[DEFAULT]\nhost = {HOST}\ntoken = {TOKEN}\nwarehouse_id = w\ncluster_id = c\n"
            "jobs-api-version = 2.1\n",
        )
        assert resolve_connection(env={}, config_file=cfg).warehouse_id == "w"


class TestAuthMethods:
    """Token or OAuth M2M, never both unless DATABRICKS_AUTH_TYPE picks one."""

    def test_oauth_m2m_from_env(self, cfg: Path) -> None:
        env = {
            "DATABRICKS_HOST": HOST,
            "DATABRICKS_CLIENT_ID": "sp-client",
            "DATABRICKS_CLIENT_SECRET": CLIENT_SECRET,
            "DATABRICKS_SQL_WAREHOUSE_ID": "w",
        }
        connection = resolve_connection(env=env, config_file=cfg)
        assert isinstance(connection.auth, OAuthM2MAuth)
        assert connection.auth.client_id == "sp-client"
        assert connection.auth.client_secret.reveal() == CLIENT_SECRET
        assert connection.auth.scope == "all-apis"

    def test_oauth_m2m_from_profile(self, cfg: Path) -> None:
        write(
            cfg,
            f"[sp]\nhost = {HOST}\nclient_id = c1\nclient_secret = {CLIENT_SECRET}\n"
            "warehouse_id = w\n",
        )
        connection = resolve_connection(profile="sp", env={}, config_file=cfg)
        assert isinstance(connection.auth, OAuthM2MAuth)

    def test_oauth_needs_both_halves(self, cfg: Path) -> None:
        env = {"DATABRICKS_HOST": HOST, "DATABRICKS_CLIENT_ID": "c", "DATABRICKS_WAREHOUSE_ID": "w"}
        with pytest.raises(ConfigError, match="DATABRICKS_CLIENT_SECRET"):
            resolve_connection(env=env, config_file=cfg)

    def test_token_and_client_credentials_is_more_than_one_method(self, cfg: Path) -> None:
        env = env_pat(DATABRICKS_CLIENT_ID="c", DATABRICKS_CLIENT_SECRET=CLIENT_SECRET)
        with pytest.raises(ConfigError, match="more than one authorization method") as caught:
            resolve_connection(env=env, config_file=cfg)
        assert "oauth and pat" in caught.value.message
        assert TOKEN not in str(caught.value) and CLIENT_SECRET not in str(caught.value)

    def test_conflict_across_env_and_requested_profile(self, cfg: Path) -> None:
        write(cfg, f"[sp]\nclient_id = c\nclient_secret = {CLIENT_SECRET}\n")
        with pytest.raises(ConfigError, match="more than one authorization method"):
            resolve_connection(profile="sp", env=env_pat(), config_file=cfg)

    def test_auth_type_picks_one_method(self, cfg: Path) -> None:
        env = env_pat(
            DATABRICKS_CLIENT_ID="c",
            DATABRICKS_CLIENT_SECRET=CLIENT_SECRET,
            DATABRICKS_AUTH_TYPE="oauth-m2m",
        )
        assert isinstance(resolve_connection(env=env, config_file=cfg).auth, OAuthM2MAuth)
        env["DATABRICKS_AUTH_TYPE"] = "pat"
        assert token_of(resolve_connection(env=env, config_file=cfg)) == TOKEN

    def test_unsupported_methods_are_named(self, cfg: Path) -> None:
        env = {
            "DATABRICKS_HOST": HOST,
            "DATABRICKS_USERNAME": "u",
            "DATABRICKS_PASSWORD": "p",
            "DATABRICKS_WAREHOUSE_ID": "w",
        }
        with pytest.raises(ConfigError, match=r"\(basic\) is not supported"):
            resolve_connection(env=env, config_file=cfg)
        with pytest.raises(ConfigError, match="'azure-cli'"):
            resolve_connection(env=env_pat(DATABRICKS_AUTH_TYPE="azure-cli"), config_file=cfg)


class TestHosts:
    """Plain http only to this machine; credentials never in the URL."""

    @pytest.mark.parametrize(
        "host",
        ["http://127.0.0.1:8080", "http://127.9.9.9", "http://localhost:1", "http://[::1]:9"],
    )
    def test_http_to_loopback_is_allowed(self, host: str, cfg: Path) -> None:
        connection = resolve_connection(env=env_pat(DATABRICKS_HOST=host), config_file=cfg)
        assert connection.host == host

    @pytest.mark.parametrize(
        "host", ["http://dbc-1.cloud.databricks.com", "http://10.0.0.1", "http://localhost.evil.io"]
    )
    def test_http_elsewhere_is_refused(self, host: str, cfg: Path) -> None:
        with pytest.raises(ConfigError, match="unencrypted"):
            resolve_connection(env=env_pat(DATABRICKS_HOST=host), config_file=cfg)

    def test_other_schemes_and_userinfo_are_refused(self) -> None:
        with pytest.raises(ConfigError, match="scheme"):
            normalize_host("ftp://h.example.com")
        with pytest.raises(ConfigError, match="user name or password"):
            normalize_host(f"https://me:{TOKEN}@h.example.com")

    def test_loopback_detection(self) -> None:
        assert is_loopback_host("::ffff:127.0.0.1")
        assert not is_loopback_host("::ffff:10.0.0.1")
        assert not is_loopback_host("127.0.0.1.nip.io")


class TestSecrecy:
    """The credential never shows in reprs, strings, errors or pickles."""

    def test_connection_repr_and_describe_hide_the_token(self, cfg: Path) -> None:
        connection = resolve_connection(env=env_pat(), config_file=cfg)
        for text in (repr(connection), str(connection), connection.describe(), f"{connection}"):
            assert TOKEN not in text
        assert "********" in repr(connection)

    def test_oauth_secret_is_hidden_too(self) -> None:
        auth = OAuthM2MAuth("c", Secret(CLIENT_SECRET))
        assert CLIENT_SECRET not in repr(auth) and CLIENT_SECRET not in auth.describe()

    def test_secret_wrapper(self) -> None:
        secret = Secret(TOKEN)
        assert TOKEN not in f"{secret} {secret!r} {secret:>40} {[secret]}"
        assert secret == Secret(TOKEN) and secret != Secret("other")
        assert secret.reveal() == TOKEN
        with pytest.raises(TypeError):
            pickle.dumps(secret)
