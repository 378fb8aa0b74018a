"""Settings: environment > .streamlit/secrets.toml > defaults."""

from __future__ import annotations

import pytest

from simulator.config import DEFAULT_DATABASE_URL, ConfigError, Settings, load_settings

SECRET = "sk-test-0123456789abcdef"


@pytest.fixture
def secrets_file(tmp_path):
    path = tmp_path / ".streamlit" / "secrets.toml"
    path.parent.mkdir()
    return path


def test_defaults_without_env_or_file(tmp_path):
    settings = load_settings(env={}, secrets_path=tmp_path / "missing.toml")
    assert settings.database_url == DEFAULT_DATABASE_URL == "sqlite:///data/tenang.db"
    assert settings.openai_api_key is None and settings.openai_base_url is None
    assert settings.customer_model is None and settings.judge_model is None
    assert settings.offline
    assert set(settings.sources.values()) == {"default"}


def test_secrets_file_is_used(secrets_file):
    secrets_file.write_text(
        f'DATABASE_URL = "sqlite:///x.db"\nOPENAI_API_KEY = "{SECRET}"\n'
        'OPENAI_BASE_URL = "http://localhost:11434/v1"\nTENANG_CUSTOMER_MODEL = "qwen"\n'
        'TENANG_JUDGE_MODEL = "judge"\n\n[connections.other]\nurl = "ignored"\n'
    )
    settings = load_settings(env={}, secrets_path=secrets_file)
    assert settings.database_url == "sqlite:///x.db"
    assert settings.openai_api_key.get_secret_value() == SECRET
    assert settings.openai_base_url == "http://localhost:11434/v1"
    assert (settings.customer_model, settings.judge_model) == ("qwen", "judge")
    assert settings.sources["openai_api_key"] == "secrets"
    assert not settings.offline


def test_env_beats_secrets_beats_default(secrets_file):
    secrets_file.write_text('DATABASE_URL = "sqlite:///from-file.db"\nTENANG_JUDGE_MODEL = "file-judge"\n')
    env = {"DATABASE_URL": "sqlite:///from-env.db", "TENANG_CUSTOMER_MODEL": "env-customer"}
    settings = load_settings(env=env, secrets_path=secrets_file)
    assert settings.database_url == "sqlite:///from-env.db"  # env over file
    assert settings.judge_model == "file-judge"  # file over default
    assert settings.customer_model == "env-customer"  # env over default
    assert settings.openai_base_url is None  # default
    assert settings.sources == {
        "database_url": "env",
        "openai_api_key": "default",
        "openai_base_url": "default",
        "customer_model": "env",
        "judge_model": "secrets",
        "session_secret": "default",
        "session_idle_minutes": "default",
        "session_max_hours": "default",
    }


def test_empty_env_value_does_not_shadow_secrets(secrets_file):
    secrets_file.write_text(f'OPENAI_API_KEY = "{SECRET}"\n')
    settings = load_settings(env={"OPENAI_API_KEY": "  "}, secrets_path=secrets_file)
    assert settings.openai_api_key.get_secret_value() == SECRET


def test_reads_only_the_given_env(monkeypatch, tmp_path):
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    assert load_settings(env={}, secrets_path=tmp_path / "none.toml").openai_api_key is None
    assert load_settings(secrets_path=tmp_path / "none.toml").openai_api_key is not None  # os.environ by default


def test_offline_needs_neither_key_nor_base_url(tmp_path):
    none = tmp_path / "none.toml"
    assert load_settings(env={}, secrets_path=none).offline
    assert not load_settings(env={"OPENAI_API_KEY": SECRET}, secrets_path=none).offline
    assert not load_settings(env={"OPENAI_BASE_URL": "http://vllm:8000/v1"}, secrets_path=none).offline
    assert load_settings(env={"TENANG_CUSTOMER_MODEL": "m"}, secrets_path=none).offline


def test_secret_never_shown(tmp_path):
    settings = load_settings(
        env={"OPENAI_API_KEY": SECRET, "DATABASE_URL": "postgresql://tenang:dbpass123@db/tenang"},
        secrets_path=tmp_path / "none.toml",
    )
    for shown in (repr(settings), str(settings), settings.model_dump_json(), f"{settings}"):
        assert SECRET not in shown
    assert "dbpass123" not in repr(settings) and "dbpass123" not in str(settings)
    assert "dbpass123" not in settings.database_url_display
    assert settings.database_url == "postgresql://tenang:dbpass123@db/tenang"  # the real value is intact
    assert settings.openai_api_key.get_secret_value() == SECRET


def test_malformed_secrets_names_file_and_line(secrets_file):
    secrets_file.write_text('DATABASE_URL = "sqlite:///ok.db"\nOPENAI_API_KEY = = "x"\n')
    with pytest.raises(ConfigError) as info:
        load_settings(env={}, secrets_path=secrets_file)
    message = str(info.value)
    assert str(secrets_file) in message and "line 2" in message


def test_non_string_value_in_secrets(secrets_file):
    secrets_file.write_text("TENANG_JUDGE_MODEL = 3\n")
    with pytest.raises(ConfigError, match="TENANG_JUDGE_MODEL.*string") as info:
        load_settings(env={}, secrets_path=secrets_file)
    assert str(secrets_file) in str(info.value)


def test_invalid_database_url_does_not_echo_it(tmp_path):
    with pytest.raises(ConfigError, match="DATABASE_URL") as info:
        load_settings(env={"DATABASE_URL": "not a url with pass s3cr3t"}, secrets_path=tmp_path / "none.toml")
    assert "s3cr3t" not in str(info.value)


def test_settings_are_immutable():
    settings = Settings()
    with pytest.raises(Exception):
        settings.database_url = "sqlite:///other.db"


def test_sign_in_session_keys(secrets_file):
    secrets_file.write_text("TENANG_SESSION_IDLE_MINUTES = 30\nTENANG_SESSION_SECRET = \"k\"\n")
    settings = load_settings(env={"TENANG_SESSION_MAX_HOURS": "12"}, secrets_path=secrets_file)
    assert (settings.session_idle_minutes, settings.session_max_hours) == (30, 12)
    assert settings.session_secret.get_secret_value() == "k" and "k'" not in repr(settings)
    defaults = load_settings(env={}, secrets_path=secrets_file.with_name("none.toml"))
    assert (defaults.session_idle_minutes, defaults.session_max_hours) == (480, 168)
    with pytest.raises(ConfigError, match="TENANG_SESSION_MAX_HOURS"):
        load_settings(env={"TENANG_SESSION_MAX_HOURS": "0"}, secrets_path=secrets_file)
