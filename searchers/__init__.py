"""tunelab."""
