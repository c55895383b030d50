"""The consent banner and the ledger of every cookie choice visitors make (CO5, CO6)."""
