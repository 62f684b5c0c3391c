"""FAQ engine: bilingual (zh-CN / en) answers about social insurance, with an honest hand-off.

Use ``faq.engine.FaqEngine.load().ask(question, lang="auto")``; it returns a ``FaqAnswer``
(answer, "did you mean" suggestions, small talk or a hand-off to HR). The knowledge base lives
in ``faq/kb/`` as data files and is validated when loaded. This package imports only rapidfuzz,
OpenCC and the standard library; nothing is loaded at import time.
"""
