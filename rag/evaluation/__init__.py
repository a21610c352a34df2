"""A labelled retrieval evaluation kept in the repository.

``memoirs/`` holds French memoirs written for it (several trades, DOCX or TXT once
built: ``dataset.build``), ``questions.json`` questions of five kinds — exact terms,
client names, rewordings without a word in common with the answer, typos and missing
accents, and questions the memoirs do not answer — each labelled by text snippets
(and, for client questions, by the memoirs written for that client), so that the
labels survive any change of chunking. ``runner.evaluate`` indexes the memoirs for a
throw-away company and measures the search; ``manage.py evaluate_search`` prints it.
"""
