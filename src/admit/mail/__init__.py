"""E-mail: the outbox written with each change, composing messages, and the sender that delivers them."""
