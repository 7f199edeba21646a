"""Wire constants of EKP's org export service, shared by the client and the simulator (reference 1.1, 1.9, 2)."""

from __future__ import annotations

import hashlib

REST_SERVICE_PATH = "/api/sys-organization/sysSynchroGetOrg"
SOAP_SERVICE_PATH = "/sys/webservice/sysSynchroGetOrgWebService"

# EKP gives no web service to check a person's password; the domain-account login needs one, so we define a minimal
# REST method in EKP's /api/{module}/{service}/{method} style (an assumption; a real EKP needs it added).
PASSWORD_CHECK_PATH = "/api/sys-organization/sysOrgPersonPasswordCheck/checkPassword"

SOAP_ENV_NS = "http://schemas.xmlsoap.org/soap/envelope/"
ORG_OUT_NS = "http://out.webservice.organization.sys.kmss.landray.com/"
AUTH_HEADER_NS = "http://sys.webservice.client"

RETURN_NOT_PROCESSED = 0
RETURN_FAILURE = 1
RETURN_SUCCESS = 2

# SOAP fault strings of EKP's CallBeforeInterceptor (message keys; the localized text may differ per install).
FAULT_UNAUTHORIZED = "sysWs.errMsg.unauthorized.user"
FAULT_ILLEGAL_IP = "sysWs.errMsg.illegal.ip"
FAULT_LOCKED = "sysWs.errMsg.locked.user"


def md5_hex(password: str) -> str:
    """EKP stores SOAP policy passwords as lowercase MD5 hex of the UTF-8 bytes and compares the header with it."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()  # noqa: S324 - EKP's scheme, not our hashing
