"""The test suite's own rule: a service a test needs that is missing skips locally and fails under CI=true."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from tests import conftest, s3server
from tests.conftest import free_port, require_service, s3_endpoint

# Either outcome is caught and then checked: a test that let a skip escape would itself just be skipped.
OUTCOMES = (pytest.fail.Exception, pytest.skip.Exception)


@pytest.mark.parametrize(("in_ci", "outcome"), [(True, pytest.fail.Exception), (False, pytest.skip.Exception)])
def test_a_closed_port_fails_in_ci_and_skips_locally(monkeypatch: pytest.MonkeyPatch, in_ci: bool,
                                                    outcome: type[BaseException]) -> None:
    monkeypatch.setattr(conftest, "IN_CI", in_ci)
    port = free_port()  # bound and released: nothing listens there
    with pytest.raises(OUTCOMES) as info:
        require_service("redis", "127.0.0.1", port)
    assert info.type is outcome
    assert f"redis is not reachable on 127.0.0.1:{port}; start it to run this test" in str(info.value)
    assert ("CI=true: a missing service is a failure" in str(info.value)) is in_ci


def test_an_unreachable_given_s3_url_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conftest, "IN_CI", True)
    port = free_port()
    environ = {"PORTFLARE_TEST_S3_URL": f"s3://minio:minio123@127.0.0.1:{port}/?secure=false"}
    with pytest.raises(OUTCOMES, match=rf"S3 server of PORTFLARE_TEST_S3_URL is not reachable on "
                                       rf"127.0.0.1:{port}.*CI=true") as info:
        with s3_endpoint(environ):
            pass
    assert info.type is pytest.fail.Exception


@pytest.mark.parametrize(("in_ci", "outcome"), [(True, pytest.fail.Exception), (False, pytest.skip.Exception)])
def test_moto_that_cannot_start_fails_in_ci_and_skips_locally(monkeypatch: pytest.MonkeyPatch, in_ci: bool,
                                                              outcome: type[BaseException]) -> None:
    @contextmanager
    def broken(startup_timeout: float = 20.0) -> Iterator[str]:
        raise RuntimeError("moto server exited: No module named moto")
        yield ""

    monkeypatch.setattr(conftest, "IN_CI", in_ci)
    monkeypatch.setattr(s3server, "moto_server", broken)
    with pytest.raises(OUTCOMES, match=r"cannot start moto's S3 server \(moto server exited: No module") as info:
        with s3_endpoint({}):
            pass
    assert info.type is outcome


def test_a_reachable_given_s3_url_is_used_as_is() -> None:
    with socket.create_server(("127.0.0.1", 0)) as listening:  # something answers there
        given = f"s3://a:b@127.0.0.1:{listening.getsockname()[1]}/?secure=false"
        with s3_endpoint({"PORTFLARE_TEST_S3_URL": given}) as url:
            assert url == given
