"""Use cases: each opens one transaction, takes its locks and commits once."""
