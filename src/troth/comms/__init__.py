"""Email: message kinds from the declaration, templates, and the SMTP outbox."""
