"""Performance benchmark of the multi-tenant schema (``manage.py benchmark``).

* ``sizes`` — how many rows of each kind a scale means, and the deterministic ids
  (``md5('project:<company>:<n>')::uuid``) both SQL and Python compute;
* ``dataset`` — builds the synthetic dataset inside PostgreSQL (``INSERT … SELECT
  generate_series``, binary ``COPY`` for the 384-dimension vectors), secondary indexes
  dropped during the load and rebuilt after it;
* ``queries``, ``changelists``, ``vectors`` — the measurements, run in a
  ``manage.py benchmark --measure`` subprocess whose ``default`` database is the
  scratch one (the admin test client and ``rag.search`` use that connection);
* ``library`` — the library company of parts 5 and 6 (10,000 typed content blocks and
  2,000 memoir chunks at scale 1, with clustered vectors recorded as the configured
  embedding model's);
* ``flow`` — parts 5 and 6: the matching job, the coverage panel, the generation of a
  10-section memoir with the assembly backend and the DOCX exports (``--only
  matching,generation``);
* ``migration`` — part 4, through ``manage.py benchmark_migration``;
* ``report`` — the Markdown tables.
"""
