"""Supervision (电子监察): the dashboard, and the warnings pushed to whom they concern."""

from fuquan.platform.supervision.services.dashboard import dashboard

__all__ = ["dashboard"]
