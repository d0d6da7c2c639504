"""Web pages: 前台受理与后台审批."""
