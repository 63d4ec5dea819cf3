"""Pure domain: models, policy, routing, validation and errors. No I/O here."""
