"""Orders: import from Plugg.to, approval and cancellation, invoice, tracking."""
