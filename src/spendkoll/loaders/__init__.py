"""Loaders for the three nightly sources: ledger, contract register, e-commerce."""
