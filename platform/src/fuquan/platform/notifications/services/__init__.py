"""What the outbox does: templates, writing notices with their events, delivering SMS, the staff's inbox."""
