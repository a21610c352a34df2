"""Password guessing is slowed down: after too many failed logins for one account, or
from one address, within the window, the admin login form refuses even the right
password, with a clear message; once the window has passed it works again."""

from __future__ import annotations

import datetime
import types

import pytest
from django.urls import reverse
from django.utils import timezone

from audit.models import AuditLog
from tenants import login_throttle
from tests.admin_helpers import META, USER_AGENT, admin_client
from tests.factories import DEFAULT_PASSWORD, AuditLogFactory, UserFactory

pytestmark = pytest.mark.django_db

PER_ACCOUNT, PER_ADDRESS, WINDOW = 3, 4, 60
OTHER_IP = "198.51.100.23"


@pytest.fixture(autouse=True)
def limits(settings):
    # Small limits, and a fast hasher: each failed login checks a password.
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = PER_ACCOUNT
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = PER_ADDRESS
    settings.LOGIN_FAILURE_WINDOW = WINDOW
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def user():
    return UserFactory(email="chef.chantier@example.com")


def _login(email, password, ip=META["REMOTE_ADDR"]):
    client = admin_client()
    response = client.post(
        reverse("admin:login"),
        {"username": email, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
        HTTP_USER_AGENT=USER_AGENT,
    )
    logged_in = "_auth_user_id" in client.session
    assert logged_in == (response.status_code == 302)
    return response, logged_in


def _fail(email, times, ip=META["REMOTE_ADDR"]):
    for _ in range(times):
        _response, logged_in = _login(email, "mauvais mot de passe", ip)
        assert not logged_in


def _form_errors(response):
    return list(response.context["form"].non_field_errors())


def _failure(email, ip, ago):
    """A failed login recorded ``ago`` (a timedelta) ago."""
    return AuditLogFactory(
        user=None,
        action="user.login_failed",
        resource_type="user",
        details={"email": email},
        ip_address=ip,
        timestamp=timezone.now() - ago,
    )


def test_the_defaults(monkeypatch):
    """What config/settings.py declares when the environment sets nothing."""
    import importlib

    import config.settings

    for name in ("LOGIN_MAX_FAILURES_PER_ACCOUNT", "LOGIN_MAX_FAILURES_PER_ADDRESS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delenv("LOGIN_FAILURE_WINDOW", raising=False)
    declared = importlib.reload(config.settings)
    assert (
        declared.LOGIN_MAX_FAILURES_PER_ACCOUNT,
        declared.LOGIN_MAX_FAILURES_PER_ADDRESS,
        datetime.timedelta(seconds=declared.LOGIN_FAILURE_WINDOW),
    ) == (5, 20, datetime.timedelta(minutes=15))


def test_failures_below_the_limit_do_not_block(user):
    _fail(user.email, PER_ACCOUNT - 1)
    _response, logged_in = _login(user.email, DEFAULT_PASSWORD)
    assert logged_in


def test_too_many_failures_for_one_account_refuse_even_the_right_password(user):
    _fail(user.email, PER_ACCOUNT)
    logins = AuditLog.objects.filter(action="user.login").count()
    response, logged_in = _login(user.email, DEFAULT_PASSWORD)
    assert not logged_in
    assert response.status_code == 200
    assert _form_errors(response) == ["Too many failed logins. Try again in 1 minute."]
    assert "Too many failed logins" in response.content.decode()
    assert AuditLog.objects.filter(action="user.login").count() == logins


def test_failures_from_elsewhere_do_not_lock_the_owner_out_of_their_own_address(user):
    """Keyed by (account, address), as django-axes does: someone who knows the email
    cannot lock its owner out; the address that guessed is locked for that account."""
    _fail(user.email, PER_ACCOUNT, ip=OTHER_IP)
    _response, logged_in = _login(user.email, DEFAULT_PASSWORD)
    assert logged_in
    _response, logged_in = _login(user.email, DEFAULT_PASSWORD, ip=OTHER_IP)
    assert not logged_in


def test_every_refused_attempt_is_audited(user):
    _fail(user.email, PER_ACCOUNT)
    _login(user.email, DEFAULT_PASSWORD)
    _login(user.email, "encore faux")
    refused = AuditLog.objects.filter(action="user.login_throttled").order_by("timestamp")
    assert refused.count() == 2
    entry = refused.first()
    assert (entry.resource_id, entry.company_id, entry.details["email"]) == (
        user.pk,
        user.company_id,
        user.email,
    )
    assert entry.ip_address == META["REMOTE_ADDR"]


def test_a_company_admin_unlocks_an_account(user):
    from tenants.models import User
    from tests.admin_helpers import run_action

    _fail(user.email, PER_ACCOUNT)
    assert not _login(user.email, DEFAULT_PASSWORD)[1]
    admin = UserFactory(company=user.company, role="admin")
    response = run_action(admin_client(admin), User, "unlock", [user])
    assert response.status_code == 302
    unlocked = AuditLog.objects.get(action="user.unlock")
    assert (unlocked.user_id, unlocked.resource_id) == (admin.pk, user.pk)
    assert _login(user.email, DEFAULT_PASSWORD)[1]
    # Another company's admin has no such action on this account.
    stranger = UserFactory(role="admin")
    run_action(admin_client(stranger), User, "unlock", [user])
    assert AuditLog.objects.filter(action="user.unlock").count() == 1


def test_the_account_count_ignores_the_case_of_the_email(user):
    _fail(user.email.upper(), PER_ACCOUNT - 1)
    _fail("Chef.Chantier@Example.com", 1)
    _response, logged_in = _login(user.email, DEFAULT_PASSWORD)
    assert not logged_in


def test_another_account_from_the_same_address_is_not_blocked_by_the_account_limit(user):
    colleague = UserFactory(company=user.company)
    _fail(user.email, PER_ACCOUNT)
    _response, logged_in = _login(colleague.email, DEFAULT_PASSWORD)
    assert logged_in


def test_too_many_failures_from_one_address_block_every_account(user):
    for n in range(PER_ADDRESS):
        _fail(f"essai{n}@example.com", 1)
    response, logged_in = _login(user.email, DEFAULT_PASSWORD)
    assert not logged_in
    assert _form_errors(response) == ["Too many failed logins. Try again in 1 minute."]
    # The same account from another address is fine: it had no failure itself.
    _response, logged_in = _login(user.email, DEFAULT_PASSWORD, ip=OTHER_IP)
    assert logged_in


def test_it_works_again_once_the_window_has_passed(user):
    _fail(user.email, PER_ACCOUNT)
    later = timezone.now() + datetime.timedelta(seconds=WINDOW + 1)
    clock = types.SimpleNamespace(now=lambda: later)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(login_throttle, "timezone", clock)
        _response, logged_in = _login(user.email, DEFAULT_PASSWORD)
    assert logged_in


def test_still_blocked_just_before_the_window_ends(user):
    _fail(user.email, PER_ACCOUNT)
    sooner = timezone.now() + datetime.timedelta(seconds=WINDOW - 5)
    clock = types.SimpleNamespace(now=lambda: sooner)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(login_throttle, "timezone", clock)
        response, logged_in = _login(user.email, DEFAULT_PASSWORD)
    assert not logged_in
    assert _form_errors(response) == ["Too many failed logins. Try again in 1 minute."]


def test_only_failures_inside_the_window_count(user, settings):
    for _ in range(PER_ACCOUNT):
        _failure(user.email, META["REMOTE_ADDR"], ago=datetime.timedelta(minutes=10))
    settings.LOGIN_FAILURE_WINDOW = 15 * 60
    assert not _login(user.email, DEFAULT_PASSWORD)[1]
    settings.LOGIN_FAILURE_WINDOW = 5 * 60
    assert _login(user.email, DEFAULT_PASSWORD)[1]


def test_the_message_gives_the_remaining_wait(user, settings):
    settings.LOGIN_FAILURE_WINDOW = 15 * 60
    ages = [2, 4, 6]  # minutes ago: the block lifts when the oldest of them expires
    for minutes in ages:
        _failure(user.email, META["REMOTE_ADDR"], ago=datetime.timedelta(minutes=minutes))
    response, logged_in = _login(user.email, DEFAULT_PASSWORD)
    assert not logged_in
    assert _form_errors(response) == ["Too many failed logins. Try again in 9 minutes."]


def test_the_message_gives_the_longest_wait_when_both_limits_are_hit(user, settings):
    """Account blocked for 1 more minute, address for 9 more: 9 minutes it is."""
    settings.LOGIN_FAILURE_WINDOW = 10 * 60
    ip = META["REMOTE_ADDR"]
    for _ in range(PER_ACCOUNT):
        _failure(user.email, OTHER_IP, ago=datetime.timedelta(minutes=9))
    for n in range(PER_ADDRESS):
        _failure(f"essai{n}@example.com", ip, ago=datetime.timedelta(minutes=1))
    response, logged_in = _login(user.email, DEFAULT_PASSWORD, ip=ip)
    assert not logged_in
    assert _form_errors(response) == ["Too many failed logins. Try again in 9 minutes."]
    # And indeed, two minutes later, the address still blocks.
    later = timezone.now() + datetime.timedelta(minutes=2)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(login_throttle, "timezone", types.SimpleNamespace(now=lambda: later))
        assert login_throttle.retry_after(user.email, ip) > datetime.timedelta(minutes=6)


def test_a_refused_attempt_never_checks_the_password(user, monkeypatch):
    _fail(user.email, PER_ACCOUNT)
    checked = []
    monkeypatch.setattr(
        "tenants.auth.EmailBackend.authenticate",
        lambda *args, **kwargs: checked.append(kwargs) or None,
    )
    _login(user.email, DEFAULT_PASSWORD)
    assert checked == []


def _login_forwarded(email, password, forwarded):
    client = admin_client()
    client.post(
        reverse("admin:login"),
        {"username": email, "password": password},
        REMOTE_ADDR="10.0.0.2",  # the reverse proxy
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    return "_auth_user_id" in client.session


def test_a_forged_forwarded_address_does_not_dodge_the_address_limit(user, settings):
    settings.AUDIT_TRUST_X_FORWARDED_FOR = True
    # The client sends a new X-Forwarded-For each time; the proxy appends the real one.
    for n in range(PER_ADDRESS):
        assert not _login_forwarded(f"essai{n}@example.com", "x", f"192.0.2.{n}, {OTHER_IP}")
    assert set(
        AuditLog.objects.filter(action="user.login_failed").values_list("ip_address", flat=True)
    ) == {OTHER_IP}
    assert not _login_forwarded(user.email, DEFAULT_PASSWORD, f"192.0.2.99, {OTHER_IP}")


def test_the_forwarded_header_is_ignored_unless_trusted(user, settings):
    settings.AUDIT_TRUST_X_FORWARDED_FOR = False
    _login_forwarded("essai@example.com", "x", OTHER_IP)
    entry = AuditLog.objects.get(action="user.login_failed")
    assert entry.ip_address == "10.0.0.2"
