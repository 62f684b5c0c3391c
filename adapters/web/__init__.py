"""The built-in web chat: the channel that works with no tokens (``/chat``).

``routes.chat_router`` serves the page and its API, ``channel.WebChannel`` stores pushes for it,
and ``routes.static_files`` serves its assets at ``/chat/static``. The composition root wires
them; nothing here imports ``bot``. This file imports nothing, so the worker and the CLI can take
``WebChannel`` without loading FastAPI (PERFORMANCE.md: CLI start-up).
"""
