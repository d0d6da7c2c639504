"""Append-only audit log with a per-tenant SM3 hash chain (DESIGN §10)."""
