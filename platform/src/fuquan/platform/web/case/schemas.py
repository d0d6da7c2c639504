"""Form bodies of the case page (url-encoded, as a browser without JavaScript posts them)."""

from __future__ import annotations

import msgspec

from fuquan.platform.cases.state_machine import Action


class ActionForm(msgspec.Struct, kw_only=True):
    """One step on the case (受理、不予受理、补正、审批、特别程序、出件…).

    ``version`` is the one the page was rendered with: a case changed meanwhile is refused (409),
    never silently overwritten. ``materials`` (补正) arrives as one string or a list of them."""

    action: Action
    version: int
    reason: str = ""
    materials: str | list[str] = msgspec.field(default_factory=list)
    procedure: str = ""
    expected_days: str = ""

    @property
    def material_list(self) -> list[str]:
        return [self.materials] if isinstance(self.materials, str) else list(self.materials)


class ExtensionForm(msgspec.Struct, kw_only=True):
    """延长办理期限: the head's days (1–10) and the reason told to the applicant."""

    version: int
    days: str = ""
    reason: str = ""


class RevocationForm(msgspec.Struct, kw_only=True):
    """撤销准予决定: the head's reason (with the instrument, e.g. the 复议决定书's number)."""

    version: int
    reason: str = ""


class RevealForm(msgspec.Struct, kw_only=True):
    """查看完整身份信息: the purpose (用途) is required and recorded in the audit log."""

    purpose: str = ""
