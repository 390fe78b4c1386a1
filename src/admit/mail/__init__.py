"""E-mail delivery: composing messages from the services' views, the sender and the reminders it queues."""
