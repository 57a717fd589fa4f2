"""The SQL side of the store: one repository module per context, the unit of work and Database."""
