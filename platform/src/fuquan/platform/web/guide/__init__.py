"""Web pages: the public face — 办事指南, 权力清单和责任清单, 政策法规库 (no login)."""
