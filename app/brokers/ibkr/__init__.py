"""Interactive Brokers: the TWS connector, its pure mappings, order tracking and connection life cycle."""
