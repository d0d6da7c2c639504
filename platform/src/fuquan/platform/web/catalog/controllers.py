"""Web pages: 事项目录 (the edition in force, each item's elements, the editions and what each changed) and 事项维护
for the tenant's admin — an edit publishes a new edition in force from the day chosen; the verbs are the API's."""

from __future__ import annotations

from typing import Annotated, Any, Final

import msgspec
from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from fuquan.platform.accounts.actor import Actor
from fuquan.platform.catalog import services
from fuquan.platform.catalog.controllers import Edition
from fuquan.platform.catalog.schemas import ItemSpec
from fuquan.platform.catalog.services import Catalog, CatalogCache, element_text, item_spec
from fuquan.platform.core.db import on_commit
from fuquan.platform.core.errors import FuquanError, NotFound
from fuquan.platform.core.request_context import request_id_of
from fuquan.platform.core.timeutil import local_date, utcnow
from fuquan.platform.web.catalog.views import CHOICES, EditForm, edit_form, read_form
from fuquan.platform.web.pages import PageController, page, render

READ: Final = page("catalog.read")
MANAGE: Final = page("catalog.manage")
FormBody = Body(media_type=RequestEncodingType.URL_ENCODED)


async def _newest(session: AsyncSession, actor: Actor, code: str) -> tuple[ItemSpec, int]:
    """The item as the newest edition states it (a scheduled one included: an edit builds on it)."""
    known = await services.editions(session, actor.scope.whole())
    newest = known.all[-1].number
    catalog = await services.edition(session, actor.scope.whole(), newest)
    return item_spec(catalog.get(code)), newest


def _edit_page(actor: Actor, code: str, form: EditForm, *, problem: FuquanError | None = None,
               status_code: int = 200) -> Template:  # fmt: skip
    return render("catalog/edit.html", actor, status_code=status_code, code=code, form=form, choices=CHOICES,
                  problem=problem)  # fmt: skip


class CatalogPagesController(PageController):
    path = "/catalog"

    @get("/", opt=READ)
    async def index(
        self,
        actor: NamedDependency[Actor],
        catalog: NamedDependency[Catalog],
        db_session: NamedDependency[AsyncSession],
    ) -> Template:
        return render("catalog/index.html", actor, catalog=catalog, items=list(catalog.items.values()),
                      editions=await services.edition_reads(db_session, actor.scope.whole()),
                      names=CHOICES, manage="catalog.manage" in actor.permissions)  # fmt: skip

    @get("/items/{code:str}", opt=READ)
    async def item(
        self, code: FromPath[str], actor: NamedDependency[Actor], catalog: NamedDependency[Catalog],
        done: FromQuery[int] = 0,
    ) -> Template:  # fmt: skip
        spec = item_spec(catalog.get(code))
        return render("catalog/item.html", actor, item=spec, edition=catalog.edition, names=CHOICES,
                      text=element_text, done=done, manage="catalog.manage" in actor.permissions)  # fmt: skip

    @get("/items/{code:str}/edit", opt=MANAGE)
    async def edit(
        self, code: FromPath[str], actor: NamedDependency[Actor], db_session: NamedDependency[AsyncSession]
    ) -> Template:
        spec, newest = await _newest(db_session, actor, code)
        return _edit_page(actor, code, edit_form(spec, newest, local_date(utcnow(), actor.scope.timezone)))

    @post("/items/{code:str}/edit", opt=MANAGE)
    async def save(
        self, request: Request[Any, Any, Any], code: FromPath[str],
        data: Annotated[dict[str, Any], FormBody], actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession], catalogs: NamedDependency[CatalogCache],
    ) -> Template | Redirect:  # fmt: skip
        """发布新版本; a refused form comes back with the server's reason and what was typed."""
        base, _newest_number = await _newest(db_session, actor, code)
        try:
            revision = read_form(data, base)
            edition = await services.revise_item(
                db_session,
                actor.scope.whole(),
                revision,
                actor=actor.username,
                actor_id=actor.staff_id,
                request_id=request_id_of(request),
            )
        except NotFound:
            raise
        except FuquanError as problem:
            await db_session.rollback()
            typed = EditForm(_typed(data, base), _count(data, "material_rows"), _count(data, "field_rows"),
                             str(data.get("effective_from", "")), int(str(data.get("base_edition", "0")) or 0),
                             str(data.get("note", "")))  # fmt: skip
            return _edit_page(actor, code, typed, problem=problem, status_code=problem.status)
        on_commit(db_session, lambda: catalogs.told(actor.tenant_id, edition.number))
        return Redirect(f"{self.path}/editions/{edition.number}?done=1", status_code=303)

    @get("/editions/{number:int}", opt=READ)
    async def edition(
        self, number: Edition, actor: NamedDependency[Actor], db_session: NamedDependency[AsyncSession],
        done: FromQuery[int] = 0,
    ) -> Template:  # fmt: skip
        scope = actor.scope.whole()
        editions = {e.number: e for e in await services.edition_reads(db_session, scope)}
        if number not in editions:
            raise NotFound(f"事项目录第 {number} 版不存在")
        diff = await services.diff(db_session, scope, max(number - 1, 1), number) if number > 1 else None
        return render("catalog/edition.html", actor, edition=editions[number], diff=diff, done=done)


def _count(data: dict[str, Any], key: str) -> int:
    text = str(data.get(key, "0")).strip()
    return min(int(text), 200) if text.isdigit() else 0


def _typed(data: dict[str, Any], base: ItemSpec) -> dict[str, Any]:
    """What the refused form held, in the shape the template reads (rows as typed)."""
    values: dict[str, Any] = msgspec.to_builtins(base)
    for key in ("name", "legal_basis", "result_name", "item_type", "handling", "subject_nature", "power_source",
                "statutory_days", "promised_days", "accept_floor", "decide_floor"):  # fmt: skip
        values[key] = data.get(key, values[key])
    values["separation"], values["id_only"] = data.get("separation") == "on", data.get("id_only") == "on"
    values["conditions"] = str(data.get("conditions", "")).splitlines()
    values["flow"] = str(data.get("flow", "")).splitlines()
    values["fees_text"] = str(data.get("fees", ""))
    values["materials"] = [
        {"name": data.get(f"m{r}_name", ""), "required": data.get(f"m{r}_required") == "on",
         "pledge": data.get(f"m{r}_pledge") == "on", "deferrable": data.get(f"m{r}_deferrable") == "on",
         "shared": {"source": data.get(f"m{r}_source", ""), "evidence": data.get(f"m{r}_evidence", ""),
                    "subject": data.get(f"m{r}_subject", "applicant")}}
        for r in range(_count(data, "material_rows"))
    ]  # fmt: skip
    values["fields"] = [
        {"name": data.get(f"f{r}_name", ""), "label": data.get(f"f{r}_label", ""),
         "type": data.get(f"f{r}_type", "text"), "required": data.get(f"f{r}_required") == "on",
         "personal": data.get(f"f{r}_personal") == "on",
         "max_length": data.get(f"f{r}_max_length", ""), "options": [data.get(f"f{r}_options", "")]}
        for r in range(_count(data, "field_rows"))
    ]  # fmt: skip
    return values
