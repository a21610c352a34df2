from django.apps import AppConfig


class BenchmarksConfig(AppConfig):
    """The measuring tools (``manage.py benchmark``, ``benchmark_migration``): a
    cross-cutting app of its own, outside the domain apps it measures."""

    name = "benchmarks"
    verbose_name = "Benchmarks"
