import pytest
from django.core.exceptions import ImproperlyConfigured

from onsale.platform.env import env_float, process_serves


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


@pytest.mark.parametrize(
    ("argv", "serves"),
    [
        (["/venv/bin/gunicorn", "onsale.config.wsgi:application"], True),
        (["/venv/bin/celery", "-A", "onsale", "worker"], True),
        (["/venv/bin/celery", "-A", "onsale", "beat"], True),
        (["/venv/bin/pytest", "-q"], True),
        (["manage.py", "runserver"], True),
        (["./manage.py", "testserver", "fixture.json"], True),
        (["manage.py", "migrate", "--noinput"], False),
        (["/app/manage.py", "check", "--deploy"], False),
        (["manage.py", "createsuperuser"], False),
        (["manage.py", "demo_load"], False),
        (["manage.py"], False),
        (["/venv/bin/django-admin", "collectstatic"], False),
        (["/venv/lib/python3.11/site-packages/django/__main__.py", "check"], False),
        ([], True),
    ],
)
def test_process_serves_unless_a_management_command_other_than_runserver(
    argv: list[str], serves: bool
) -> None:
    assert process_serves(argv) is serves
