"""GET /healthz reports the database, Redis and storage."""

from tests.conftest import portal_url


def test_healthy(client):
    response = client.get(portal_url(None, "/healthz"))
    assert response.status_code == 200
    assert response.json == {"status": "ok", "db": "ok", "redis": "ok", "storage": "ok"}


def test_redis_down_is_reported(app_config):
    from app import create_app

    app = create_app(dict(app_config, REDIS_URL="redis://127.0.0.1:9/0"))
    response = app.test_client().get(portal_url(None, "/healthz"))
    assert response.status_code == 503
    assert response.json["redis"] == "error" and response.json["db"] == "ok"


def test_storage_down_is_reported(app_config, s3_server):
    from app import create_app

    app = create_app(
        dict(
            app_config,
            STORAGE_URL="s3://no-such-bucket",
            S3_ENDPOINT_URL=s3_server,
            S3_ACCESS_KEY_ID="a",
            S3_SECRET_ACCESS_KEY="b",
        )
    )
    response = app.test_client().get(portal_url(None, "/healthz"))
    assert response.status_code == 503 and response.json["storage"] == "error"
