"""The demo accounts of ``fixtures/demo.json``, which must never work in production."""

DEMO_PASSWORD = "password123"
DEMO_EMAILS = ("admin@enpyco.com", "user@enpyco.com", "viewer@enpyco.com")


def is_demo_login(email: str, password: str) -> bool:
    return email.strip().lower() in DEMO_EMAILS and password == DEMO_PASSWORD
