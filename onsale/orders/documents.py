"""Ticket documents: QR codes (PNG, SVG) and the printable order PDF.

Pure rendering: they take models and return bytes; storing and sending are
services. The QR payload is `Ticket.qr_payload`, which names the event and the
ticket's random code (the code alone is what the door scanner checks).
"""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from qrcode.image.pil import PilImage
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas

from onsale.orders.models import Order, Ticket


def _qr(payload: str) -> qrcode.QRCode:
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=2
    )
    code.add_data(payload)
    code.make(fit=True)
    return code


def ticket_qr_png(*, ticket: Ticket) -> bytes:
    """The ticket's QR code as a PNG."""
    image = _qr(ticket.qr_payload).make_image(image_factory=PilImage)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def ticket_qr_svg(*, ticket: Ticket) -> bytes:
    """The ticket's QR code as an SVG (vector: sharp at any print size)."""
    image = _qr(ticket.qr_payload).make_image(
        image_factory=qrcode.image.svg.SvgPathImage
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def _draw_qr(
    pdf: canvas.Canvas, payload: str, *, left: float, top: float, size: float
) -> None:
    # Vector modules rather than an embedded bitmap: sharp on any printer,
    # and an order of magnitude cheaper to render than a PNG to re-encode.
    matrix = _qr(payload).get_matrix()
    module = size / len(matrix)
    path = pdf.beginPath()
    for row_number, row in enumerate(matrix):
        column = 0
        while column < len(row):
            if not row[column]:
                column += 1
                continue
            run = column
            while run < len(row) and row[run]:
                run += 1
            # One rectangle per run of dark modules in a row.
            path.rect(
                left + column * module,
                top - (row_number + 1) * module,
                (run - column) * module,
                module,
            )
            column = run
    pdf.setFillColorRGB(0, 0, 0)
    pdf.drawPath(path, stroke=0, fill=1)


def order_pdf_render(*, order: Order, tickets: list[Ticket]) -> bytes:
    """A printable PDF: one A4 page per ticket with the event, the seat, the
    price, the buyer and the QR code."""
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, pageCompression=1)
    pdf.setTitle(f"Tickets for order {order.pk}")
    pdf.setAuthor("onsale")
    width, height = A4
    event = order.event
    for ticket in tickets:
        line = ticket.line
        top = height - 30 * mm
        pdf.setFont("Helvetica-Bold", 20)
        pdf.drawString(20 * mm, top, event.name[:60])
        pdf.setFont("Helvetica", 12)
        rows = [
            f"{event.venue_name} - {event.starts_at:%A %d %B %Y, %H:%M} UTC",
            f"Seat: {line.seat_label}",
            f"Category: {line.category_name}  Price: {line.price} {order.currency}",
            f"Order {order.pk} - {order.buyer_name} <{order.buyer_email}>",
            f"Ticket code: {ticket.code}",
        ]
        for offset, text in enumerate(rows, start=1):
            pdf.drawString(20 * mm, top - offset * 8 * mm, text)
        _draw_qr(
            pdf,
            ticket.qr_payload,
            left=(width - 70 * mm) / 2,
            top=top - 60 * mm,
            size=70 * mm,
        )
        pdf.setFont("Helvetica", 9)
        pdf.drawString(
            20 * mm,
            20 * mm,
            "Show this code at the entrance. Each code admits one person once.",
        )
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
