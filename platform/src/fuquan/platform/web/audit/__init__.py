"""Web pages: 审计查阅."""
