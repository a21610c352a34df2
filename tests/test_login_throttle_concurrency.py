"""The throttle holds under concurrency: parallel wrong passwords for one account, sent
by real threads to a live server, reach the password check at most the limit times."""

from __future__ import annotations

import http.cookiejar
import re
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest

from audit.models import AuditLog
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)

LIMIT = 5
ATTEMPTS = 40


@pytest.fixture
def live(settings, live_server):
    settings.LOGIN_MAX_FAILURES_PER_ACCOUNT = LIMIT
    settings.LOGIN_MAX_FAILURES_PER_ADDRESS = 0  # this test is about the account's limit
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    return live_server.url


def _attempt(base: str, email: str, results: list, barrier: threading.Barrier) -> None:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    page = opener.open(f"{base}/admin/login/").read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "username": email, "password": "faux", "next": "/admin/"}
    ).encode()
    request = urllib.request.Request(
        f"{base}/admin/login/", data=body, headers={"Referer": f"{base}/admin/login/"}
    )
    barrier.wait()  # every thread posts at once
    for _ in range(5):  # the test server's listen queue is short: a refused connection
        try:  # is tried again, as a browser would
            with opener.open(request) as response:
                results.append(response.read().decode())
            return
        except (ConnectionError, urllib.error.URLError):
            continue


def test_parallel_wrong_passwords_are_checked_at_most_the_limit_times(live):
    user = UserFactory(email="cible@example.com")
    results: list[str] = []
    barrier = threading.Barrier(ATTEMPTS)
    threads = [
        threading.Thread(target=_attempt, args=(live, user.email, results, barrier))
        for _ in range(ATTEMPTS)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert len(results) == ATTEMPTS
    failed = AuditLog.objects.filter(action="user.login_failed", details__email=user.email)
    throttled = AuditLog.objects.filter(action="user.login_throttled", details__email=user.email)
    assert failed.count() == LIMIT
    assert throttled.count() == ATTEMPTS - LIMIT
