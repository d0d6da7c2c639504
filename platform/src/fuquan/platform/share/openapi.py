"""The partners' OpenAPI document of /api/share/v1: the signature scheme, each dataset's question and answer, the
envelope's codes with examples — built from the same tables the API answers from (``schemas.DATASETS``, the query
structs), so the document cannot drift from what is served."""

from __future__ import annotations

from functools import cache
from typing import Any, Final

import msgspec

from fuquan.integrations.gateway.protocol import (
    HEADER_APP_KEY,
    HEADER_NONCE,
    HEADER_PURPOSE,
    HEADER_REQUEST_ID,
    HEADER_SIGNATURE,
    HEADER_TIMESTAMP,
    HEADER_USER_ID,
    TIMESTAMP_WINDOW_SECONDS,
    ResultCode,
)
from fuquan.platform.share.schemas import (
    BATCH_LIMIT,
    DATASETS,
    FEED_DATASET,
    PERSONAL_FIELDS,
    PURPOSES,
    BatchQuery,
    VerifyQuery,
)

PREFIX: Final = "/api/share/v1"

SIGNING: Final = f"""
## 签名（HMAC-SM3，与赋权调用各部门网关的协议相同）

每次调用带以下请求头：

| 请求头 | 内容 |
|---|---|
| `{HEADER_APP_KEY}` | 应用密钥编号（登记应用时发放，如 `fq640202-1a2b3c4d5e6f7a8b`） |
| `{HEADER_TIMESTAMP}` | Unix 秒；与服务器时间相差不超过 ±{TIMESTAMP_WINDOW_SECONDS} 秒 |
| `{HEADER_NONCE}` | 随机串（最长 64 位），同一密钥只能用一次 |
| `{HEADER_REQUEST_ID}` | 本次请求编号，原样回传 |
| `{HEADER_PURPOSE}` | `用途:本部门案卷或业务编号`，如 `dibao_eligibility:MZ2026-0153`；用途须在授权之内 |
| `{HEADER_USER_ID}` | 本部门经办人 |
| `{HEADER_SIGNATURE}` | 见下 |

签名原文为六行，以 `\\n` 连接：

```
METHOD
path（含查询串，如 /api/share/v1/feeds/cases?cursor=120）
X-App-Key
X-Timestamp
X-Nonce
hex(SM3(请求体原始字节))   （无请求体时为空串的 SM3）
```

`X-Signature = hex(HMAC-SM3(签名密钥, 原文))`，小写十六进制。

命令行示例（OpenSSL 3 支持 SM3）：

```sh
BODY='{{"id_number":"640202199001011234"}}'
TS=$(date +%s); NONCE=$(openssl rand -hex 16); KEY=fq640202-...; SECRET=...
P=/api/share/v1/employment/unemployment_registration
H=$(printf '%s' "$BODY" | openssl dgst -sm3 -r | cut -d' ' -f1)
SIG=$(printf 'POST\\n%s\\n%s\\n%s\\n%s\\n%s' "$P" "$KEY" "$TS" "$NONCE" "$H" \\
      | openssl dgst -sm3 -hmac "$SECRET" -r | cut -d' ' -f1)
curl -s "https://赋权地址$P" -H 'Content-Type: application/json' -H "X-App-Key: $KEY" -H "X-Timestamp: $TS" \\
  -H "X-Nonce: $NONCE" -H "X-Request-Id: $NONCE" -H 'X-Purpose: dibao_eligibility:MZ2026-0153' \\
  -H 'X-User-Id: mz_zhang' -H "X-Signature: $SIG" --data-binary "$BODY"
```

## 答复

一律为 `{{"code", "msg", "data"}}`：

| code | HTTP | 含义 |
|---|---|---|
| `00` | 200 | 成功，`data` 为答复 |
| `10` | 404 | 查无此记录、数据集或接口不存在 |
| `20` | 400 / 413 | 参数错误（请求头、请求体、身份证号码、批量超过 {BATCH_LIMIT} 人、请求体过大） |
| `30` | 401 | 应用密钥无效、已暂停或过期，时间戳超出范围，签名无效，随机数重复 |
| `31` | 403 | 未获授权：数据集、用途、字段，或调用地址不在登记范围 |
| `40` | 429 | 调用过于频繁或超过当日配额，见 `Retry-After`（秒） |
| `50` | 500 | 系统内部错误 |
| `51` | 503 | 暂不可用，请稍后重试 |

核验优先于查询：答复只回答所问之事（如“是否登记失业、自何日起”），只含授权的字段；身份证号码、姓名未获授权时脱敏。
`on_record` 为 false 表示本平台在授权区域内没有此人的记录（区域外的人与查无此人答复相同）。每次调用都记入调用日志，
居民可在办件进度查询页看到哪个部门因何查询过本人信息。
"""

_ERRORS: Final = {
    "400": ("参数错误", ResultCode.BAD_REQUEST, "查询对象：身份证号码校验位不正确，请核对后重新输入"),
    "401": ("签名、密钥、时间戳或随机数无效", ResultCode.AUTH_FAILED, "签名无效"),
    "403": (
        "未获授权",
        ResultCode.FORBIDDEN,
        "用途 court_enforcement 未获授权；本应用使用该数据集的用途只有：最低生活保障审核确认（dibao_eligibility）",
    ),
    "404": ("数据集不存在", ResultCode.NOT_FOUND, "没有数据集 employment/unknown"),
    "413": ("请求体过大", ResultCode.BAD_REQUEST, "请求体过大（不超过 64 KB）"),
    "429": ("调用过于频繁或超过当日配额", ResultCode.RATE_LIMITED, "调用过于频繁，请按 Retry-After 头（秒）稍后重试"),
    "503": ("暂不可用", ResultCode.UNAVAILABLE, "数据库暂不可用，请稍后重试"),
}

_EXAMPLES: Final[dict[str, dict[str, Any]]] = {
    "employment/unemployment_registration": {"registered": True, "since": "2026-03-02", "unit": "640202001"},
    "employment/difficulty_recognition": {"recognised": True, "category": "连续失业一年以上", "valid_until": None},
    "insurance/resident_pension": {"enrolled": True, "receiving": False, "since": "2024-07-01"},
    "cards/social_security_card": {"status": "normal"},
    "cases/results": {
        "cases": [
            {"receipt_no": "640202-20261105-000123", "item": "HRSS-02", "decision": "准予", "decided_at": "2026-11-06"}
        ]
    },
}


def _envelope(data: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["code", "msg"],
        "properties": {
            "code": {"type": "string", "enum": [str(code) for code in ResultCode]},
            "msg": {"type": "string"},
            "data": data or {},
        },
    }


def _answer_schema(code: str) -> dict[str, Any]:
    dataset = DATASETS[code]
    identity = {
        "id_number": {"type": "string", "description": "身份证号码（未授权 id_number 字段时脱敏）"},
        "name": {"type": ["string", "null"], "description": "姓名（未授权 name 字段时脱敏；无记录时为 null）"},
        "on": {"type": "string", "format": "date", "description": "核验日期"},
        "on_record": {"type": "boolean", "description": "本平台在授权区域内是否有此人的记录"},
    }
    fields: dict[str, Any] = {
        name: {"description": label} for name, label in dataset.fields.items() if name not in PERSONAL_FIELDS
    }
    if code == "cases/results":
        fields = {"cases": {"type": "array", "items": {"type": "object", "properties": fields}}}
    return {
        "type": "object",
        "properties": {**identity, **fields},
        "description": "只含授权（或请求 fields 所列）的字段",
    }


def _responses(data: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    answers: dict[str, Any] = {
        "200": {
            "description": "成功（code 00）",
            "content": {
                "application/json": {
                    "schema": _envelope(data),
                    "example": {
                        "code": "00",
                        "msg": "依据本平台办结记录及留存的人社业务系统核验结果作答",
                        "data": example,
                    },
                }
            },
        },
    }
    for status, (title, code, msg) in _ERRORS.items():
        answers[status] = {
            "description": f"{title}（code {code}）",
            "content": {"application/json": {"schema": _envelope(None), "example": {"code": str(code), "msg": msg}}},
        }
    return answers


def _headers() -> list[dict[str, Any]]:
    described = {
        HEADER_APP_KEY: "应用密钥编号",
        HEADER_TIMESTAMP: "Unix 秒（±300 秒）",
        HEADER_NONCE: "随机串，单次有效",
        HEADER_REQUEST_ID: "请求编号",
        HEADER_PURPOSE: "用途:本部门案卷编号",
        HEADER_USER_ID: "本部门经办人",
        HEADER_SIGNATURE: "HMAC-SM3 签名（见文档说明）",
    }
    return [
        {"name": name, "in": "header", "required": True, "description": text, "schema": {"type": "string"}}
        for name, text in described.items()
    ]


def _purposes(codes: tuple[str, ...]) -> str:
    return "；".join(f"`{code}` {PURPOSES[code]}" for code in codes)


@cache
def share_document() -> dict[str, Any]:
    (verify_schema, batch_schema), components = msgspec.json.schema_components(
        [VerifyQuery, BatchQuery], ref_template="#/components/schemas/{name}"
    )
    paths: dict[str, Any] = {}
    for code, dataset in DATASETS.items():
        if code == FEED_DATASET:
            continue
        answer = _answer_schema(code)
        example = {
            "id_number": "6402**********1234",
            "name": "张*",
            "on": "2026-12-07",
            "on_record": True,
            **_EXAMPLES[code],
        }
        fields = "、".join(f"`{name}` {label}" for name, label in dataset.fields.items())
        about = f"可授权用途：{_purposes(dataset.purposes)}。\n\n字段：{fields}。"
        paths[f"{PREFIX}/{code}"] = {
            "post": {
                "summary": f"{dataset.title}（单个）",
                "description": about,
                "operationId": f"verify_{code.replace('/', '_')}",
                "tags": [code.split("/")[0]],
                "parameters": _headers(),
                "requestBody": {"required": True, "content": {"application/json": {"schema": verify_schema}}},
                "responses": _responses(answer, example),
            }
        }
        paths[f"{PREFIX}/{code}/batch"] = {
            "post": {
                "summary": f"{dataset.title}（批量，至多 {BATCH_LIMIT} 人）",
                "description": about,
                "operationId": f"verify_batch_{code.replace('/', '_')}",
                "tags": [code.split("/")[0]],
                "parameters": _headers(),
                "requestBody": {"required": True, "content": {"application/json": {"schema": batch_schema}}},
                "responses": _responses(
                    {
                        "type": "object",
                        "properties": {"count": {"type": "integer"}, "results": {"type": "array", "items": answer}},
                    },
                    {"count": 1, "results": [example]},
                ),
            }
        }
    feed = DATASETS[FEED_DATASET]
    event = {
        "type": "object",
        "properties": {
            "cursor": {"type": "string"},
            **{name: {"description": label} for name, label in feed.fields.items() if name not in PERSONAL_FIELDS},
        },
    }
    paths[f"{PREFIX}/feeds/cases"] = {
        "get": {
            "summary": feed.title,
            "operationId": "case_feed",
            "tags": ["feeds"],
            "description": (
                f"按游标拉取办件过程事件（受理、补正、办结、出件…），可重放：同一游标得到相同事件；"
                f"事件写入约 5 秒后可见。签名的 path 含查询串。可授权用途：{_purposes(feed.purposes)}。"
            ),
            "parameters": [
                *_headers(),
                {"name": "cursor", "in": "query", "schema": {"type": "string"}, "description": "上一页的 next_cursor"},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500}},
            ],
            "responses": _responses(
                {
                    "type": "object",
                    "properties": {
                        "events": {"type": "array", "items": event},
                        "next_cursor": {"type": "string"},
                        "more": {"type": "boolean"},
                    },
                },
                {"events": [], "next_cursor": "0", "more": False},
            ),
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "赋权 数据共享接口（供合作部门调用）", "version": "1", "description": SIGNING},
        "paths": paths,
        "components": {"schemas": components},
    }
