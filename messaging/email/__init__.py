"""Email: rendering, the outbox, sending, tracking and suppression, and the templates' one write."""
