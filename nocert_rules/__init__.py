"""nocert_rules: decide how each certificate is replaced (无证明城市), clause by clause."""
