"""SOAP envelopes for ``sysSynchroGetOrgWebService`` (client side), with the stdlib XML parser.

EKP's CXF endpoint takes one ``arg0`` element with unqualified children and answers ``<return>`` with
``count/message/returnState/timeStamp``; auth travels in a ``RequestSOAPHeader`` (reference 1.9, 2.1).
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from xml.sax.saxutils import escape

from app.ekp.errors import EkpProtocolError
from app.ekp.protocol import AUTH_HEADER_NS, ORG_OUT_NS, SOAP_ENV_NS


class SoapFault(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(f"{code}: {text}")
        self.code = code
        self.text = text


def build_envelope(method: str, args: Mapping[str, str | int | None], user: str | None, password: str | None) -> bytes:
    """The request envelope; ``password`` is sent as given (the caller decides plain or MD5)."""
    header = ""
    if user:
        header = (
            f"<soapenv:Header><tns:RequestSOAPHeader><tns:user>{escape(user)}</tns:user>"
            f"<tns:password>{escape(password or '')}</tns:password></tns:RequestSOAPHeader></soapenv:Header>"
        )
    fields = "".join(f"<{name}>{escape(str(value))}</{name}>" for name, value in args.items() if value is not None)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?>'
        f'<soapenv:Envelope xmlns:soapenv="{SOAP_ENV_NS}" xmlns:out="{ORG_OUT_NS}" xmlns:tns="{AUTH_HEADER_NS}">'
        f"{header}<soapenv:Body><out:{method}><arg0>{fields}</arg0></out:{method}></soapenv:Body></soapenv:Envelope>"
    ).encode()


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def parse_document(body: bytes) -> ET.Element:
    # A SOAP answer never needs a DTD; refusing one keeps entity-expansion tricks out of the parser.
    if b"<!DOCTYPE" in body[:2048].upper():
        raise EkpProtocolError("SOAP answer contains a DTD")
    try:
        return ET.fromstring(body)
    except ET.ParseError as exc:
        raise EkpProtocolError(f"SOAP answer is not XML: {exc}") from exc


def find_fault(root: ET.Element) -> SoapFault | None:
    for node in root.iter():
        if _local(node.tag) == "Fault":
            code = text = ""
            for child in node:
                if _local(child.tag) == "faultcode":
                    code = (child.text or "").strip()
                elif _local(child.tag) == "faultstring":
                    text = (child.text or "").strip()
            return SoapFault(code, text)
    return None


def parse_result(body: bytes) -> dict[str, str | None]:
    """Fields of the ``<return>`` element as text; raises :class:`SoapFault` for a fault."""
    root = parse_document(body)
    fault = find_fault(root)
    if fault is not None:
        raise fault
    for node in root.iter():
        if _local(node.tag) == "return":
            return {_local(child.tag): child.text for child in node}
    raise EkpProtocolError("SOAP answer has no <return> element")
