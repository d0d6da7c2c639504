"""Periodic jobs: one runner per process; a job either runs in every process (catching up with the
policy log) or once per time slot across all replicas (compaction, warnings, retention)."""
