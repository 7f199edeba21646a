"""SOAP envelope shape (what EKP's CXF endpoint receives) and parsing of its answers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from app.ekp.errors import EkpProtocolError
from app.ekp.protocol import AUTH_HEADER_NS, ORG_OUT_NS, SOAP_ENV_NS, md5_hex
from app.ekp.soap import SoapFault, build_envelope, parse_result


def test_envelope_carries_header_auth_and_unqualified_args() -> None:
    body = build_envelope(
        "getUpdatedElements",
        {"returnOrgType": '[{"type":"person"}]', "count": 500, "beginTimeStamp": None},
        "sync",
        md5_hex("123456"),
    )
    root = ET.fromstring(body)
    header = root.find(f"{{{SOAP_ENV_NS}}}Header/{{{AUTH_HEADER_NS}}}RequestSOAPHeader")
    assert header is not None
    assert header.findtext(f"{{{AUTH_HEADER_NS}}}user") == "sync"
    assert (
        header.findtext(f"{{{AUTH_HEADER_NS}}}password") == "e10adc3949ba59abbe56e057f20f883e"
    )  # well-known MD5 of 123456
    arg0 = root.find(f"{{{SOAP_ENV_NS}}}Body/{{{ORG_OUT_NS}}}getUpdatedElements/arg0")
    assert arg0 is not None
    assert {child.tag: child.text for child in arg0} == {"returnOrgType": '[{"type":"person"}]', "count": "500"}


def test_anonymous_envelope_has_no_header() -> None:
    assert b"RequestSOAPHeader" not in build_envelope("getElementsBaseInfo", {}, None, None)


def test_result_and_fault_parsing() -> None:
    ok = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV_NS}"><soap:Body>'
        f'<ns2:getUpdatedElementsResponse xmlns:ns2="{ORG_OUT_NS}">'
        "<return><count>1</count><message>[{&quot;id&quot;:&quot;a&quot;}]</message><returnState>2</returnState>"
        "<timeStamp>2024-01-01 00:00:00.000</timeStamp></return></ns2:getUpdatedElementsResponse></soap:Body>"
        "</soap:Envelope>"
    ).encode()
    assert parse_result(ok) == {
        "count": "1",
        "message": '[{"id":"a"}]',
        "returnState": "2",
        "timeStamp": "2024-01-01 00:00:00.000",
    }
    fault = (
        f'<soap:Envelope xmlns:soap="{SOAP_ENV_NS}"><soap:Body><soap:Fault><faultcode>soap:Server</faultcode>'
        "<faultstring>sysWs.errMsg.unauthorized.user</faultstring></soap:Fault></soap:Body></soap:Envelope>"
    ).encode()
    with pytest.raises(SoapFault) as caught:
        parse_result(fault)
    assert caught.value.text == "sysWs.errMsg.unauthorized.user"


@pytest.mark.parametrize(
    "body",
    [
        b"<html>proxy error</html>",
        b"<soap:Envelope",
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>',
    ],
)
def test_unusable_answers_are_protocol_errors(body: bytes) -> None:
    with pytest.raises(EkpProtocolError):
        parse_result(body)
