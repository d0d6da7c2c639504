"""Notifications (DESIGN §13): one transactional outbox — the staff's in-app inbox (站内消息) and SMS to residents
by approved template through the SMS platform — written in the transaction of the event that causes it."""
