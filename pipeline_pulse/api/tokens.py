"""API tokens: create, revoke and check them; the only code that writes ApiToken rows.

A token reads `pp_<prefix>_<secret>`: the prefix (public, 8 characters) finds the row, the
secret (32 random bytes) proves possession. Only the SHA-256 of the whole token is stored, so
a leaked database does not leak working tokens; a fast hash is enough because the secret is
high-entropy random data, not a password.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from pipeline_pulse.models import ApiToken, TokenScope, acting_user

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser, User

# The tokens' public marker, not a secret.
TOKEN_PREFIX = "pp"  # noqa: S105  # nosec B105
PREFIX_LENGTH = 8
_PREFIX_ALPHABET = string.ascii_lowercase + string.digits
# last_used_at is written at most this often per token: a busy integration must not cost a
# write per request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_prefix() -> str:
    return "".join(secrets.choice(_PREFIX_ALPHABET) for _ in range(PREFIX_LENGTH))


@transaction.atomic
def api_token_create(
    *,
    user: User,
    name: str,
    created_by: User | AnonymousUser | None,
    scope: TokenScope,
    expires_at: datetime | None = None,
) -> tuple[ApiToken, str]:
    """A new token for `user` with `scope`, refused from `expires_at` on (never, if None);
    returns the row and the token, which is never available again. ValidationError for an
    expiry that has already passed."""
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationError({"expires_at": "Choose a moment in the future."})
    prefix = _new_prefix()
    while ApiToken.objects.filter(prefix=prefix).exists():  # 36^8 prefixes: practically never
        prefix = _new_prefix()
    raw = f"{TOKEN_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    token = ApiToken.objects.create(
        user=user,
        name=name.strip(),
        prefix=prefix,
        token_hash=_hash(raw),
        created_by=acting_user(created_by),
        scope=scope,
        expires_at=expires_at,
    )
    return token, raw


@transaction.atomic
def api_token_revoke(*, token: ApiToken, user: User | AnonymousUser | None) -> ApiToken:
    """Revoke a token now; it is refused from the next request on. Revoking twice is a no-op."""
    locked = ApiToken.objects.select_for_update().get(pk=token.pk)
    if locked.revoked_at is None:
        locked.revoked_at = timezone.now()
        locked.revoked_by = acting_user(user)
        locked.save(update_fields=["revoked_at", "revoked_by"])
    return locked


def api_token_find(raw: str) -> ApiToken | None:
    """The active token `raw` is, or None (malformed, unknown, wrong secret, revoked or
    expired)."""
    parts = raw.split("_", 2)
    if len(parts) != 3 or parts[0] != TOKEN_PREFIX or len(parts[1]) != PREFIX_LENGTH:
        return None
    token = ApiToken.objects.active().select_related("user").filter(prefix=parts[1]).first()
    if token is None or not hmac.compare_digest(token.token_hash, _hash(raw)):
        return None
    return token


def api_token_touch(*, token: ApiToken) -> None:
    """Record that the token was used, unless that was already recorded in the last minute."""
    now = timezone.now()
    if token.last_used_at is not None and now - token.last_used_at < LAST_USED_RESOLUTION:
        return
    # Conditional, so concurrent requests of one token write the row once.
    ApiToken.objects.filter(pk=token.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)
    token.last_used_at = now
