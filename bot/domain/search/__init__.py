"""Question -> section, in stages a reader can follow.

    query analysis (query.py)      words, stems, typo corrections, names, foreign terms
    lexical candidates (lexical.py) BM25 over stems, prefixes, neighbour pairs; coverage per section
    dense candidates (semantic.py)  multilingual sentence embeddings of headings and sentences
    fusion and decision (fusion.py) translations pooled per concept; one calibrated answer/decline
    excerpt (excerpt.py)            the paragraph that holds the fact, trimmed around it

Every tuning parameter lives in `tuning.Tuning`; `bot/domain/retrieval.py` wires the stages together.
"""
