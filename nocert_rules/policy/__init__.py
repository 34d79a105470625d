"""Layer 3: the ruleset files, their loading and the condition language."""
