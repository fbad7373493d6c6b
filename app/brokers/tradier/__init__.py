"""Tradier: the REST connector, its pure wire-format functions and its HTTP plumbing."""
