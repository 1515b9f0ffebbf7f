"""kb-bot: a knowledge-base chatbot over a district's published policy articles.

The package is a straight pipeline; each layer imports only itself and the layers below it
(tests/test_structure.py checks this, and that no module passes 400 lines nor a function 80):

    errors, settings, files,    shared plumbing: errors, every KB_BOT_* setting, the one atomic write,
    bounds, legal               checksum and size formatter, loader limits, rules of regulation text
    loading/, synonyms          files -> clean Documents (formats, metadata, cleaning, parsing, folder)
    chunking, embedding,        Documents -> Chunks; chunks/queries -> vectors (ModelSpec parses --model
    keyword                     once); jieba tokens -> BM25 (bm25s)
    store/                      the index folder: IndexFolder (lock, generations, publish, rollback,
                                embedding cache and the shipped one, documents-vs-index diff), Manifest,
                                DenseIndex
    indexing, watch             build / refresh: diff -> chunk -> embed what is missing -> publish
    retrieval                   hybrid dense + keyword search with score fusion
    answering/                  extractive answers and abstention (question_reading, word_weights,
                                answerability, answer_model, answer), staff answers (faq), topics,
                                conversations, optional LLM, calibration and evaluation
    engine, staff/              one knowledge base (settings + model + current index); staff tools:
                                document management (admin), the question log and its report
    cli/, web/                  entry points: the only place that wires things together
"""

__version__ = "0.1.0"
