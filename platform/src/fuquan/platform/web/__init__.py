"""The staff web UI (DESIGN §11): server-rendered Jinja pages with sessions and CSRF-protected forms."""
