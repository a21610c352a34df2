"""SQL functions for French full-text search, with accents folded.

The embedded server (and many managed ones) has no ``unaccent`` extension, and
``to_tsvector('french', …)`` keeps accents, so "équipement" would not find
"equipements". ``enpyco_unaccent`` folds French accents and ligatures with
``translate()``, which is immutable and so usable in expression indexes;
``enpyco_fts`` is the document vector every search index and query uses.
"""

from django.db import migrations

FUNCTIONS = r"""
CREATE FUNCTION enpyco_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    -- One expression using $1 once, so PostgreSQL inlines it into the callers (a
    -- CASE reading $1 several times is not inlined, which triples index builds).
    SELECT translate(
        replace(replace(replace(replace($1, 'œ', 'oe'), 'Œ', 'OE'), 'æ', 'ae'), 'Æ', 'AE'),
        'àâäáãåçéèêëíìîïñóòôöõúùûüýÿÀÂÄÁÃÅÇÉÈÊËÍÌÎÏÑÓÒÔÖÕÚÙÛÜÝŸ’',
        'aaaaaaceeeeiiiinooooouuuuyyAAAAAACEEEEIIIINOOOOOUUUUYY'''
    )
$$;

CREATE FUNCTION enpyco_fts(text) RETURNS tsvector
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT to_tsvector('french'::regconfig, enpyco_unaccent(coalesce($1, '')))
$$;

CREATE FUNCTION enpyco_fts_query(text) RETURNS tsquery
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT websearch_to_tsquery('french'::regconfig, enpyco_unaccent(coalesce($1, '')))
$$;
"""

DROP = """
DROP FUNCTION enpyco_fts_query(text);
DROP FUNCTION enpyco_fts(text);
DROP FUNCTION enpyco_unaccent(text);
"""


class Migration(migrations.Migration):
    dependencies = [("tenants", "0002_adopt_legacy_data")]

    operations = [migrations.RunSQL(FUNCTIONS, DROP)]
