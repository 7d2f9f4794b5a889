"""The OpenAI-compatible proxy: ``create_app(ServerConfig(...))`` or ``ponder serve``.

Wire types live in ``protocol``, the logic in ``serving`` (with ``compute`` for
strategies, ``passthrough`` and ``legacy``), the routes in ``app``.
"""

from __future__ import annotations

from ponder.server.app import create_app
from ponder.server.config import ServerConfig, model_table

__all__ = ["ServerConfig", "create_app", "model_table"]
