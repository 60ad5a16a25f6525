import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from opportunities.roles import Role, role_of


@pytest.mark.django_db
def test_demo_prepares_the_database_and_prints_a_working_login(
    capsys: pytest.CaptureFixture[str],
) -> None:
    call_command("demo", "--no-serve")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8000/" in out
    line = next(line for line in out.splitlines() if "log in as admin" in line)
    password = line.split(" / ")[1].split()[0]
    admin = get_user_model().objects.get(username="admin")
    assert admin.check_password(password)
    assert admin.is_staff
    assert role_of(admin) is Role.ADMIN
