from pathlib import Path

import pytest

from batch.config import OPTIONS, resolve_settings
from batch.errors import ConfigError


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "batch.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_flag_beats_environment_beats_file(tmp_path):
    """A flag wins over BATCH_* which wins over the config file, which wins over the default."""
    config = _write(tmp_path, "rate = 1\nconcurrency = 2\nmax_attempts = 3\n")
    env = {"BATCH_RATE": "7", "BATCH_CONCURRENCY": "9"}
    settings = resolve_settings({"rate": 11.0}, env=env, config_file=config)
    assert (settings.rate, settings.concurrency, settings.max_attempts) == (11.0, 9, 3)
    assert settings.read_timeout == 30.0
    assert settings.sources["rate"] == "flag"
    assert settings.sources["concurrency"] == "env"
    assert settings.sources["max_attempts"] == "file"
    assert settings.sources["read_timeout"] == "default"


def test_sections_are_only_for_readability(tmp_path):
    """`[submit] rate = 2` reads the same as a top-level `rate = 2`; TOML types are accepted."""
    config = _write(
        tmp_path,
        "[submit]\nrate = 2\nresend_all = true\n[input]\ndate_only_time = 12:00:00\n"
        '[service]\nwsdl = "https://x.invalid/s?wsdl"\n',
    )
    settings = resolve_settings({}, env={}, config_file=config)
    assert settings.rate == 2.0
    assert settings.resend_all is True
    assert str(settings.date_only_time) == "12:00:00"
    assert not settings.uses_simulator


def test_unknown_setting_is_a_clear_error(tmp_path):
    """A misspelt setting names itself and lists the known ones instead of being ignored."""
    config = _write(tmp_path, "concurency = 3\n")
    with pytest.raises(ConfigError, match=r"unknown setting.*concurency.*known settings"):
        resolve_settings({}, env={}, config_file=config)


def test_bad_value_names_its_source():
    """A bad environment value says which variable and what is expected."""
    with pytest.raises(ConfigError, match="BATCH_CONCURRENCY: concurrency must be greater than 0"):
        resolve_settings({}, env={"BATCH_CONCURRENCY": "0"})


def test_secrets_never_print():
    """Passwords from the environment are hidden in the printable settings and the repr."""
    settings = resolve_settings({}, env={"BATCH_TLS_PKCS12_PASSWORD": "hemmelig-kode"})
    assert settings.tls_pkcs12_password == "hemmelig-kode"
    assert settings.printable()["tls_pkcs12_password"] == "***"
    assert "hemmelig-kode" not in repr(settings)


def test_certificates_and_secrets_are_not_command_line_options():
    """Certificate paths and passwords may come only from the config file or the environment."""
    not_cli = {option.name for option in OPTIONS if not option.cli}
    assert {"tls_pkcs12", "tls_pkcs12_password", "sign_key", "sign_key_password"} <= not_cli
    assert all(name.startswith(("tls_", "sign_")) for name in not_cli)


def test_missing_config_file_is_a_config_error(tmp_path):
    """A config file that does not exist stops the run with a message naming it."""
    with pytest.raises(ConfigError, match="does not exist"):
        resolve_settings({}, env={}, config_file=tmp_path / "nope.toml")


def test_passwords_come_from_systemd_credentials(tmp_path):
    """$CREDENTIALS_DIRECTORY/<setting name> fills a password not given otherwise."""
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "tls_pkcs12_password").write_text("fra-systemd\n", encoding="utf-8")
    env = {"CREDENTIALS_DIRECTORY": str(credentials)}
    settings = resolve_settings({}, env=env)
    assert settings.tls_pkcs12_password == "fra-systemd"  # without the line break
    assert settings.sign_pkcs12_password is None
    assert settings.sources["tls_pkcs12_password"] == "credential"
    given = resolve_settings({}, env={**env, "BATCH_TLS_PKCS12_PASSWORD": "direkte"})
    assert given.tls_pkcs12_password == "direkte"  # a password given directly wins


def test_password_file_settings_are_read(tmp_path):
    """`*_password_file` reads the password from a file; a password and its file is refused."""
    secret = tmp_path / "sign.pass"
    secret.write_text("fra-fil", encoding="utf-8")
    config = _write(tmp_path, f'sign_pkcs12_password_file = "{secret}"\n')
    settings = resolve_settings({}, env={}, config_file=config)
    assert settings.sign_pkcs12_password == "fra-fil"
    assert settings.printable()["sign_pkcs12_password"] == "***"
    both = {"BATCH_SIGN_PKCS12_PASSWORD": "x"}
    with pytest.raises(ConfigError, match="sign_pkcs12_password and sign_pkcs12_password_file"):
        resolve_settings({}, env=both, config_file=config)
    missing = {"BATCH_TLS_PKCS12_PASSWORD_FILE": str(tmp_path / "nope")}
    with pytest.raises(ConfigError, match=r"tls_pkcs12_password: the password file .*nope"):
        resolve_settings({}, env=missing)


def test_reports_default_to_a_per_user_data_folder():
    """Without report_dir, workbooks go under $XDG_DATA_HOME/batch/reports, not the cwd."""
    from batch.config import DEFAULT_REPORT_DIR

    assert resolve_settings({}, env={}).report_dir == DEFAULT_REPORT_DIR
    assert DEFAULT_REPORT_DIR.is_absolute()
    assert DEFAULT_REPORT_DIR.parts[-2:] == ("batch", "reports")


def test_a_proxy_password_never_prints_and_never_comes_from_a_flag():
    """BATCH_PROXY's password is masked in the printable settings; --proxy with one is refused."""
    settings = resolve_settings({}, env={"BATCH_PROXY": "http://kommune:hemmelig@proxy:3128"})
    assert settings.proxy == "http://kommune:hemmelig@proxy:3128"
    assert settings.printable()["proxy"] == "http://kommune:***@proxy:3128"
    assert "hemmelig" not in repr(settings)
    with pytest.raises(ConfigError, match="BATCH_PROXY") as raised:
        resolve_settings({"proxy": "http://kommune:hemmelig@proxy:3128"}, env={})
    assert "hemmelig" not in str(raised.value)
    assert resolve_settings({"proxy": "http://proxy:3128"}, env={}).proxy == "http://proxy:3128"


def test_a_proxy_that_is_no_url_is_refused():
    """A proxy setting must be an http(s) URL or none."""
    with pytest.raises(ConfigError, match="proxy"):
        resolve_settings({}, env={"BATCH_PROXY": "socks5://proxy:1080"})
    assert resolve_settings({}, env={"BATCH_PROXY": "none"}).proxy == "none"
