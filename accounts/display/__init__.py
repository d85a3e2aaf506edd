"""How tables and charts show on every page, books and pay alike."""
