"""Layer 5: tools over rulesets and case files: dry-run, lint, diff, guide check, YAML tests, reports."""
