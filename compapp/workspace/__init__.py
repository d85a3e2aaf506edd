"""The team's workspace: the pages and work that read both books and pay (hand-offs,
stand-ups, balance, metrics, history, imports and their follow-up of approved quarters)."""
