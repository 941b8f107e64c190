"""Files through one interface: S3 (boto3 against moto's S3 server over HTTP) and a local folder."""

import io

import pytest

from app.storage import LocalStorage, S3Storage, StorageError, make_key, storage_from_url


@pytest.fixture
def s3(s3_server):
    storage = S3Storage(
        "portal-test", endpoint_url=s3_server, region="us-east-1", access_key="testing", secret_key="testing"
    )
    storage.ensure_bucket()
    return storage


def test_keys_always_start_with_the_tenant():
    key = make_key(42, "ticket-7")
    assert key.startswith("42/ticket-7/") and len(key.split("/")[-1]) == 32


def test_s3_round_trip_keeps_bytes_and_content_type(s3):
    key = make_key(1, 5)
    payload = "Számla – příloha – załącznik".encode("utf-8") * 1000
    s3.put(key, io.BytesIO(payload), "text/plain; charset=utf-8")
    assert s3.exists(key)
    assert s3.open(key).read() == payload
    head = s3.client.head_object(Bucket=s3.bucket, Key=key)
    assert head["ContentType"] == "text/plain; charset=utf-8"
    s3.delete(key)
    assert not s3.exists(key)


def test_s3_presigned_download_names_the_original_file(s3):
    import urllib.request

    key = make_key(1, 9)
    s3.put(key, io.BytesIO(b"%PDF-1.4 test"), "application/pdf")
    url = s3.presigned_url(key, filename="Árvíztűrő tükörfúrógép.pdf")
    with urllib.request.urlopen(url) as response:
        assert response.read() == b"%PDF-1.4 test"
        disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "%C3%81rv%C3%ADzt%C5%B1r%C5%91" in disposition


def test_s3_outage_is_a_storage_error_not_a_crash(s3_server):
    storage = S3Storage(
        "missing-bucket", endpoint_url=s3_server, region="us-east-1", access_key="testing", secret_key="testing"
    )
    with pytest.raises(StorageError):
        storage.check()
    unreachable = S3Storage(
        "x", endpoint_url="http://127.0.0.1:9", region="us-east-1", access_key="testing", secret_key="testing"
    )
    with pytest.raises(StorageError):
        unreachable.put("1/x", io.BytesIO(b"x"), "text/plain")


def test_local_storage_round_trip_and_refuses_keys_outside_its_folder(tmp_path):
    storage = LocalStorage(tmp_path / "files")
    key = make_key(3, 4)
    storage.put(key, io.BytesIO(b"hello"), "text/plain")
    assert storage.open(key).read() == b"hello"
    with pytest.raises(StorageError):
        storage.open("../../etc/passwd")
    storage.delete(key)
    assert not storage.exists(key)


def test_storage_url_selects_the_backend(tmp_path, s3_server):
    assert isinstance(storage_from_url(f"file://{tmp_path}", {}), LocalStorage)
    s3 = storage_from_url(
        "s3://bucket",
        {"S3_ENDPOINT_URL": s3_server, "S3_REGION": "us-east-1", "S3_ACCESS_KEY_ID": "a", "S3_SECRET_ACCESS_KEY": "b"},
    )
    assert isinstance(s3, S3Storage) and s3.bucket == "bucket"
    with pytest.raises(ValueError):
        storage_from_url("ftp://x", {})
