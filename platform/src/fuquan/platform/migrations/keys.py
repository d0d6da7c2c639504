"""Data keys across the schema (DESIGN §10): every encrypted column, and the key ring that reads and rotates them.

Like ``metadata``, this is the one place that knows every feature's tables: a column holding ciphertexts that is
not listed here would be missed by re-encryption (a test checks every ``*_cipher`` column is).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from fuquan.integrations.models import PARTNER_SECRETS
from fuquan.platform.accounts.models import FACTOR_SECRETS
from fuquan.platform.cases.models import APPLICANT_SECRETS, CASE_FORM_SECRETS
from fuquan.platform.cases.repositories import CaseRepository
from fuquan.platform.cases.services.forms import seal_plain_forms
from fuquan.platform.certificates.models import CERTIFICATE_SECRETS
from fuquan.platform.core.config import Settings
from fuquan.platform.core.db import own_session
from fuquan.platform.core.keys.ciphers import LegacyCipher
from fuquan.platform.core.keys.master import MasterKeys
from fuquan.platform.core.keys.models import EncryptedColumns
from fuquan.platform.core.keys.repositories import DataKeyRepository
from fuquan.platform.core.keys.services import KeyRing
from fuquan.platform.escalations.models import ESCALATION_SECRETS
from fuquan.platform.notifications.models import SMS_SECRETS
from fuquan.platform.share.models import SHARE_SECRETS
from fuquan.tenants.repositories import TenantRepository
from fuquan.tenants.scope import whole_tenant

ENCRYPTED_COLUMNS: tuple[EncryptedColumns, ...] = (
    APPLICANT_SECRETS,
    CASE_FORM_SECRETS,
    PARTNER_SECRETS,
    FACTOR_SECRETS,
    SHARE_SECRETS,
    SMS_SECRETS,
    ESCALATION_SECRETS,
    CERTIFICATE_SECRETS,
)


def key_ring(settings: Settings, session_maker: async_sessionmaker[AsyncSession] | None = None) -> KeyRing:
    """The ring of ``FUQUAN_MASTER_KEY`` and the previous master keys still accepted. Data written before data keys
    existed (format 1) is read with ``FUQUAN_SECRET_KEY``, as it was written. With a session maker (an app
    process) each tenant's keys are cached; without one (a command) they are read through the command's session.
    """
    masters = MasterKeys.of(settings.master_key, settings.previous_master_keys)
    return KeyRing(masters, LegacyCipher(settings.secret_key), session_maker, ENCRYPTED_COLUMNS)


async def prepare_keys(ring: KeyRing, session_maker: async_sessionmaker[AsyncSession]) -> list[str]:
    """Every tenant's first keys, where it has none (the codes of the tenants given keys): before an app process
    serves, so that no request has to make them. Each tenant is checked, then checked again in a writing
    transaction: several processes starting at once make one set. Then the personal values of free case forms
    written before migration 0012 are encrypted with them (``seal_plain_forms``)."""
    async with own_session(session_maker, writes=False) as session:
        tenants = await TenantRepository(session).all()
        keyed = {key.tenant_id for key in await DataKeyRepository(session).all()}
    made = []
    for tenant in tenants:
        if tenant.id in keyed:
            continue
        async with own_session(session_maker, writes=True) as session, session.begin():
            if await ring.ensure(session, whole_tenant(tenant)):
                made.append(tenant.code)
    for tenant in tenants:
        scope = whole_tenant(tenant)
        async with own_session(session_maker, writes=False) as session:
            if not await CaseRepository(session).unsealed_forms(scope, 1):
                continue  # nothing to seal: no need to unwrap this tenant's keys (a command may lack the master key)
            cipher = await ring.cipher(scope, session)
        await seal_plain_forms(cipher, session_maker, scope)
    return made
