"""工作日历: the Chinese working-day calendar with each tenant's holidays and make-up workdays (DESIGN §7)."""
