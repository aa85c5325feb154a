"""Domain, SQL, warehouse client and embedded warehouse for impact-review (no UI imports)."""
