import pytest
from django.core.exceptions import ImproperlyConfigured

from onsale.platform.env import env_float


def test_env_float_reads_a_number(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONSALE_TEST_FLOAT", "0.25")
    assert env_float("ONSALE_TEST_FLOAT", 1.0) == 0.25


def test_env_float_unset_or_empty_is_the_default(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ONSALE_TEST_FLOAT", raising=False)
    assert env_float("ONSALE_TEST_FLOAT", 1.5) == 1.5
    monkeypatch.setenv("ONSALE_TEST_FLOAT", " ")
    assert env_float("ONSALE_TEST_FLOAT", 1.5) == 1.5


def test_env_float_refuses_a_word(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ONSALE_TEST_FLOAT", "fast")
    with pytest.raises(
        ImproperlyConfigured, match="ONSALE_TEST_FLOAT must be a number"
    ):
        env_float("ONSALE_TEST_FLOAT", 1.0)
