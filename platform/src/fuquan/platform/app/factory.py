"""The Litestar application factory."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import structlog
from advanced_alchemy.extensions.litestar import AsyncSessionConfig, SQLAlchemyAsyncConfig, SQLAlchemyPlugin
from litestar import Litestar, Request, Response
from litestar.config.response_cache import ResponseCacheConfig
from litestar.datastructures import State
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.logging.config import LoggingConfig, StructLoggingConfig, default_structlog_processors
from litestar.middleware import DefineMiddleware
from litestar.middleware.logging import LoggingMiddlewareConfig
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.openapi.spec import Components, SecurityScheme
from litestar.plugins.structlog import StructlogConfig, StructlogPlugin
from litestar.static_files import create_static_files_router
from litestar.stores.base import Store
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from sqlalchemy.exc import DBAPIError

from fuquan.authority.controllers import AuthorityController, GrantController
from fuquan.authority.registry import AuthorityRegistry
from fuquan.integrations.gateway.cache import ResponseCache
from fuquan.integrations.gateway.pool import GatewayPool
from fuquan.integrations.services import PartnerDirectory
from fuquan.integrations.sms.client import SmsGateway
from fuquan.platform.accounts.controllers import AuthController
from fuquan.platform.accounts.logins import LoginDirectory
from fuquan.platform.accounts.throttle import LoginThrottle
from fuquan.platform.app.assets import AssetFiles, FaviconController
from fuquan.platform.app.background import audit_sealer, background_work, channels_plugin, job_runner
from fuquan.platform.app.caching import bounded_cache, public_cache_key
from fuquan.platform.app.headers import security_headers
from fuquan.platform.app.health import HealthController
from fuquan.platform.app.input_guard import input_guard
from fuquan.platform.app.limits import limits
from fuquan.platform.app.metrics import PROMETHEUS, MetricsController, register_policy_metrics
from fuquan.platform.app.openapi import document_problems
from fuquan.platform.app.problems import (
    EXCEPTION_HANDLERS,
    fuquan_error_handler,
    http_error_handler,
    unexpected_error_handler,
    unreadable_input,
)
from fuquan.platform.app.request_id import request_id_header, request_id_middleware
from fuquan.platform.app.security import BearerTokenMiddleware, permission_guard, provide_actor, provide_scope
from fuquan.platform.app.transactions import commit_before_answer, database_error, writing_requests
from fuquan.platform.auditing.controllers import AuditController
from fuquan.platform.calendar.controllers import CalendarController
from fuquan.platform.calendar.services import calendar_for, provide_calendar
from fuquan.platform.cases.controllers import (
    ApplicantRevealController,
    CaseController,
    CaseDocumentController,
    PublicCaseController,
    provide_case_context,
)
from fuquan.platform.cases.services import CaseServices, PartnerAccess
from fuquan.platform.catalog.controllers import EditionController, ItemController
from fuquan.platform.catalog.services import CatalogCache, provide_catalog
from fuquan.platform.certificates.controllers import OrganKeyController, PublicCertificateController
from fuquan.platform.core.config import Settings, load_settings
from fuquan.platform.core.db import create_engine, session_factory
from fuquan.platform.core.errors import FuquanError
from fuquan.platform.core.files import FileStore, LocalFileStore
from fuquan.platform.core.object_files import ObjectFileStore
from fuquan.platform.core.versions.services import CALENDAR, TenantSettingCache
from fuquan.platform.escalations.controllers import EscalationController, PublicEscalationController
from fuquan.platform.migrations.keys import key_ring
from fuquan.platform.notifications.controllers import InboxController, SmsAdminController
from fuquan.platform.notifications.services.delivery import SmsDelivery
from fuquan.platform.organs.controllers import OrganController, ServicePointController
from fuquan.platform.public.controllers import PublicInformationController
from fuquan.platform.public.services.tenants import PublicDirectory
from fuquan.platform.share.controllers import (
    PublicDataUseController,
    ShareApiController,
    calling_key,
    counts_share_call,
    share_refusal,
)
from fuquan.platform.share.services.directory import ShareDirectory
from fuquan.platform.staff.controllers import StaffController
from fuquan.platform.supervision.controllers import (
    AccountabilityController,
    OrderController,
    PerformanceController,
    RankingController,
    SupervisionController,
)
from fuquan.platform.web.auth import CODE_PAGE as WEB_CODE_PATH
from fuquan.platform.web.auth import LOGIN_PAGE as WEB_LOGIN_PATH
from fuquan.platform.web.auth import PUBLIC_PAGES
from fuquan.platform.web.errors import page_for_http_error, page_for_unexpected
from fuquan.platform.web.routes import PAGE_CONTROLLERS
from fuquan.platform.web.sessions import csrf_config, session_config, template_config
from fuquan.tenants.controllers import UnitController

log = structlog.get_logger()

STATIC_DIR = Path(__file__).parent / "static"
LOGIN_PATH = "/api/v1/auth/token"
ENROLMENT_PATH = "/api/v1/auth/enrolment"  # checks a password too
# the public API whose answers a guessed code would open (the guides, lists and policies are public information)
PUBLIC_LOOKUPS = ("/api/v1/public/cases", "/api/v1/public/certificates", "/api/v1/public/escalations")


def _store_factory(settings: Settings) -> Any:
    if settings.redis_url:
        redis_root = RedisStore.with_client(url=settings.redis_url, namespace=settings.redis_namespace)

        def redis_store(name: str) -> Store:
            return redis_root.with_namespace(name)

        return redis_store

    def memory_store(_name: str) -> Store:
        return MemoryStore()

    return memory_store


# Per-client limits where guessing is the threat, each with its own count: logins, and the residents' progress
# lookups (a query code is guessable too). Coroutines: Litestar runs a plain function here in a worker thread,
# on every request.


def _login_attempt(method: str, path: str) -> bool:
    return path in (LOGIN_PATH, ENROLMENT_PATH, WEB_LOGIN_PATH, WEB_CODE_PATH) and method == "POST"


def _public_lookup(_method: str, path: str) -> bool:
    return path.startswith(PUBLIC_PAGES) or path.startswith(PUBLIC_LOOKUPS)


def _http_error(request: Request[Any, Any, Any], error: HTTPException) -> Response[Any]:
    """A browser on a web page gets a Chinese page; a partner's call an envelope; the API a problem document."""
    envelope = share_refusal(request, error.status_code, error.detail)
    if envelope is not None:
        envelope.headers.update(error.headers or {})
        if "RateLimit-Reset" in envelope.headers:  # the per-minute limit says when its window ends
            envelope.headers["Retry-After"] = envelope.headers["RateLimit-Reset"]
        return envelope
    return page_for_http_error(request, error) or http_error_handler(request, error)


def _refusal(request: Request[Any, Any, Any], error: FuquanError) -> Response[Any]:
    """A refusal raised outside any route (the input guard): a Chinese page on a web path, an envelope to a
    partner, else a problem document, with the log's id each way (routes answer their own refusals)."""
    answer = share_refusal(request, error.status, error.detail)
    page = page_for_http_error(request, HTTPException(status_code=error.status, detail=error.detail))
    return answer or page or fuquan_error_handler(request, error)


def _unexpected_error(request: Request[Any, Any, Any], error: Exception) -> Response[Any]:
    unreadable = unreadable_input(error)
    if unreadable is not None:  # the client's bytes, not our bug: a 400 that says so
        log.warning("request_unreadable", error_type=type(error).__name__)
        return _http_error(request, unreadable)
    response = unexpected_error_handler(request, error)  # logs it
    return share_refusal(request, 500, "系统内部错误") or page_for_unexpected(request) or response


def _database_error(request: Request[Any, Any, Any], error: DBAPIError) -> Response[Any]:
    problem = database_error(request, error)
    answer = share_refusal(request, problem.status_code or 503, "数据库暂不可用，请稍后重试")
    page = page_for_http_error(request, HTTPException(status_code=problem.status_code))
    return answer or page or problem


_CHATTY_LIBRARIES = ("httpx", "httpcore", "casbin")


def file_store_for(settings: Settings) -> FileStore:
    """Object storage when ``FUQUAN_FILES_URL`` names a bucket (several processes, no shared disk), else the
    embedded default: files under the data dir."""
    if settings.files_url:
        return ObjectFileStore.from_url(settings.files_url)
    return LocalFileStore(settings.data_dir / "files")


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or load_settings()
    engine = create_engine(settings.database_url)
    session_maker = session_factory(engine)
    registry = AuthorityRegistry(session_maker, freeze_gc=settings.gc_freeze)
    channels = channels_plugin(settings)
    keys = key_ring(settings, session_maker)
    file_store = file_store_for(settings)
    register_policy_metrics(registry)
    stores = StoreRegistry(default_factory=_store_factory(settings))
    partner_directory = PartnerDirectory(
        keys,
        GatewayPool(cache=ResponseCache(stores.get("partner_answers"), settings.secret_key.encode())),
        session_maker,
    )
    # without Redis each process has its own store, which no other process's logout can reach: keep it short
    logins = LoginDirectory(stores.get("logins"), session_maker, cache_seconds=60 if settings.redis_url else 1)
    throttle = LoginThrottle(
        stores.get("login_failures"), settings.login_failures_per_username, settings.login_lockout_seconds
    )

    catalogs = CatalogCache(session_maker)
    public_directory = PublicDirectory(registry, catalogs)
    calendars = TenantSettingCache(CALENDAR, calendar_for, session_maker)
    partners = PartnerAccess(
        partner_directory, session_maker, settings.shared_data_budget_seconds, settings.shared_data_concurrency
    )
    share_directory = ShareDirectory(keys, session_maker)
    case_services = CaseServices(catalogs, calendars, registry, keys, partners)
    sms = (
        SmsGateway(settings.sms_url, settings.sms_access_key, settings.sms_access_secret) if settings.sms_url else None
    )
    delivery = SmsDelivery(session_maker, keys, sms) if sms else None
    jobs = job_runner(settings, session_maker, registry, catalogs, keys, delivery)
    sealer = audit_sealer(settings, session_maker)
    closers = [partner_directory.aclose, engine.dispose, *([sms.aclose] if sms else [])]
    lifespan = background_work(session_maker, registry, keys, logins, channels, jobs, sealer, closers)

    sqlalchemy = SQLAlchemyAsyncConfig(
        engine_instance=engine,
        session_maker=session_maker,
        session_dependency_key="db_session",
        session_config=AsyncSessionConfig(expire_on_commit=False),
    )
    # 2xx and 3xx (forms redirect after POST) commit; a failed commit answers 409/503, never 2xx
    sqlalchemy.before_send_handler = commit_before_answer(sqlalchemy.session_scope_key)
    logging_config = StructLoggingConfig(
        processors=default_structlog_processors(as_json=settings.log_json),
        standard_lib_logging_config=LoggingConfig(
            log_exceptions="never",
            root={"level": settings.log_level, "handlers": ["queue_listener"]},
            # INFO is for what an operator acts on: not each partner call's HTTP line, nor Casbin's model
            loggers={name: {"level": "WARNING"} for name in _CHATTY_LIBRARIES},
        ),
        log_exceptions="never",
        pretty_print_tty=False,
        # the level the operator set (FUQUAN_LOG_LEVEL), whatever a command configured before serving
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[settings.log_level.upper()]),
        # a logger that caches its configuration on first use ignores any later configuration (a second
        # app in the same process, a command, a test capturing logs); the saving per call is negligible
        cache_logger_on_first_use=False,
    )
    structlog_plugin = StructlogPlugin(
        StructlogConfig(
            structlog_logging_config=logging_config,
            middleware_logging_config=LoggingMiddlewareConfig(
                request_log_fields=("path", "method"),  # never bodies, headers or query: they can carry personal data
                response_log_fields=["status_code"],
            ),
            # a line per request and response only at DEBUG: access logs are the load balancer's, and building
            # them cost every request even when the level then dropped them
            enable_middleware_logging=settings.log_level.upper() == "DEBUG",
        )
    )
    per_minute = limits([
        (_login_attempt, RateLimitConfig(("minute", settings.login_attempts_per_minute), store="rate_limit_logins")),
        (_public_lookup, RateLimitConfig(("minute", settings.public_lookups_per_minute), store="rate_limit_lookups")),
        (counts_share_call, RateLimitConfig(("minute", settings.share_calls_per_minute), store="rate_limit_share",
                                            identifier_for_request=calling_key)),
    ])  # fmt: skip
    openapi = OpenAPIConfig(
        title="Fuquan 赋权 API",
        version="1",
        description="赋权与办件平台接口。除登录与健康检查外，均需 Authorization: Bearer <令牌>。",
        path="/schema",
        render_plugins=[
            SwaggerRenderPlugin(
                js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                css_url="/static/vendor/swagger-ui/swagger-ui.css",
                standalone_preset_js_url="/static/vendor/swagger-ui/swagger-ui-standalone-preset.js",
                favicon="<link rel='icon' type='image/png' href='/static/vendor/swagger-ui/favicon-32x32.png'>",
            )
        ],
        components=Components(
            security_schemes={
                "BearerToken": SecurityScheme(type="http", scheme="bearer", description="POST /api/v1/auth/token 取得")
            }
        ),
        security=[{"BearerToken": []}],
    )
    app = Litestar(
        route_handlers=[
            HealthController,
            FaviconController,
            MetricsController,
            AuthController,
            UnitController,
            OrganController,
            ServicePointController,
            ItemController,
            EditionController,
            GrantController,
            AuthorityController,
            CalendarController,
            CaseController,
            CaseDocumentController,
            ApplicantRevealController,
            PublicCaseController,
            PublicCertificateController,
            PublicInformationController,
            OrganKeyController,
            SupervisionController,
            OrderController,
            AccountabilityController,
            PerformanceController,
            RankingController,
            StaffController,
            AuditController,
            ShareApiController,
            PublicDataUseController,
            InboxController,
            SmsAdminController,
            EscalationController,
            PublicEscalationController,
            *PAGE_CONTROLLERS,
            create_static_files_router(
                path="/static",
                directories=[STATIC_DIR],
                file_system=AssetFiles(),
                opt={"public": True, "exclude_from_auth": True},
                include_in_schema=False,
            ),
        ],
        middleware=[
            # counting costs every request a little: only when an operator has asked for metrics
            *([PROMETHEUS.middleware] if settings.metrics_token else []),
            request_id_middleware,
            input_guard,  # text the database cannot store is a 400 before anything reads it
            writing_requests,
            per_minute,
            session_config(settings, secure=settings.secure_cookies).middleware,
            DefineMiddleware(
                BearerTokenMiddleware,
                exclude=["^/schema", "^/static", "^/api/share/"],
                exclude_from_auth_key="exclude_from_auth",
            ),
        ],
        guards=[permission_guard],
        dependencies={
            "actor": Provide(provide_actor),
            "tenant_scope": Provide(provide_scope),
            "catalog": Provide(provide_catalog),
            "case_context": Provide(provide_case_context),
            "calendar": Provide(provide_calendar),
            "calendars": Provide(lambda: calendars, use_cache=True, sync_to_thread=False),
            "settings": Provide(lambda: settings, use_cache=True, sync_to_thread=False),
            "login_throttle": Provide(lambda: throttle, use_cache=True, sync_to_thread=False),
            "logins": Provide(lambda: logins, use_cache=True, sync_to_thread=False),
            "key_ring": Provide(lambda: keys, use_cache=True, sync_to_thread=False),
            "authority_registry": Provide(lambda: registry, use_cache=True, sync_to_thread=False),
            "catalogs": Provide(lambda: catalogs, use_cache=True, sync_to_thread=False),
            "public_directory": Provide(lambda: public_directory, use_cache=True, sync_to_thread=False),
            "session_maker": Provide(lambda: session_maker, use_cache=True, sync_to_thread=False),
            "file_store": Provide(lambda: file_store, use_cache=True, sync_to_thread=False),
            "partner_directory": Provide(lambda: partner_directory, use_cache=True, sync_to_thread=False),
            "case_services": Provide(lambda: case_services, use_cache=True, sync_to_thread=False),
            "share_directory": Provide(lambda: share_directory, use_cache=True, sync_to_thread=False),
        },
        exception_handlers={
            **EXCEPTION_HANDLERS,
            FuquanError: _refusal,
            HTTPException: _http_error,
            DBAPIError: _database_error,
            Exception: _unexpected_error,
        },
        before_send=[security_headers(tls=settings.secure_cookies), request_id_header],
        csrf_config=csrf_config(settings, secure=settings.secure_cookies),
        template_config=template_config(),
        plugins=[SQLAlchemyPlugin(config=sqlalchemy), structlog_plugin, channels],
        stores=stores,
        response_cache_config=ResponseCacheConfig(
            key_builder=public_cache_key(public_directory), cache_response_filter=bounded_cache
        ),
        openapi_config=openapi,
        lifespan=[lifespan],
        state=State(
            {
                "session_maker": session_maker,
                "settings": settings,
                "authority_registry": registry,
                "job_runner": jobs,
                "catalogs": catalogs,
                "logins": logins,
                "partner_directory": partner_directory,
            }
        ),
        debug=settings.debug,
    )
    document_problems(app, login=_login_attempt, lookup=_public_lookup)  # the OpenAPI document's error answers
    return app
