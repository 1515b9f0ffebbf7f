"""Staff tools: the documents folder and the question log, each with one owner.

* ``admin.py``       list, upload, replace, repeal and delete documents (the documents folder; audited);
* ``questionlog.py`` what citizens asked and how it went, masked and aged out (the question log's only writer);
* ``report.py``      the question log aggregated for staff: unanswered questions, topics, ratings, CSV.
"""
