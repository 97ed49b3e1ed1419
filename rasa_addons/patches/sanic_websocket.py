"""One compatibility fix so socket.io can use real WebSockets under Rasa 3.6 on Python 3.11.

Rasa 3.6 pins Sanic 21.12, whose ``WebsocketImplProtocol.recv`` passes a bare
coroutine to ``asyncio.wait``; Python 3.11 forbids that, so every WebSocket
dies on its first read and socket.io clients silently stay on long-polling.
Sanic 22.3 fixed it by wrapping the coroutine in a task; :func:`install`
applies the same one-line change to 21.12.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any, Optional

logger = logging.getLogger(__name__)
_PATCHED = False


def install() -> bool:
    """Make Sanic 21.x WebSocket reads work on Python 3.11+; True when the fix was applied."""
    global _PATCHED
    if _PATCHED:
        return True
    import sanic
    from sanic.exceptions import ServerError, WebsocketClosed
    from sanic.server.websockets.impl import WebsocketImplProtocol
    from websockets.connection import CLOSED

    async def recv(self: WebsocketImplProtocol, timeout: Optional[float] = None) -> Any:
        """Sanic 22.3's ``recv``: identical to 21.12's but with the coroutine wrapped in a task."""
        if self.recv_lock.locked():
            raise ServerError("cannot call recv while another task is already waiting for the next message")
        await self.recv_lock.acquire()
        if self.connection.state is CLOSED:
            self.recv_lock.release()
            raise WebsocketClosed("Cannot receive from websocket interface after it is closed.")
        try:
            self.recv_cancel = asyncio.Future()
            tasks = (self.recv_cancel, asyncio.ensure_future(self.assembler.get(timeout)))
            done, pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            done_task = next(iter(done))
            if done_task is self.recv_cancel:
                for task in pending:
                    task.cancel()
                raise asyncio.CancelledError()
            self.recv_cancel.cancel()
            return done_task.result()
        finally:
            self.recv_cancel = None
            self.recv_lock.release()

    WebsocketImplProtocol.recv = recv
    _PATCHED = True
    logger.debug("patched Sanic %s WebSocket recv for Python 3.11", sanic.__version__)
    return True


__all__ = ["install"]
