"""The grading harness: knows no assignment and imports no reference."""
