"""Web pages: 赋权管理."""
