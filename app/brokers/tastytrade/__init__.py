"""Tastytrade: the REST connector and its pure wire-format functions."""
