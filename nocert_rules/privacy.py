"""Personal data never leaves the library in clear (数据留痕 without exposing people).

ID numbers are masked for display and replaced by a keyed hash in audit records.
"""

from __future__ import annotations

import hashlib
import hmac


def mask_id(id_number: str) -> str:
    """Keep the first 3 and last 2 characters of an ID number, star the rest.

    ``370399199001011234`` -> ``370*************34``. Short values keep fewer characters
    so that at least half of any value is hidden.
    """
    value = id_number.strip()
    n = len(value)
    if n <= 2:
        return "*" * n
    if n < 10:
        return value[0] + "*" * (n - 2) + value[-1]
    return value[:3] + "*" * (n - 5) + value[-2:]


def mask_name(name: str) -> str:
    """Keep the first character of a name: ``张三丰`` -> ``张**``."""
    value = name.strip()
    return value[:1] + "*" * (len(value) - 1) if value else value


def keyed_hash(value: str, key: bytes) -> str:
    """HMAC-SHA256 of ``value`` under ``key``: links records of one person without revealing them."""
    return "hmac-sha256:" + hmac.new(key, value.strip().encode("utf-8"), hashlib.sha256).hexdigest()
