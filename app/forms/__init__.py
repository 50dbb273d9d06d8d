"""WTForms classes, one module per area: validation only (no writes, no permission checks)."""
