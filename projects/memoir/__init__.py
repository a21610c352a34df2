"""The memoir of a project: its sections planned from the RC's criteria, written from
the approved content (``generation``, backends ``assembly`` and ``llm``), its facts
rendered by code (``tables``) and checked (``factcheck``), reviewed (``review``) and
exported as a Word document (``export``)."""
