"""Web pages: 人员管理."""
