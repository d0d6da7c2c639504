"""Demo cases (演示办件): a few hundred realistic cases in every state, made through the real case services.

Every case is created, given its materials and moved along the transition table by the same
services the API calls (``create_case``, ``attach_upload``, ``set_material``, ``transition``), as
demo staff at the units that really hold the rights, so authorisation, routing (前台受理 → 后台审批
→ 统一出件), trace events (全程留痕) and audit records are all genuine. Applicants are synthetic
residents: made-up names and phone numbers, ID numbers that pass GB 11643 but belong to nobody.
Material photos are small generated PNGs of a blank "document", stored like any upload.

Demo data is back-dated
-----------------------
The services stamp every step with the current time, but supervision (电子监察) only has something
to show once cases have been open for days: deadlines running normally, nearly due (yellow) and
overdue (red), cases decided late, supplements and special procedures that stopped the clock.
Waiting real working days is not an option, so each case is first planned on a timeline in the
last ~30 days (working days and office hours on the tenant's calendar), then driven through the
services now, and then — in the same transaction, in one place (``_backdate``) — its timeline is
moved into the past: the case's created/accepted/decided/issued/closed instants, ``accepted_on``,
the deadline (recomputed with ``WorkingCalendar.add_working_days`` from the back-dated acceptance
day, exactly as acceptance computes it), the trace events' ``at`` and the accept event's deadline,
the pause dates (补正 and 特别程序), material timestamps and 容缺 due dates, the applicant's first
appearance, and the receipt number (which encodes the day a case entered; the number is taken from
the same per-unit, per-day counter as a live case, so it stays unique).

Audit records are **not** back-dated: they are hash-chained and say truthfully when the generator
ran (their ``receipt_no`` is the one the case had before back-dating; ``resource`` names the case
id). One extra audit record, ``demo.cases_backdated``, states that this was done and to how many
cases. Nothing in the case services allows back-dating; only this generator does it, to demo data.
"""

from fuquan.platform.setup.demo_cases.people import EXTRA_STAFF, scan_png
from fuquan.platform.setup.demo_cases.runner import add_demo_cases

__all__ = ["EXTRA_STAFF", "add_demo_cases", "scan_png"]
