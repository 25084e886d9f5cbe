"""Similar and duplicate requirements: the text index, duplicate groups, one decision for many."""
