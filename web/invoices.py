"""``GET /webhooks/shop/invoices/<token>.pdf``: the invoice of a verified order, as a PDF.

The signed token (:class:`core.signing.InvoiceLinks`, issued by the assistant after the order form)
is the only credential: a browser follows the link outside the conversation. A forged, malformed or
unknown link gets a bare 404, an expired one a bare 410, neither saying more; only a valid link
reads the order. The database read and the rendering run in worker threads, off the event loop,
and the PDF is made on every request (never cached: ``no-store``).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Optional

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from core.signing import InvoiceLinkExpired, InvoiceLinks, resolve_secret_key
from shopdb.invoices import Invoice, InvoiceState, load_invoice
from web.invoice_pdf import render_invoice_pdf

if TYPE_CHECKING:  # pragma: no cover
    from web.channel import ShopChannel

logger = logging.getLogger(__name__)

NO_STORE = {"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def _refused(status: int) -> HTTPResponse:
    return response.empty(status=status, headers=NO_STORE)


def register_invoices(bp: Blueprint, channel: "ShopChannel") -> None:
    """The download route on the shop channel's blueprint (``/webhooks/shop``)."""
    links = InvoiceLinks(resolve_secret_key(channel.settings))

    def load(order_number: str) -> Optional[Invoice]:
        with channel.store.session() as session:
            return load_invoice(session, order_number, channel.settings)

    @bp.route("/invoices/<filename>", methods=["GET"])
    async def invoice_pdf(_: Request, filename: str) -> HTTPResponse:
        token = filename[: -len(".pdf")] if filename.endswith(".pdf") else ""
        try:
            order_number = links.verify(token)
        except InvoiceLinkExpired:
            logger.info("invoice link refused: expired")
            return _refused(410)
        if order_number is None:
            logger.warning("invoice link refused: not signed here")
            return _refused(404)
        assert channel.service is not None
        invoice = await channel.service.db(load, order_number)
        if invoice is None or invoice.state != InvoiceState.ISSUED:  # gone or cancelled since the link was made
            return _refused(404)
        pdf = await asyncio.to_thread(render_invoice_pdf, invoice)
        return response.raw(
            pdf,
            content_type="application/pdf",
            headers={
                **NO_STORE,
                "Content-Disposition": f'attachment; filename="invoice-{invoice.order_number}.pdf"',
            },
        )


__all__ = ["register_invoices"]
