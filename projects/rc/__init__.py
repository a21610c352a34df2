"""RC analysis: the règlement de consultation of a tender turned into its award criteria
tree, the memoir's required contents and the tender's key facts.

* ``document`` reads a PDF, DOCX or TXT file into pages of text (running headers and
  footers removed, the table of contents marked);
* ``parser`` is the offline French parser (deterministic, no network): ``facts`` for the
  key facts, ``criteria`` for the award criteria, ``tree`` for the criteria tree, its
  shares and its ids;
* ``llm_backend`` asks the configured language model for the same structure and merges
  it with the parser's;
* ``storage`` is the JSON stored in ``rc_analysis`` (docs/rc_analysis.md);
* ``services`` and ``projects.tasks`` run an analysis as a background job.
"""
