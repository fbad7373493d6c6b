"""Alpaca: the connector (alpaca-py off the loop), its pure parsers, error mapping, order requests and SDK imports."""
