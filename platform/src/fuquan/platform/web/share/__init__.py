"""Web pages: 共享应用管理 — the partner departments' applications of the data-sharing API, their keys and grants."""
