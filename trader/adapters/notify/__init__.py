"""Alert delivery channels."""
