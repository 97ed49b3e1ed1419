"""An invoice as a one-page A4 PDF (reportlab), rendered on request from :mod:`shopdb.invoices`.

Why the standard Helvetica and not an embedded font: nothing to ship with the server, and it has
Windows-1252, the letters of nearly every country we deliver to; a letter outside it loses its
accent (``ł`` -> ``l``) instead of turning into a black box. Why invariant and uncompressed: the
same invoice gives the same bytes, a one-page invoice stays a few kilobytes, and its text can be
checked without a PDF reader.
"""

from __future__ import annotations

import io
import unicodedata
from decimal import Decimal
from typing import List, Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from shopdb.invoices import Invoice, Party, vat_percent

PAGE_MARGIN = 20 * mm
FRAME_PADDING = 6  # points: SimpleDocTemplate's frame pads what it holds
WIDTH = A4[0] - 2 * (PAGE_MARGIN + FRAME_PADDING)
INK = colors.HexColor("#1f2933")
MUTED = colors.HexColor("#616e7c")
RULE = colors.HexColor("#cbd2d9")
# Letters that Unicode does not decompose into a base letter and an accent.
_BASE_LETTERS = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "ı": "i"})


def _encodable(char: str) -> bool:
    try:
        char.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def pdf_text(text: str) -> str:
    """``text`` in the letters of the standard PDF fonts (Windows-1252): accents dropped where needed."""
    out = []
    for char in text:
        if not char.isprintable():
            out.append(" ")
        elif _encodable(char):
            out.append(char)
        else:
            decomposed = unicodedata.normalize("NFKD", char.translate(_BASE_LETTERS))
            base = "".join(c for c in decomposed if not unicodedata.combining(c))
            out.append(base if base and all(_encodable(c) for c in base) else "?")
    return "".join(out)


def amount(value: Decimal) -> str:
    return f"{value:,.2f}"


def _styles() -> dict:
    sheet = getSampleStyleSheet()
    body = ParagraphStyle("body", parent=sheet["Normal"], fontName="Helvetica", fontSize=9.5, leading=13, textColor=INK)
    return {
        "body": body,
        "muted": ParagraphStyle("muted", parent=body, textColor=MUTED, fontSize=8.5, leading=11),
        "seller": ParagraphStyle("seller", parent=body, fontName="Helvetica-Bold", fontSize=16, leading=20),
        "title": ParagraphStyle(
            "title", parent=body, fontName="Helvetica-Bold", fontSize=20, leading=24, alignment=TA_RIGHT
        ),
        "label": ParagraphStyle("label", parent=body, fontName="Helvetica-Bold", fontSize=8.5, textColor=MUTED),
    }


def _party(party: Party, styles: dict, first_style: str) -> List[Flowable]:
    lines = [Paragraph(escape(pdf_text(party.name)), styles[first_style])]
    lines += [Paragraph(escape(pdf_text(line)), styles["body"]) for line in party.address]
    if party.vat_number:
        lines.append(Paragraph(escape(pdf_text(f"VAT {party.vat_number}")), styles["body"]))
    return lines


def _header(invoice: Invoice, styles: dict) -> Table:
    facts = Table(
        [
            ["Invoice no.", invoice.number],
            ["Invoice date", invoice.date.strftime("%-d %B %Y")],
            ["Order no.", invoice.order_number],
        ],
        colWidths=[28 * mm, 34 * mm],
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), "Helvetica", 9.5),
                ("TEXTCOLOR", (0, 0), (0, -1), MUTED),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("RIGHTPADDING", (1, 0), (1, -1), 0),
            ]
        ),
        hAlign="RIGHT",
    )
    return Table(
        [[_party(invoice.seller, styles, "seller"), [Paragraph("INVOICE", styles["title"]), Spacer(1, 3 * mm), facts]]],
        colWidths=[WIDTH - 70 * mm, 70 * mm],
        style=TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                ("LEFTPADDING", (0, 0), (0, 0), 0),
                ("RIGHTPADDING", (1, 0), (1, 0), 0),
            ]
        ),
    )


def _lines(invoice: Invoice, styles: dict) -> Table:
    rows: List[Sequence[object]] = [
        ["Description", "Qty", f"Unit price ({invoice.currency})", f"Amount ({invoice.currency})"]
    ]
    rows += [
        [
            Paragraph(escape(pdf_text(line.title)), styles["body"]),
            str(line.quantity),
            amount(line.unit_price),
            amount(line.amount),
        ]
        for line in invoice.lines
    ]
    return Table(
        rows,
        colWidths=[WIDTH - 78 * mm, 14 * mm, 32 * mm, 32 * mm],
        repeatRows=1,
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 9),
                ("FONT", (0, 1), (-1, -1), "Helvetica", 9.5),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("ALIGN", (1, 0), (-1, -1), "RIGHT"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, 0), 0.8, INK),
                ("LINEBELOW", (0, 1), (-1, -1), 0.4, RULE),
                ("LEFTPADDING", (0, 0), (0, -1), 0),
                ("RIGHTPADDING", (-1, 0), (-1, -1), 0),
            ]
        ),
    )


def _totals(invoice: Invoice) -> Table:
    rows = [
        ["Shipping", amount(invoice.shipping)],
        ["Total excl. VAT", amount(invoice.net)],
        [f"VAT {vat_percent(invoice.vat_rate)}", amount(invoice.vat)],
        [f"Total ({invoice.currency})", amount(invoice.total)],
    ]
    return Table(
        rows,
        colWidths=[46 * mm, 32 * mm],
        hAlign="RIGHT",
        style=TableStyle(
            [
                ("FONT", (0, 0), (-1, -2), "Helvetica", 9.5),
                ("FONT", (0, -1), (-1, -1), "Helvetica-Bold", 11),
                ("TEXTCOLOR", (0, 0), (-1, -1), INK),
                ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                ("LINEABOVE", (0, -1), (-1, -1), 0.8, INK),
                ("RIGHTPADDING", (1, 0), (1, -1), 0),
            ]
        ),
    )


def render_invoice_pdf(invoice: Invoice) -> bytes:
    """The invoice as PDF bytes: seller, buyer, invoice and order numbers, lines, totals with VAT."""
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=PAGE_MARGIN,
        rightMargin=PAGE_MARGIN,
        topMargin=PAGE_MARGIN,
        bottomMargin=PAGE_MARGIN,
        title=pdf_text(f"Invoice {invoice.number}"),
        author=pdf_text(invoice.seller.name),
        creator=pdf_text(invoice.seller.name),
        invariant=1,
        pageCompression=0,
    )
    story: List[Flowable] = [
        _header(invoice, styles),
        Spacer(1, 12 * mm),
        Paragraph("BILL TO", styles["label"]),
        *_party(invoice.buyer, styles, "body"),
        Spacer(1, 10 * mm),
        _lines(invoice, styles),
        Spacer(1, 4 * mm),
        _totals(invoice),
        Spacer(1, 10 * mm),
        Paragraph(
            escape(
                pdf_text(
                    f"Prices include {vat_percent(invoice.vat_rate)} VAT. "
                    f"Thank you for shopping at {invoice.seller.name}."
                )
            ),
            styles["muted"],
        ),
    ]
    document.build(story)
    return buffer.getvalue()


__all__ = ["pdf_text", "render_invoice_pdf"]
