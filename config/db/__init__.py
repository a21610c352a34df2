"""PostgreSQL plumbing shared by every app: the database backend, enum fields and
migration operations."""
