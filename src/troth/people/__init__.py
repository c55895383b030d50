"""People: customer records with provenance, payment tokens and the recipients who may see them."""
