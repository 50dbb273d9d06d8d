"""The application factory and its configurations."""

import pytest

from app import create_app


def test_testing_config_is_used(app):
    assert app.config["TESTING"] is True


def test_production_refuses_missing_secret(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr("config.ProductionConfig.SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(
            "production",
            {"SQLALCHEMY_DATABASE_URI": "postgresql://x@localhost/db", "INSTANCE_DIR": tmp_path},
        )


def test_production_refuses_sqlite_unless_allowed(tmp_path):
    with pytest.raises(RuntimeError, match="SQLite"):
        create_app(
            "production",
            {
                "SECRET_KEY": "s" * 40,
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "INSTANCE_DIR": tmp_path,
            },
        )
    app = create_app(
        "production",
        {
            "SECRET_KEY": "s" * 40,
            "SQLALCHEMY_DATABASE_URI": "sqlite://",
            "ALLOW_SQLITE_IN_PRODUCTION": True,
            "INSTANCE_DIR": tmp_path,
        },
    )
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"


def test_development_keeps_generated_secret(tmp_path, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setattr("config.DevelopmentConfig.SECRET_KEY", None)
    first = create_app("development", {"INSTANCE_DIR": tmp_path})
    second = create_app("development", {"INSTANCE_DIR": tmp_path})
    assert first.config["SECRET_KEY"] == second.config["SECRET_KEY"]
    assert len(first.config["SECRET_KEY"]) >= 40
    assert (tmp_path / "secret_key").exists()
    assert first.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///")


def test_postgres_url_gets_psycopg_driver(tmp_path):
    app = create_app(
        "testing", {"SQLALCHEMY_DATABASE_URI": "postgres://u@h/db", "INSTANCE_DIR": tmp_path}
    )
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"


def test_max_content_length_is_set(app):
    assert app.config["MAX_CONTENT_LENGTH"] >= 50 * 1024 * 1024


def test_home_page_speaks_italian_by_default(client):
    response = client.get("/")
    assert response.status_code == 200
    assert 'lang="it"' in response.get_data(as_text=True)


def test_404_page_in_both_languages(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    client.post("/language/en")
    response = client.get("/no-such-page")
    assert "Not found" in response.get_data(as_text=True)
