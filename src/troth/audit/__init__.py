"""The tamper-evident audit log: who did what to whose data, for which purpose, and the outcome."""
