"""Answering: retrieved passages -> answered / related / not found, with citations.

Read in the order a question travels:

* ``question_reading.py`` what a question asks for (amount, date, phone, yes/no …), which words only say how it is
                          asked, which places it names, and bare topics;
* ``cues.py``             which questions lean on the earlier turns (那…呢, 它, a short one) and what they say without
                          the cues;
* ``courtesy.py``         what asks nothing of the documents: greetings, thanks, pings, small talk (你是谁？ 几点了？);
* ``word_weights.py``     how telling each question word is (rare in the passages and in general Chinese);
* ``answerability.py``    the features of every candidate sentence of the retrieved passages;
* ``answer_model.py``     the fitted ranker, confidence trees and topic model (plain weights, read with numpy);
* ``guards.py``,          the rules on top of the models (a named detail missing, a fine is not a fee ...; a quoted
  ``fine_guards.py``      fine must be for the conduct asked about);
* ``judge.py``            answered / related / not found, and which sentences to quote;
* ``answer.py``           the reply: quoted sentences with citations, related passages, or "not found";
* ``elsewhere.py``        a detail a related reply's quote leaves out, quoted from elsewhere in its document;
* ``topics.py``           the topic guide offered with related and not-found replies, and the enterprise browser;
* ``faq.py``,             staff answers: the entry files, and matching a question to one before the documents;
  ``faq_match.py``
* ``conversation.py``,    follow-up questions completed from earlier turns, and which reading wins;
  ``followup.py``,        "X呢" asking the previous question again of X (``ellipsis.py``);
  ``ellipsis.py``
* ``llm.py``              optional rewording by an OpenAI-compatible endpoint, checked against the passages;
* ``fitting.py``          fitting the ranker, the confidence trees and the topic model;
* ``calibration.py``,     the fitting procedure (models, then thresholds) and measuring the three outcomes
  ``evaluation.py``       (``kb-bot calibrate``, ``eval``).

Nothing here imports the store or the engine: the engine hands in the retrieved hits and the corpus statistics.
"""
